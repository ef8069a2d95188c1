"""Keep what the public sees in step with volunteer data.

- The page cache: the 志愿服务 pages (teams' members and hours, the time bank's
  totals) and an activity page's posts (places left) depend on the ``seats``
  generation (``volunteers/public.py``, ``volunteers/wagtail_hooks.py``); any
  saved or deleted team, volunteer, record, ledger line, post, post sign-up or
  the 志愿服务设置 bumps it (after the commit too: ``portal.pagecache.bump``).
- The search: a team's name and description are documents of the 志愿服务 page
  (``VolunteerIndexPage.search_routes``); a team saved or deleted refreshes the
  documents of every 志愿服务 page once the transaction commits.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from portal import pagecache

SEAT_MODELS = (
    "Team",
    "Volunteer",
    "ServiceRecord",
    "TimeBankEntry",
    "VolunteerPost",
    "PostSignup",
    "VolunteerSettings",
)


def data_changed(sender, **kwargs):
    if kwargs.get("raw"):
        return
    pagecache.bump("seats")


def reindex_volunteer_pages() -> None:
    from search import documents

    from .pages import VolunteerIndexPage

    documents.refresh_pages(VolunteerIndexPage.objects.live())


def team_changed(sender, **kwargs):
    if kwargs.get("raw"):
        return
    transaction.on_commit(reindex_volunteer_pages)


def connect() -> None:
    from django.apps import apps

    from .models import Volunteer

    for name in SEAT_MODELS:
        model = apps.get_model("volunteers", name)
        for signal in (post_save, post_delete):
            signal.connect(
                data_changed,
                sender=model,
                dispatch_uid=f"volunteers.seats.{name}.{signal is post_save}",
            )
    # Team membership: a volunteer joining or leaving a team changes its count.
    m2m_changed.connect(
        data_changed, sender=Volunteer.teams.through, dispatch_uid="volunteers.m2m"
    )
    for signal in (post_save, post_delete):
        signal.connect(
            team_changed,
            sender=apps.get_model("volunteers", "Team"),
            dispatch_uid=f"volunteers.team.search.{signal is post_save}",
        )

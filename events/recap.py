"""活动回顾: after a session of an activity has ended, draft a news article about it.

``draft_recap`` is the one place that does it, for the button on the activity's
edit view and the one in 报名管理 (events/staff/recap.py). The draft goes where
the activity belongs — under its community page, or under 街道动态 for a
subdistrict-wide activity — is owned by the editor who asked, and is not
published: the editor adds photos and text and submits it to the same approval
as any article. The article remembers its activity (``ArticlePage.recap_of``), so
asking again opens the same draft, and the activity page links to it once live.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.text import Truncator

from core.slugs import pinyin_slug, unique_slug
from home.models import ArticlePage, NewsIndexPage
from portal import pagecache

from .models import EventStatus, Occurrence, Registration, RegistrationStatus

TITLE_PREFIX = "活动回顾："
PLACEHOLDER = "（请在这里写活动经过和居民的反响，照片传到下面的照片墙。）"

MESSAGES = {
    "not_ended": "活动还没有结束。第一场结束后才能起草活动回顾。",
    "cancelled": "活动已取消，没有可回顾的场次。",
    "no_parent": "没有找到可以发布这篇回顾的栏目（所属社区页面或街道动态）。",
    "forbidden": "您没有在“{parent}”下新建文章的权限，不能为这个活动起草回顾。",
}


class RecapError(Exception):
    """Why no recap was drafted; ``message`` is shown to the editor as is."""

    def __init__(self, code: str, **params):
        self.code = code
        self.message = MESSAGES[code].format(**params)
        super().__init__(self.message)


@dataclass(frozen=True)
class Figures:
    """What an activity's ended sessions come to: sessions held, people signed up
    (confirmed sign-ups, party sizes added) and people checked in."""

    sessions: int
    signed_up: int
    checked_in: int
    first: datetime | None
    last: datetime | None
    last_end: datetime | None


def ended_sessions(event, now=None):
    now = now or timezone.now()
    return Occurrence.objects.filter(page_id=event.pk, cancelled=False).filter(
        Q(end__lt=now) | Q(end__isnull=True, start__lt=now)
    )


def figures(event, now=None) -> Figures:
    """Two queries, however many sessions and sign-ups there are."""
    sessions = ended_sessions(event, now)
    span = sessions.aggregate(
        count=Count("pk"),
        first=Min("start"),
        last=Max("start"),
        last_end=Max("end"),
    )
    confirmed = Registration.objects.filter(
        occurrence__in=sessions, status=RegistrationStatus.CONFIRMED
    ).aggregate(
        signed_up=Sum("party_size"),
        checked_in=Sum("party_size", filter=Q(checked_in_at__isnull=False)),
    )
    return Figures(
        sessions=span["count"],
        signed_up=confirmed["signed_up"] or 0,
        checked_in=confirmed["checked_in"] or 0,
        first=span["first"],
        last=span["last"],
        last_end=span["last_end"],
    )


def recap_parent(event):
    """The page the recap goes under: the activity's community page, or for a
    subdistrict-wide activity the 街道动态 of the activity's site."""
    if event.community_id:
        return event.community
    return NewsIndexPage.objects.filter(path__startswith=event.home_path).first()


def can_draft(event, user) -> bool:
    """Whether ``user`` may add an article where the recap would go (Wagtail's
    page permissions, so it follows the editorial groups)."""
    parent = recap_parent(event)
    return parent is not None and _may_add_article(parent, user)


def _may_add_article(parent, user) -> bool:
    return (
        parent.permissions_for_user(user).can_add_subpage()
        and ArticlePage.can_create_at(parent)
    )


def existing_recap(event):
    """The article already drafted for ``event`` (live or not), or None."""
    return ArticlePage.objects.filter(recap_of_id=event.pk).order_by("pk").first()


def live_recap_link(event) -> tuple[str, str] | None:
    """(url, title) of the live recap for the activity page; remembered under the
    content generation (a publish changes it), so the page's query count does
    not change."""

    def build():
        article = (
            ArticlePage.objects.live()
            .filter(recap_of_id=event.pk)
            .order_by("pk")
            .first()
        )
        return (article.url, article.title) if article is not None else None

    return pagecache.remember(f"recap:{event.pk}", build)


def draft_recap(event, *, user, now=None) -> tuple[ArticlePage, bool]:
    """The recap draft of ``event`` and whether it was created now.

    Preconditions: the activity is not cancelled and one of its sessions has
    ended; ``user`` may add pages where the recap goes. An existing recap is
    returned as it is (a second click opens the first draft). Raises
    ``RecapError`` (``not_ended``, ``cancelled``, ``no_parent``, ``forbidden``);
    nothing is stored then.
    """
    now = now or timezone.now()
    parent = recap_parent(event)
    if parent is None:
        raise RecapError("no_parent")
    if not _may_add_article(parent, user):
        raise RecapError("forbidden", parent=parent.title)
    with transaction.atomic():
        # Two clicks at once: the second waits here and finds the first's draft.
        type(event).objects.select_for_update().filter(pk=event.pk).first()
        found = existing_recap(event)
        if found is not None:
            return found, False
        if event.status == EventStatus.CANCELLED:
            raise RecapError("cancelled")
        numbers = figures(event, now)
        if not numbers.sessions:
            raise RecapError("not_ended")
        article = ArticlePage(
            title=f"{TITLE_PREFIX}{event.title}",
            date=timezone.localdate(numbers.last),
            community_id=event.community_id,
            cover_id=event.cover_id,
            summary=_summary(event, numbers),
            body=_body(event, numbers),
            owner=user,
            live=False,
            recap_of_id=event.pk,
        )
        article.slug = unique_slug(pinyin_slug(article.title), parent)
        parent.add_child(instance=article)
        article.save_revision(user=user, log_action=True)
    return article, True


def _when(event, numbers: Figures) -> str:
    first = timezone.localtime(numbers.first)
    if numbers.sessions > 1:
        last = timezone.localtime(numbers.last)
        return (
            f"{date_format(first, 'Y年n月j日')}至{date_format(last, 'n月j日')}，"
            f"共 {numbers.sessions} 场"
        )
    text = date_format(first, "Y年n月j日 l")
    if not event.all_day:
        text += " " + date_format(first, "H:i")
        if numbers.last_end:
            text += "–" + date_format(timezone.localtime(numbers.last_end), "H:i")
    return text


def _summary(event, numbers: Figures) -> str:
    where = event.community.title if event.community_id else "花园路街道"
    text = (
        f"{date_format(timezone.localtime(numbers.last), 'n月j日')}，{where}在"
        f"{event.venue}举办{event.title}，{numbers.signed_up} 人报名，"
        f"{numbers.checked_in} 人签到。"
    )
    return Truncator(text).chars(200)


def _body(event, numbers: Figures) -> list:
    facts = [
        {"figure": f"{numbers.signed_up} 人", "label": "报名"},
        {"figure": f"{numbers.checked_in} 人", "label": "签到"},
    ]
    if numbers.sessions > 1:
        facts.insert(0, {"figure": f"{numbers.sessions} 场", "label": "举办"})
    lines = [f"时间：{_when(event, numbers)}", f"地点：{escape(event.venue)}"]
    if event.community_id:
        lines.append(f"社区：{escape(event.community.title)}")
    return [
        ("paragraph", "<p>" + "<br/>".join(lines) + "</p>"),
        ("paragraph", f"<p>{PLACEHOLDER}</p>"),
        ("facts", facts),
        ("gallery", []),
        (
            "paragraph",
            f'<p>活动页面：<a linktype="page" id="{event.pk}">'
            f"{escape(event.title)}</a></p>",
        ),
    ]

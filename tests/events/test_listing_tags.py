"""Activity listings for other apps' pages come from events' template tags, so
home/models.py imports nothing from events (dependencies run one way)."""

import ast
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test.client import RequestFactory

from home.models import CommunityPage, HomePage

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


def test_home_models_import_nothing_from_events():
    tree = ast.parse((ROOT / "home" / "models.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not {name for name in imported if name.split(".")[0] == "events"}


def render(source: str, **context) -> tuple[str, object]:
    request = RequestFactory().get("/")
    html = Template("{% load events_tags %}" + source).render(
        Context({"request": request, **context})
    )
    return html, request


def test_upcoming_activities_of_the_site_and_of_a_community():
    home = HomePage.objects.get(slug="home")
    html, request = render(
        "{% upcoming_activities page as events %}"
        "{% for o in events %}{{ o.event.title }}|{% endfor %}",
        page=home,
    )
    titles = [t for t in html.split("|") if t]
    assert 1 <= len(titles) <= 4
    assert "seats" in request._page_cache_depends

    community = next(
        c
        for c in CommunityPage.objects.live()
        if c.title
        and render(
            "{% upcoming_activities page community=page limit=6 as e %}{{ e|length }}",
            page=c,
        )[0]
        != "0"
    )
    row = "{{ o.community_id }} {{ o.has_ended|yesno:'yes,no' }}|"
    html, _ = render(
        "{% upcoming_activities page community=page limit=6 as events %}"
        "{% past_activities page community=page.pk limit=3 as past %}"
        "{% for o in events %}" + row + "{% endfor %}#"
        "{% for o in past %}" + row + "{% endfor %}",
        page=community,
    )
    upcoming, past = html.split("#")
    assert upcoming
    for shown in filter(None, upcoming.split("|")):
        assert shown == f"{community.pk} no"
    for shown in filter(None, past.split("|")):
        assert shown == f"{community.pk} yes"

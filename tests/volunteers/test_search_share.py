"""志愿服务 seen everywhere it matters: team pages and the 时间银行 page in the
site's own Chinese search (documents per route, ``search_routes``), in the
sitemap, with share metadata; the index page's QR and poster; the page cache
dropping the pages when volunteer data changes."""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from home.models import CommunityPage
from search.models import SearchDocument
from sharing import posters
from volunteers.models import Team
from volunteers.pages import VolunteerIndexPage

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def index():
    return VolunteerIndexPage.objects.get(slug="volunteers")


@pytest.fixture
def community():
    return CommunityPage.objects.live().order_by("path").first()


def search(client, query) -> str:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return text(response)


def test_a_team_is_found_by_its_name_once_saved(
    client, index, community, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        team = Team.objects.create(
            name="党员先锋志愿服务队", community=community, description="帮老人买菜。"
        )
    html = search(client, "党员先锋志愿服务队")
    assert f'href="{index.url}teams/{team.pk}/"' in html
    assert "帮老人买菜" in html
    # By its community's name with the team's word, and in pinyin.
    assert f'href="{index.url}teams/{team.pk}/"' in search(
        client, f"{community.title} 志愿服务队"
    )
    with django_capture_on_commit_callbacks(execute=True):
        team.name = "银发先锋队"
        team.save()
    assert f"teams/{team.pk}/" in search(client, "银发先锋队")
    with django_capture_on_commit_callbacks(execute=True):
        team.delete()
    assert f"teams/{team.pk}/" not in search(client, "银发先锋队")
    assert not SearchDocument.objects.filter(route=f"teams/{team.pk}/").exists()


def test_the_time_bank_page_is_found(client, index):
    assert f'href="{index.url}time-bank/"' in search(client, "时间银行")


def test_rebuild_keeps_route_documents_in_step(index, community):
    # Created with no signal run (a name the demo does not use).
    team = Team.objects.create(name="七号楼互助队", community=community)
    SearchDocument.objects.filter(page_id=index.pk).exclude(route="").delete()
    out = StringIO()
    call_command("rebuild_search_documents", stdout=out)
    routes = set(
        SearchDocument.objects.filter(page_id=index.pk).values_list("route", flat=True)
    )
    assert {"", "time-bank/", f"teams/{team.pk}/"} <= routes
    Team.objects.filter(pk=team.pk).delete()  # a queryset delete: no signal
    call_command("rebuild_search_documents", stdout=StringIO())
    assert not SearchDocument.objects.filter(route=f"teams/{team.pk}/").exists()
    out = StringIO()
    call_command("rebuild_search_documents", stdout=out)
    assert "新建 0，更新 0，删除 0" in out.getvalue()


def test_the_sitemap_lists_the_time_bank_and_every_team(client, index, community):
    team = Team.objects.create(name="巾帼志愿服务队", community=community)
    xml = text(client.get("/sitemap.xml"))
    for route in ("", "time-bank/", f"teams/{team.pk}/"):
        assert f"{index.url}{route}</loc>" in xml


def test_share_metadata_of_the_index_and_time_bank(client, index):
    html = text(client.get(index.url))
    assert f'<meta property="og:title" content="{index.title}">' in html
    bank = text(client.get(f"{index.url}time-bank/"))
    assert '<meta property="og:title" content="时间银行">' in bank
    assert f'{index.url}time-bank/">' in bank  # its own canonical URL


@pytest.mark.skipif(not posters.font_available(), reason="no CJK font")
def test_the_index_page_has_a_qr_code_and_a_poster(client, index):
    html = text(client.get(index.url))
    assert "分享本页" in html and "保存海报" in html
    qr = client.get(f"/share/{index.pk}/qr.png")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png"
    poster = client.get(f"/share/{index.pk}/poster.png")
    assert poster.status_code == 200 and poster["Content-Type"] == "image/png"


def test_the_page_cache_drops_the_pages_when_teams_change(client, index, community):
    cache.clear()
    with override_settings(PAGE_CACHE_SECONDS=300):
        client.get(index.url)  # 志愿服务设置 made on first use: a change
        client.get(index.url)
        assert client.get(index.url)["X-Page-Cache"] == "HIT"
        Team.objects.create(name="新成立的服务队", community=community)
        fresh = client.get(index.url)
        assert fresh["X-Page-Cache"] != "HIT" and "新成立的服务队" in text(fresh)
    cache.clear()

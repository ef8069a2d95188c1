"""The public 微心愿 board (``WishBoardPage`` at /wishes/): counts and filters,
one community's board, a wish's page, claiming by a volunteer (phone + code,
the neutral answer, 我的报名's rate limits) or by a 驻区单位, the result page,
the poster, the sitemap, search and share metadata, the community page's
counts — and the query counts, which stay the same as wishes grow."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from home.models import CommunityPage, HomePage
from tests.factories import ImageFactory
from volunteers import roster, wishes
from volunteers.errors import MESSAGES
from volunteers.models import Wish, WishClaim, WishState
from volunteers.wish_pages import WishBoardPage

pytestmark = pytest.mark.django_db

PHONE = "13900003333"
HOME_IP = "203.0.113.7"


@pytest.fixture
def staff():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def board():
    found = WishBoardPage.objects.first()
    if found is None:
        home = HomePage.objects.get(slug="home")
        found = WishBoardPage(title="微心愿", slug="wishes")
        home.add_child(instance=found)
        found.save_revision().publish()
    return found


@pytest.fixture
def jiayuan():
    return CommunityPage.objects.get(slug="jiayuan")


@pytest.fixture
def volunteer(staff, jiayuan):
    return roster.add(name="王建国", phone=PHONE, user=staff, community=jiayuan)


def publish(staff, community=None, title="想要一台收音机", **extra):
    return wishes.publish(
        user=staff,
        community=community,
        title=title,
        recipient_name=extra.pop("recipient_name", "李桂兰"),
        recipient_label=extra.pop("recipient_label", "独居老人"),
        due_date=timezone.localdate() + datetime.timedelta(days=9),
        **extra,
    )


@pytest.fixture
def wish(staff, jiayuan, board):
    return publish(staff, jiayuan)


def text(response) -> str:
    return response.content.decode()


def claim_as_volunteer(client, wish, phone, code, ip=HOME_IP):
    return client.post(
        f"/wishes/{wish.pk}/claim/",
        {"kind": "volunteer", "phone": phone, "code": code},
        REMOTE_ADDR=ip,
    )


def claim_as_unit(client, wish, **fields):
    data = {
        "kind": "unit",
        "unit_name": "花园路邮政支局",
        "contact_name": "赵明",
        "phone": "13800004444",
    }
    data.update(fields)
    return client.post(f"/wishes/{wish.pk}/claim/", data, REMOTE_ADDR=HOME_IP)


def test_board_lists_wishes_by_state_with_counts_masked(client, board, staff, jiayuan):
    open_ = publish(staff, jiayuan, title="一副老花镜测试")
    claimed = publish(staff, jiayuan, title="陪诊测试")
    wishes.claim_by_unit(
        claimed.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800004444"
    )
    gone = publish(staff, jiayuan, title="撤下的心愿测试")
    wishes.withdraw(gone.pk, user=staff, reason="家属已办")
    page = client.get("/wishes/")
    html = text(page)
    assert page.status_code == 200
    assert "一副老花镜测试" in html and "陪诊测试" in html
    assert "撤下的心愿测试" not in html
    assert "李桂兰" not in html and "李** · 独居老人" in html
    assert "赵明" not in html and "13800004444" not in html
    assert "花园路邮政支局" in html  # a unit's name is public
    counts = Wish.objects.public().filter(state=WishState.OPEN).count()
    assert f"<strong>{counts}</strong><span>待认领</span>" in html
    only_open = text(client.get("/wishes/?state=open"))
    assert "一副老花镜测试" in only_open and "陪诊测试" not in only_open
    assert open_.pk


def test_community_board_and_unknown_community(client, board, staff, jiayuan):
    other = CommunityPage.objects.exclude(pk=jiayuan.pk).first()
    publish(staff, jiayuan, title="甲院的心愿测试")
    publish(staff, other, title="别的社区心愿测试")
    html = text(client.get("/wishes/jiayuan/"))
    assert "甲院的心愿测试" in html and "别的社区心愿测试" not in html
    assert client.get("/wishes/no-such-community/").status_code == 404
    assert client.get("/wishes/999999999/").status_code == 404


@pytest.mark.parametrize(
    "query", ["?state=%00", "?state=x" * 50, "?page=-1", "?page=abc", "?page=99999"]
)
def test_garbage_queries_never_500(client, board, wish, query):
    assert client.get("/wishes/" + query).status_code == 200


def test_wish_page_masked_then_fulfilled_with_photo(client, board, wish, staff):
    html = text(client.get(f"/wishes/{wish.pk}/"))
    assert "想要一台收音机" in html and "李** · 独居老人" in html
    assert "李桂兰" not in html
    assert f'href="/wishes/{wish.pk}/claim/"' in html
    assert 'name="csrfmiddlewaretoken"' not in html  # cacheable: no form here
    assert '<meta property="og:title" content="微心愿：想要一台收音机">' in html
    assert re.search(
        rf'<link rel="canonical" href="http://[^"]+/wishes/{wish.pk}/">', html
    )
    wishes.claim_by_unit(
        wish.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800004444"
    )
    wishes.fulfil(
        wish.pk, user=staff, photo=ImageFactory(), line="收音机已送到李奶奶家中"
    )
    html = text(client.get(f"/wishes/{wish.pk}/"))
    assert "收音机已送到李奶奶家中" in html and "<img" in html
    assert f'href="/wishes/{wish.pk}/claim/"' not in html


def test_volunteer_claims_then_sees_the_result(client, board, wish, volunteer):
    response = claim_as_volunteer(client, wish, "139 0000 3333", volunteer.code.lower())
    html = text(response)
    assert response.status_code == 200
    assert "认领成功" in html and "志愿者 王**" in html
    assert "no-store" in response["Cache-Control"]
    wish.refresh_from_db()
    assert wish.state == WishState.CLAIMED
    assert wish.live_claim.volunteer == volunteer


def test_wrong_code_is_the_neutral_message_and_changes_nothing(
    client, board, wish, volunteer
):
    for phone, code in ((PHONE, "ZZZZ22"), ("13900009999", volunteer.code), ("x", "")):
        response = claim_as_volunteer(client, wish, phone, code or "A")
        assert response.status_code == 400
        assert MESSAGES["credentials_wrong"] in text(response)
    assert not WishClaim.objects.filter(wish=wish).exists()


def test_second_claim_gets_a_clear_message(client, board, wish, volunteer):
    assert claim_as_unit(client, wish).status_code == 200
    response = claim_as_volunteer(client, wish, PHONE, volunteer.code)
    assert response.status_code == 409
    assert MESSAGES["wish_taken"] in text(response)
    assert WishClaim.objects.filter(wish=wish).count() == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"unit_name": ""}, "请填写单位名称。"),
        ({"contact_name": ""}, "请填写联系人姓名。"),
        ({"phone": "123"}, "请填写正确的 11 位手机号码"),
        ({"unit_name": "单" * 70}, "单位名称最多 60 个字。"),
    ],
)
def test_unit_claim_bad_input(client, board, wish, fields, message):
    response = claim_as_unit(client, wish, **fields)
    assert response.status_code == 400
    assert message in text(response)
    assert not WishClaim.objects.filter(wish=wish).exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "unit"},
        {"kind": "volunteer", "phone": "1" * 5000, "code": "\x00"},
        {"kind": "???", "phone": PHONE},
        {"kind": ["unit", "volunteer"], "unit_name": ["a", "b"]},
    ],
)
def test_garbage_posts_never_500(client, board, wish, data):
    response = client.post(f"/wishes/{wish.pk}/claim/", data, REMOTE_ADDR=HOME_IP)
    assert response.status_code in (400, 409)
    assert not WishClaim.objects.filter(wish=wish).exists()


def test_lookup_limits_apply_to_volunteer_claims(
    client, board, wish, volunteer, signup_limits
):
    on = signup_limits(per_address="30/10m", per_phone="5/10m")
    on.MY_SIGNUPS_LIMIT_PER_ADDRESS = "30/10m"
    on.MY_SIGNUPS_LIMIT_PER_PHONE = "2/1h"
    for _ in range(2):
        assert claim_as_volunteer(client, wish, PHONE, "ZZZZ22").status_code == 400
    # The phone used up its failed lookups: even the right code is refused.
    over = claim_as_volunteer(client, wish, PHONE, volunteer.code, ip="198.51.100.9")
    assert over.status_code == 429
    assert "查找太频繁" in text(over) and "no-store" in over["Cache-Control"]
    assert not WishClaim.objects.filter(wish=wish).exists()


def test_claim_form_on_a_fulfilled_wish_says_so(client, board, wish, staff):
    wishes.claim_by_unit(
        wish.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800004444"
    )
    wishes.fulfil(wish.pk, user=staff, photo=ImageFactory(), line="已送到")
    html = text(client.get(f"/wishes/{wish.pk}/claim/"))
    assert "不能再认领" in html and 'name="kind"' not in html


def test_poster_png_and_page(client, board, wish):
    png = client.get(f"/wishes/{wish.pk}/poster/image/")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    body = b"".join(png.streaming_content) if png.streaming else png.content
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    again = client.get(
        f"/wishes/{wish.pk}/poster/image/", HTTP_IF_NONE_MATCH=png["ETag"]
    )
    assert again.status_code == 304
    page = text(client.get(f"/wishes/{wish.pk}/poster/"))
    assert f'src="/wishes/{wish.pk}/poster/image/"' in page


def test_poster_data_shows_the_masked_recipient_and_links_the_wish(rf, board, wish):
    from volunteers.wish_views import poster_data

    request = rf.get("/")
    data = poster_data(board, request, wish)
    assert data.title == "想要一台收音机" and data.kicker == "微心愿"
    assert ("心愿人", "李** · 独居老人") in data.facts
    assert data.url.endswith(f"/wishes/{wish.pk}/")
    assert "李桂兰" not in str(data)
    assert not data.image_key  # no picture before it is fulfilled
    wishes.claim_by_unit(
        wish.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800004444"
    )
    photo = ImageFactory()
    wishes.fulfil(wish.pk, user=None, photo=photo, line="已送到")
    wish.refresh_from_db()
    done = poster_data(board, request, wish)
    assert done.image_key.startswith(f"{photo.pk}:") and done.quote == "已送到"
    assert ("认领", "花园路邮政支局") in done.facts


def test_sitemap_lists_board_community_boards_and_open_wishes(
    client, board, wish, staff, jiayuan
):
    claimed = publish(staff, jiayuan, title="已认领的")
    wishes.claim_by_unit(
        claimed.pk, unit_name="花园路邮政支局", contact_name="赵明", phone="13800004444"
    )
    xml = text(client.get("/sitemap.xml"))
    assert "/wishes/</loc>" in xml and "/wishes/jiayuan/</loc>" in xml
    assert f"/wishes/{wish.pk}/</loc>" in xml
    assert f"/wishes/{claimed.pk}/</loc>" not in xml


def test_search_text_has_the_open_wishes(board, wish, staff):
    from search.documents import document_fields

    assert "想要一台收音机" in board.specific.open_wish_text()
    fields = document_fields(board.specific)
    assert "收音机" in fields["body"]
    wishes.withdraw(wish.pk, user=staff, reason="不需要了")
    assert "想要一台收音机" not in board.specific.open_wish_text()


def test_service_refreshes_the_board_document(
    board, staff, jiayuan, django_capture_on_commit_callbacks
):
    from search.models import SearchDocument

    with django_capture_on_commit_callbacks(execute=True):
        publish(staff, jiayuan, title="想要一把新雨伞")
    document = SearchDocument.objects.get(page_id=board.pk)
    assert "雨伞" in document.body


def test_community_page_shows_counts_and_links_its_board(client, board, staff, jiayuan):
    publish(staff, jiayuan, title="计数用心愿")
    html = text(client.get("/communities/jiayuan/"))
    counts = Wish.objects.filter(community=jiayuan, state=WishState.OPEN).count()
    assert 'id="c-wishes-heading"' in html
    assert f"<strong>{counts}</strong><span>待认领</span>" in html
    assert 'href="/wishes/jiayuan/"' in html


def test_community_counts_are_those_of_the_aggregate(board, staff, jiayuan):
    from volunteers.wish_views import community_counts, count_states

    others = CommunityPage.objects.exclude(pk=jiayuan.pk).first()
    assert community_counts(others.pk) == {
        "open": 0,
        "claimed": 0,
        "fulfilled": 0,
        "total": 0,
    }
    add_wishes(staff, [jiayuan, others], 8, 0)
    for community in (jiayuan, others):
        expected = count_states(Wish.objects.filter(community_id=community.pk))
        assert community_counts(community.pk) == expected
        assert expected["claimed"] and expected["fulfilled"], "the states differ"


def count_queries(client, path) -> int:
    for _ in range(2):  # warm the caches (site, settings, the board's address)
        assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def add_wishes(staff, communities, count, start):
    for n in range(start, start + count):
        wish = publish(
            staff,
            communities[n % len(communities)],
            title=f"心愿{n}",
            recipient_name=f"张{n}",
        )
        if n % 3:
            wishes.claim_by_unit(
                wish.pk, unit_name=f"单位{n}", contact_name="赵明", phone="13800004444"
            )
        if n % 3 == 2:
            wishes.fulfil(wish.pk, user=staff, photo=ImageFactory(), line=f"完成{n}")


def test_query_counts_stay_the_same_as_wishes_grow(client, board, staff, jiayuan):
    communities = [jiayuan, None]
    add_wishes(staff, communities, 5, 0)
    one = Wish.objects.filter(title="心愿2").first()
    paths = [
        "/wishes/",
        "/wishes/jiayuan/",
        "/wishes/?state=fulfilled",
        f"/wishes/{one.pk}/",
        "/communities/jiayuan/",
    ]
    small = {path: count_queries(client, path) for path in paths}
    add_wishes(staff, communities, 45, 5)
    large = {path: count_queries(client, path) for path in paths}
    print(f"queries with 5 wishes: {small}; with 50: {large}")
    # The whole board's first page may hold no fulfilled wish at 50 (open ones
    # come first): then the photos' renditions cost no query.
    assert large.pop("/wishes/") <= small.pop("/wishes/")
    assert large == small


def test_community_page_spends_one_query_on_the_counts(client, board, staff, jiayuan):
    publish(staff, jiayuan)
    with_board = count_queries(client, "/communities/jiayuan/")
    board.unpublish()
    from django.core.cache import cache

    cache.clear()
    without = count_queries(client, "/communities/jiayuan/")
    assert with_board == without + 1

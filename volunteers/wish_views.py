"""Public views of the 微心愿 board (routed by ``WishBoardPage``): the board
(whole subdistrict or one community), one wish, its claim form and result, and
its poster. Claims go through ``wishes.py``; the limits are 我的报名's
(``events/limits.py``): a volunteer's phone + code is a lookup (every POST
counts against the address, a wrong code against the phone, and the answer is
the one neutral ``credentials_wrong``), a unit's claim counts as a sign-up.

The board and a wish's page carry no form (no CSRF token) so that the page cache
can serve them to a whole WeChat group; the form lives at ``<id>/claim/``.
"""

import hashlib

from django import forms
from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control

from core.images import prefetch_renditions
from core.models import paginate
from core.prepared import prepared
from events import limits
from events.views import personal
from home.models import CommunityPage
from portal import pagecache

from . import wishes
from .errors import BusyError, VolunteerError, WishTakenError
from .wish_models import Wish, WishClaim, WishState

STATE_FILTERS = {
    "open": WishState.OPEN,
    "claimed": WishState.CLAIMED,
    "fulfilled": WishState.FULFILLED,
}
TEMPLATES = {
    "board": "volunteers/wish_board_page.html",
    "wish": "volunteers/wish_detail.html",
    "claim": "volunteers/wish_claim.html",
    "result": "volunteers/wish_claim_result.html",
    "poster": "volunteers/wish_poster.html",
}


# ---------------------------------------------------------------------------
# Counts (the board, and the community page's panel)
# ---------------------------------------------------------------------------


def count_states(queryset) -> dict:
    """{"open": n, "claimed": n, "fulfilled": n, "total": n} in one query."""
    counts = queryset.aggregate(**state_counts())
    counts["total"] = sum(counts.values())
    return counts


def state_counts() -> dict:
    """{state name: a count of the wishes in that state}, for an aggregate."""
    return {
        name: Count("pk", filter=Q(state=state))
        for name, state in STATE_FILTERS.items()
    }


def community_counts(community_id: int) -> dict:
    """``count_states`` of one community's wishes (the community page's
    panel), from SQL kept once (``core.prepared``: building the conditional
    aggregate cost more than running it)."""
    _, sql, params = _community_counts.sql(None, community=community_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    numbers = row[1:] if row else [0] * len(STATE_FILTERS)  # no row: no wishes
    counts = dict(zip(STATE_FILTERS, numbers, strict=True))
    counts["total"] = sum(numbers)
    return counts


@prepared(values=("community",))
def _community_counts(now, *, community):
    return (
        Wish.objects.filter(community_id=community)
        .order_by()
        .values("community_id")
        .annotate(**state_counts())
    )


def communities(board) -> list[dict]:
    """The live communities of the board's site (title, slug, id), kept like the
    navigation until content changes."""

    def build():
        return list(
            CommunityPage.objects.live()
            .filter(path__startswith=board.home_path)
            .order_by("path")
            .values("pk", "title", "slug", "short_name")
        )

    return pagecache.remember(f"wish-communities:{board.home_path}", build)


def community_slugs(board) -> list[str]:
    return [c["slug"] for c in communities(board)]


def board_url_for(home_path: str) -> str | None:
    """The board's URL in the site whose home page has ``home_path`` (None when
    the site has none), kept until content changes."""

    def build():
        from .wish_pages import WishBoardPage

        board = WishBoardPage.objects.live().filter(path__startswith=home_path).first()
        return board.url if board is not None else ""

    return pagecache.remember(f"wish-board-url:{home_path}", build) or None


# ---------------------------------------------------------------------------
# The board
# ---------------------------------------------------------------------------

ORDER = Case(
    When(state=WishState.OPEN, then=Value(0)),
    When(state=WishState.CLAIMED, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def board(page, request, community_slug: str | None = None):
    """The board: counts by state, the state and community filters, the wishes
    (open ones first, soonest date first; then claimed; then fulfilled, newest
    first). Unknown community → 404; unknown state → all."""
    listed = communities(page)
    community = None
    if community_slug is not None:
        community = next((c for c in listed if c["slug"] == community_slug), None)
        if community is None:
            raise Http404("没有找到这个社区")
    wishes_ = Wish.objects.public()
    if community is not None:
        wishes_ = wishes_.filter(community_id=community["pk"])
    counts = count_states(wishes_)
    state = request.GET.get("state", "")
    if state in STATE_FILTERS:
        wishes_ = wishes_.filter(state=STATE_FILTERS[state])
    else:
        state = ""
    shown = paginate(
        request,
        wishes_.for_board().order_by(ORDER, "due_date", "-fulfilled_at", "-pk"),
        page.per_page,
    )
    items = list(shown.object_list)
    prefetch_renditions((wish.fulfilment_photo, ("card",)) for wish in items)
    base = page.url + (f"{community['slug']}/" if community else "")
    return page.render(
        request,
        template=TEMPLATES["board"],
        context_overrides={
            "community": community,
            "communities": listed,
            "counts": counts,
            "state": state,
            "states": [(key, label) for key, label in _state_labels()],
            "wishes": items,
            "page_obj": shown,
            "base_url": base,
            "filter_query": f"state={state}&" if state else "",
        },
    )


def _state_labels():
    return [(key, WishState(value).label) for key, value in STATE_FILTERS.items()]


# ---------------------------------------------------------------------------
# One wish
# ---------------------------------------------------------------------------


def public_wish(pk: int) -> Wish:
    wish = Wish.objects.for_board().filter(pk=pk).first()
    if wish is None:
        raise Http404("没有找到这个心愿")
    return wish


def wish_context(page, request, wish) -> dict:
    if wish.fulfilment_photo is not None:
        prefetch_renditions([(wish.fulfilment_photo, ("figure", "share"))])
    url = f"{page.url}{wish.pk}/"
    return {
        "wish": wish,
        "wish_url": url,
        "board_url": page.url,
        "community_board_url": (
            f"{page.url}{wish.community.slug}/" if wish.community_id else ""
        ),
        # Share metadata of the wish, not of the board (share_meta_tags.share_data).
        "share_meta": {
            "title": f"微心愿：{wish.title}",
            "description": share_description(wish),
            "url": page.get_canonical_url(request) + f"{wish.pk}/",
        },
    }


def share_description(wish) -> str:
    where = wish.community.title if wish.community_id else "全街道"
    return (
        f"{where} · {wish.public_recipient} · 希望{wish.due_date:%m月%d日}前完成"
        f" · {wish.get_state_display()}"
    )


def wish_detail(page, request, pk):
    wish = public_wish(pk)
    return page.render(
        request,
        template=TEMPLATES["wish"],
        context_overrides=wish_context(page, request, wish),
    )


# ---------------------------------------------------------------------------
# Claiming
# ---------------------------------------------------------------------------


class VolunteerClaimForm(forms.Form):
    phone = forms.CharField(label="手机号", max_length=20)
    code = forms.CharField(label="志愿者编号", max_length=20)


class UnitClaimForm(forms.Form):
    unit_name = forms.CharField(label="单位名称", max_length=80)
    contact_name = forms.CharField(label="联系人", max_length=40)
    phone = forms.CharField(label="联系电话（手机）", max_length=20)


REQUIRED = {
    "phone": "请填写手机号。",
    "code": "请填写志愿者编号。",
    "unit_name": "请填写单位名称。",
    "contact_name": "请填写联系人姓名。",
}


def _form(form_class, data=None):
    # Field names as 我的报名's (``phone``: the rate limits read it); the two
    # forms' ids kept apart on the one page.
    auto_id = "unit-%s" if form_class is UnitClaimForm else "v-%s"
    form = form_class(data, auto_id=auto_id)
    for name, field in form.fields.items():
        field.error_messages["required"] = REQUIRED.get(name, "请填写这一项。")
        field.error_messages["max_length"] = "填写的内容太长了，请核对。"
        if name == "phone" and form_class is UnitClaimForm:
            field.error_messages["required"] = "请填写联系电话。"
    return form


def render_claim(page, request, wish, *, status=200, **context):
    forms_ = {
        "volunteer_form": context.pop("volunteer_form", None)
        or _form(VolunteerClaimForm),
        "unit_form": context.pop("unit_form", None) or _form(UnitClaimForm),
    }
    response = page.render(
        request,
        template=TEMPLATES["claim"],
        context_overrides={
            **wish_context(page, request, wish),
            **forms_,
            "active": context.pop("active", "volunteer"),
            **context,
        },
    )
    response.status_code = status
    return personal(response) if request.method == "POST" else response


def claim(page, request, pk):
    """GET: the two forms (a volunteer; a 驻区单位). POST (``kind``): the claim
    through the service, then the result page; any refusal shows the form again
    with its Chinese message and the input kept."""
    wish = public_wish(pk)
    if request.method != "POST":
        return render_claim(page, request, wish)
    if request.POST.get("kind") == "unit":
        return _claim_as_unit(page, request, wish)
    return _claim_as_volunteer(page, request, wish)


def _refused(page, request, wish, form, error, active):
    if isinstance(error, BusyError):
        response = render_claim(
            page,
            request,
            wish,
            status=503,
            retry=True,
            active=active,
            **{f"{active}_form": form},
        )
        response["Retry-After"] = "3"
        return response
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
    status = (
        409
        if isinstance(error, WishTakenError) or error.code.startswith("wish_")
        else 400
    )
    if error.code == "wish_taken":
        wish = public_wish(wish.pk)  # show who has it now
    return render_claim(
        page,
        request,
        wish,
        status=status,
        active=active,
        taken=status == 409,
        error_message=error.message,
        **{f"{active}_form": form},
    )


def _claim_as_volunteer(page, request, wish):
    form = _form(VolunteerClaimForm, request.POST)
    # Counted before the input is read: bad and bot posts count too.
    if (limited := limits.check_lookup(request)) is not None:
        form.is_valid()
        form.add_error(None, limited.text)
        return limits.too_many(
            render_claim(page, request, wish, volunteer_form=form), limited
        )
    if not form.is_valid():
        return render_claim(page, request, wish, status=400, volunteer_form=form)
    try:
        claimed = wishes.claim_by_volunteer(
            wish.pk, phone=form.cleaned_data["phone"], code=form.cleaned_data["code"]
        )
    except VolunteerError as error:
        if error.code == "credentials_wrong":
            limits.count_failed_lookup(request)
        return _refused(page, request, wish, form, error, "volunteer")
    return _result(page, request, wish, claimed)


def _claim_as_unit(page, request, wish):
    form = _form(UnitClaimForm, request.POST)
    if (limited := limits.check_signup(request)) is not None:
        form.is_valid()
        form.add_error(None, limited.text)
        return limits.too_many(
            render_claim(page, request, wish, unit_form=form, active="unit"), limited
        )
    if not form.is_valid():
        return render_claim(
            page, request, wish, status=400, unit_form=form, active="unit"
        )
    data = form.cleaned_data
    try:
        claimed = wishes.claim_by_unit(
            wish.pk,
            unit_name=data["unit_name"],
            contact_name=data["contact_name"],
            phone=data["phone"],
        )
    except VolunteerError as error:
        return _refused(page, request, wish, form, error, "unit")
    limits.count_signup(request)
    return _result(page, request, wish, claimed)


def _result(page, request, wish, claimed: WishClaim):
    wish = public_wish(wish.pk)
    response = page.render(
        request,
        template=TEMPLATES["result"],
        context_overrides={**wish_context(page, request, wish), "claim": claimed},
    )
    return personal(response)


# ---------------------------------------------------------------------------
# Poster (海报) for Moments
# ---------------------------------------------------------------------------


def poster_data(page, request, wish):
    """The wish's poster: title, community, date, masked recipient, state and a
    QR code to the wish's page (``sharing.posters`` draws it)."""
    from home.models import SiteSettings
    from sharing.content import picture
    from sharing.posters import DEFAULT_COLOUR, PosterData

    settings = SiteSettings.for_request(request)
    community = wish.community
    facts = [
        ("心愿人", wish.public_recipient),
        ("社区", community.title if community else "全街道"),
        ("希望", f"{wish.due_date:%Y年%m月%d日}前完成"),
        ("状态", wish.get_state_display()),
    ]
    if wish.live_claim is not None:
        facts.append(("认领", wish.live_claim.public_claimant))
    detail = "我来认领 · 查看详情" if wish.is_open else "查看详情"
    return PosterData(
        title=wish.title,
        url=page.get_canonical_url(request) + f"{wish.pk}/",
        site_name=settings.site_name,
        subdistrict_name=settings.subdistrict_name,
        kicker="微心愿",
        facts=tuple(facts),
        quote=wish.fulfilment_line or wish.description,
        colour=getattr(community, "brand_color", "") or DEFAULT_COLOUR,
        caption="长按识别二维码",
        caption_detail=detail,
        # Once fulfilled, its photo is the poster's picture.
        **picture(wish.fulfilment_photo),
    )


def poster_png(page, request, pk):
    from sharing import posters

    wish = public_wish(pk)
    data = poster_data(page, request, wish)
    etag = f'"wish-{wish.pk}-{data.fingerprint()[:24]}"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        try:
            png = _poster_bytes(data)
        except posters.PosterFontError:
            return HttpResponse(
                "海报暂时无法生成，请稍后再试。",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(png, content_type="image/png")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=600)
    return response


def _poster_bytes(data) -> bytes:
    """Drawn once per content (the fingerprint covers every text, the URL and
    the font), then kept in the cache for a day."""
    from django.core.cache import cache

    from sharing import posters

    key = "wish-poster:" + hashlib.sha256(data.fingerprint().encode()).hexdigest()
    png = cache.get(key)
    if png is None:
        png = posters.render_poster(data).png
        cache.set(key, png, 24 * 3600)
    return png


def poster_page(page, request, pk):
    """The poster as an <img>: inside WeChat a long press saves or forwards it."""
    wish = public_wish(pk)
    response = page.render(
        request,
        template=TEMPLATES["poster"],
        context_overrides={
            **wish_context(page, request, wish),
            "poster_src": f"{page.url}{wish.pk}/poster/image/",
        },
    )
    response["X-Robots-Tag"] = "noindex"
    return response

"""What every page type of the portal shares: the abstract ``BasePage`` (share
card, images to render, view restrictions without a query), ``ListingQuerySet``
for listings with a fixed number of queries, and the small helpers listings and
views use (pagination, filters, private sections, canonical origin).

Only abstract models live here, so the app has no migrations.
"""

import functools
import re
from urllib.parse import urlencode

from django.core.paginator import EmptyPage, Paginator
from django.db import models
from django.db.models import F, Q
from django.forms import TextInput
from django.http.request import split_domain_port
from django.utils.html import strip_tags
from django.utils.text import Truncator
from wagtail.admin.panels import FieldPanel
from wagtail.admin.widgets import SlugInput
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.query import PageQuerySet

from portal import pagecache

from .forms import PageForm
from .images import renditions_prefetch
from .prepared import prepared


def image_field(verbose_name: str, help_text: str = "") -> models.ForeignKey:
    """An optional image chosen from the library; the page survives its deletion."""
    return models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=help_text,
    )


# What a database integer column holds (PostgreSQL's bigint, SQLite's INTEGER):
# a number outside it is no id or year of ours, and SQLite's driver raises
# OverflowError (a 500) when one reaches a query.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT_RE = re.compile(r"[+-]?[0-9]{1,19}")


def int_or_none(value):
    """A query-string value as an int, or None when it is missing, not written
    in ASCII digits (``²`` and ``١٢`` are digits to Python, not to our links) or
    outside the 64-bit range."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and INT_RE.fullmatch(value.strip()):
        number = int(value)
    else:
        return None
    return number if INT64_MIN <= number <= INT64_MAX else None


def tree_facts() -> dict:
    """What every page view asks of the tree (see ``pagecache.remember``):
    ``private``, (path, depth) of every page with a view restriction, and
    ``aliases``, whether any page is an alias (whose restrictions are its
    source's)."""

    def build():
        restricted = PageViewRestriction.objects.values_list(
            "page__path", "page__depth"
        )
        return {
            "private": list(restricted),
            "aliases": Page.objects.filter(alias_of__isnull=False).exists(),
        }

    return pagecache.remember("tree-facts", build)


def private_sections() -> list[tuple[str, int]]:
    """(path, depth) of every page with a view restriction. Wagtail reads the
    restrictions on each ``private_q()`` call — once per listing, once more for the
    share panel; they come from :func:`tree_facts` instead."""
    return tree_facts()["private"]


def is_private(page) -> bool:
    """Whether ``page`` or an ancestor has a view restriction (no query)."""
    return any(page.path.startswith(path) for path, _depth in private_sections())


def private_q(sections=None) -> Q:
    """Pages in a privately viewable section (see :func:`private_sections`), or
    in the given ``sections`` (a query kept per sections, ``core.prepared``)."""
    q = Q()
    for path, depth in private_sections() if sections is None else sections:
        q |= Q(path__startswith=path, depth__gte=depth)
    return q


class ListingQuerySet(PageQuerySet):
    def private_q(self):
        return private_q()

    def listed(self, within: str | None = None, private: Q | None = None):
        """Live, public pages, restricted to the tree path ``within`` if given.
        ``private`` is ``private_q()`` already built when several page types are
        listed together."""
        private = private if private is not None else self.private_q()
        qs = self.live().exclude(private) if private else self.live()
        if within:
            qs = qs.filter(path__startswith=within)
        return qs.defer_streamfields()

    def with_community_title(self):
        """``community_title`` for the card, instead of loading the community
        page (a join of two page tables and fifty columns) for one string."""
        return self.annotate(community_title=F("community__title"))

    def with_images(self, field: str, *size_names: str):
        """The image in ``field`` joined to the page query, and its renditions of
        ``size_names`` (see core/images.py) in one more query."""
        return self.select_related(field).prefetch_related(
            renditions_prefetch(field, *size_names)
        )


# What every card reads of a page, whatever its type: its URL (``pageurl``
# needs ``url_path``), its title and what tells its type.
CARD_PAGE_FIELDS = ("id", "title", "url_path", "path", "depth", "content_type", "live")


def specific_query(pages, models, related=None):
    """``pages`` joined to the tables of ``models``: each type's table through
    its parent link (``select_related``), with the foreign keys ``related``
    names for it ({model: (field, …)}: pictures). A type that names its
    ``card_fields`` (what its card template reads) loads only those and
    ``CARD_PAGE_FIELDS``; the others load all but their stream fields.
    Compiling and loading the other columns of three activity tables was half
    of a community page's activity query. A card that reads a field not named
    costs a query per card: the query-count tests catch it."""
    related = related or {}
    select, deferred = [], []
    only = list(CARD_PAGE_FIELDS)
    cards = all(getattr(model, "card_fields", None) for model in models)
    for model in models:
        link = page_link(model)
        joined = [f"{link}__{field}" for field in related.get(model, ())]
        select += [link, *joined]
        deferred += [f"{link}__{name}" for name in model.get_streamfield_names()]
        if cards:
            only += [f"{link}__{field}" for field in model.card_fields]
            only += [f"{link}__{field}" for field in related.get(model, ())]
    query = pages.select_related(*select)
    return query.only(*only) if cards else query.defer(*deferred)


def specific_from(rows, models, annotations=()) -> list:
    """The specific pages ``specific_query`` joined to each ``Page`` of
    ``rows``, with the ``annotations`` of the row; rows of other types are left
    out."""
    links = {model: page_link(model) for model in models}
    found = []
    for page in rows:
        link = links.get(page.specific_class)
        if link is None:
            continue
        specific = getattr(page, link)
        for name in annotations:
            setattr(specific, name, getattr(page, name))
        found.append(specific)
    return found


@prepared(values=("pk",))
def page_with_pictures(now, *, model, pk):
    """The page ``pk`` as its ``model``, with its pictures (``image_sizes``:
    cover …), which the page shows and shares: one query instead of one more
    per picture; its SQL kept per model (``core.prepared``). ``now`` is None."""
    pictures = list(getattr(model, "image_sizes", {}))
    return model.objects.select_related(*pictures).filter(pk=pk)


def page_children(page, relation: str, *related) -> list:
    """The child objects of ``relation`` (an ``InlinePanel``'s ``ParentalKey``)
    of ``page``, in their order, with the foreign keys ``related`` joined. A
    preview's page holds its children in memory (modelcluster); a page from
    the database gets them from SQL kept per relation (``core.prepared``)."""
    in_memory = getattr(page, "_cluster_related_objects", {})
    if page.pk is None or relation in in_memory:
        return list(getattr(page, relation).select_related(*related))
    return _children(
        None, model=type(page), relation=relation, related=related, pk=page.pk
    )


@prepared(values=("pk",))
def _children(now, *, model, relation, related, pk):
    field = model._meta.get_field(relation)
    return field.related_model.objects.filter(**{field.field.name: pk}).select_related(
        *related
    )


@functools.cache
def page_link(model) -> str:
    """The name a ``Page`` query uses for ``model``'s own table."""
    return model._meta.get_ancestor_link(Page).related_query_name()


def paginate(request, items, per_page: int):
    """The requested page of ``items``; a bad or out-of-range ``?page=`` is page 1
    or the last page, never an error."""
    paginator = Paginator(items, per_page)
    try:
        return paginator.page(int_or_none(request.GET.get("page")) or 1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


def filter_query(**filters) -> str:
    """``a=1&b=2&`` for the filters in use, so pagination links keep them."""
    used = {key: value for key, value in filters.items() if value}
    return urlencode(used) + "&" if used else ""


def plain_excerpt(html: str, length: int = 60) -> str:
    return Truncator(" ".join(strip_tags(html or "").split())).chars(length)


# WeChat ignores share pictures smaller than this (and makes no card from them).
MIN_SHARE_IMAGE_SIZE = 300


def is_share_image(image) -> bool:
    return image is not None and min(image.width, image.height) >= (
        MIN_SHARE_IMAGE_SIZE
    )


def canonical_origin(request) -> str:
    """``scheme://host`` of canonical URLs: the Site's root URL when the request
    came in on the Site's own hostname (so https is right behind a proxy that
    speaks http to us), else the request's own (a copy of the demo served on
    another address than its Site record's)."""
    site = Site.find_for_request(request)
    host = request.get_host()
    hostname, port = split_domain_port(host)
    # The Site's address: its hostname, and its port or none named (a proxy in
    # front passes the bare hostname). The same hostname on another port (a copy
    # of the demo served elsewhere) keeps the address it was asked on.
    if (
        site is not None
        and site.hostname.lower() == hostname
        and (not port or int(port) == site.port)
    ):
        return site.root_url
    return f"{request.scheme}://{host}"


def full_url(page, request) -> str:
    """The page's absolute URL for links that leave the page (calendar feeds,
    the sitemap): on ``canonical_origin`` when the page belongs to the site
    serving the request, so that a site served on another address than its
    Site record says (the demo on 127.0.0.1:8000) links to itself, never to
    ``http://localhost/``; a page of another site keeps that site's root.
    "" for a page outside every site."""
    parts = page.get_url_parts(request)
    if parts is None:
        return ""
    site_id, root_url, path = parts
    site = Site.find_for_request(request) if request is not None else None
    if site is not None and site.pk == site_id:
        return canonical_origin(request) + path
    return (root_url or "") + path


class SharePageMixin:
    """What the share card and Open Graph tags need; pages override the parts
    they have better content for."""

    share_image_field = None

    def get_canonical_url(self, request) -> str:
        """The page's absolute URL without any query (filters, page numbers,
        WeChat's ?from=…), on the host of ``canonical_origin``."""
        parts = self.get_url_parts(request)
        path = parts[2] if parts else request.path
        return canonical_origin(request) + path

    def get_share_image(self):
        """The page's own picture when it is big enough for a share card, else
        None (the site's default share image is used)."""
        field = self.share_image_field
        image = getattr(self, field) if field else None
        return image if is_share_image(image) else None

    def get_meta_description(self) -> str:
        """At most 60 characters of plain text, whitespace collapsed."""
        return plain_excerpt(self.search_description or self.get_summary_text())

    def get_summary_text(self) -> str:
        return (
            getattr(self, "summary", "")
            or getattr(self, "intro", "")
            or self.first_paragraph()
        )

    def first_paragraph(self) -> str:
        """The first non-empty paragraph of the body (or brand story) as HTML;
        the stored source, so links cost no query."""
        for field in ("body", "story"):
            for block in getattr(self, field, None) or ():
                if block.block_type != "paragraph":
                    continue
                if strip_tags(block.value.source).strip():
                    return block.value.source
        return ""


# Title and slug together on the main tab (pages that use these set
# ``promote_panels = []``). Wagtail's script would copy the Chinese title into the
# slug as it is typed (``targets``); the slug comes from the server in pinyin
# instead (core/forms.py), and the autosave writes it into the open form.
TITLE_PANELS = [
    # A plain FieldPanel: TitleFieldPanel's w-sync controller with no target
    # raises an error on every keystroke.
    FieldPanel(
        "title",
        classname="title",
        widget=TextInput(attrs={"placeholder": "标题*"}),
    ),
    FieldPanel(
        "slug",
        heading="网址",
        widget=SlugInput(attrs={"placeholder": "留空则按标题拼音自动生成"}),
    ),
]


class BasePage(SharePageMixin, Page):
    """Abstract base every page type of the portal inherits from."""

    # Pinyin slugs, unique under the parent, Chinese messages (core/forms.py).
    base_form_class = PageForm

    # {image field: size names of core/images.py it is shown in}; the renditions
    # are made when the page is published.
    image_sizes: dict[str, tuple[str, ...]] = {}

    def get_images_to_render(self):
        """(image, size names) for every picture the page and its cards show:
        the fields of ``image_sizes`` and the figures of the body or story."""
        for field, sizes in self.image_sizes.items():
            image = getattr(self, field)
            if image is not None:
                yield image, sizes
        for field in ("body", "story"):
            for block in getattr(self, field, None) or ():
                if block.block_type == "figure" and block.value.get("image"):
                    yield block.value["image"], ("figure",)
                if block.block_type == "gallery":
                    for item in block.value:
                        if item.get("image"):
                            yield item["image"], ("gallery",)

    def get_view_restrictions(self):
        """Wagtail checks the restrictions of the page and its ancestors on every
        view (two queries). When no restricted section contains this page and no
        page is an alias, none apply: known from :func:`tree_facts`."""
        if not tree_facts()["aliases"] and not is_private(self):
            return PageViewRestriction.objects.none()
        return super().get_view_restrictions()

    def get_sitemap_urls(self, request=None):
        """Wagtail's entry, located on the address the sitemap was asked on
        (``full_url``) rather than on the Site record's hostname and port."""
        urls = super().get_sitemap_urls(request)
        if request is not None:
            for url in urls:
                url["location"] = full_url(self, request) or url["location"]
        return urls

    @property
    def home_path(self) -> str:
        """Tree path of this page's HomePage, which always sits at depth 2; used to
        list a whole site's pages without a query for the home page."""
        return self.path[: 2 * self.steplen]

    class Meta:
        abstract = True

"""Responsive images: every place a picture appears has a named size — a few WebP
renditions for ``srcset`` — and they are made when a page is published (a
``django_tasks`` task, run after the commit), never while a page renders.

Templates write ``{% responsive_image page.cover "banner" %}`` (``image_tags``).
Listings load images and the renditions of their sizes with the page query
(``ListingQuerySet.with_images``: a join and one more query, whatever the number
of cards). A rendition that does not exist yet (an image uploaded before this
code, or a task still queued) is linked through Wagtail's signed image view
(``/images/…``), which makes it on its first request — outside the page render.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Prefetch, Q
from django.utils.html import conditional_escape as escape
from django.utils.safestring import mark_safe
from django_tasks import task
from wagtail.images import get_image_model
from wagtail.images.models import Filter
from wagtail.images.rect import Rect
from wagtail.images.views.serve import generate_image_url

from portal.tasks import enqueue_on_commit

from .prepared import prepared

WEBP = "format-webp"


@dataclass(frozen=True)
class Size:
    """One use of a picture: renditions smallest first (``srcset``), the one used
    as ``src`` and the ``sizes`` attribute (CSS widths, see static/css/portal.css)."""

    specs: tuple[str, ...]
    sizes: str
    src: int = 0

    @cached_property
    def filters(self) -> tuple[Filter, ...]:
        return tuple(Filter(spec=spec) for spec in self.specs)


def webp(*operations: str) -> tuple[str, ...]:
    return tuple(f"{operation}|{WEBP}" for operation in operations)


FULL_WIDTH = "(min-width: 960px) 928px, 100vw"

SIZES = {
    # 一社一品 cards: a column on phones, 2–3 columns from 640px.
    "card": Size(
        webp("fill-400x225", "fill-800x450"), "(min-width: 640px) 300px, 100vw"
    ),
    # News cards in lists: a 120px column.
    "thumb": Size(webp("fill-240x135", "fill-480x270"), "120px"),
    # 花园榜样 cards: 2 columns on phones, 4 from 640px.
    "portrait": Size(
        webp("fill-200x200", "fill-400x400"), "(min-width: 640px) 220px, 50vw"
    ),
    "portrait_large": Size(webp("fill-240x240", "fill-480x480"), "200px"),
    # 800 wide: what a 390-pixel phone at 2× picks (it took the 1200 one, the
    # largest file of the home page's first screen on a slow line).
    "banner": Size(
        webp("fill-600x300", "fill-800x400", "fill-1200x600"), FULL_WIDTH, src=2
    ),
    "cover": Size(
        webp("fill-640x360", "fill-800x450", "fill-1200x675"), FULL_WIDTH, src=2
    ),
    "gallery": Size(
        webp("fill-240x180", "fill-480x360"), "(min-width: 640px) 300px, 50vw"
    ),
    "lecturer": Size(webp("fill-192x192", "fill-288x288"), "96px"),
    "figure": Size(webp("width-400", "width-800", "width-1200"), FULL_WIDTH, src=1),
    # WeChat's share card and Open Graph: JPEG (every WeChat version shows it),
    # 300×300, the least WeChat takes for a card (see sharing), at quality 60:
    # the card shows it as a thumbnail of about 50 px. Downloaded by every visit
    # inside WeChat (the body's first picture): 600×600 was 29–34 KB, 300×300 at
    # quality 80 13.5 KB for the demo banner, 9.6 KB at 60 (home ≤ 60 KB).
    "share": Size(("fill-300x300|format-jpeg|jpegquality-60",), "300px"),
}


def specs(*size_names: str) -> list[str]:
    return [spec for name in size_names for spec in SIZES[name].specs]


def renditions_prefetch(field: str, *size_names: str) -> Prefetch:
    """Prefetch the renditions of ``size_names`` for the image in ``field`` (a
    lookup path through already joined relations, e.g. ``"cover"``) in one query;
    ``image.find_existing_renditions`` then reads them without a query."""
    rendition_model = get_image_model().get_rendition_model()
    return Prefetch(
        f"{field}__renditions",
        queryset=rendition_model.objects.filter(filter_spec__in=specs(*size_names)),
        to_attr="prefetched_renditions",
    )


def prefetch_renditions(uses) -> None:
    """One query for the renditions of every picture a page shows, whatever the
    lists they come from: ``uses`` is ``(image, size_names)`` pairs (an image
    None is skipped). Each image then finds its renditions without a query, as
    after ``renditions_prefetch``, which costs one query per list. Only each
    image's own sizes are loaded (a picture shown as a card and another as a
    banner do not bring each other's renditions), from SQL kept per shape
    (``core.prepared``)."""
    wanted: dict[int, list] = {}
    spec_names: dict[int, set] = defaultdict(set)
    for image, size_names in uses:
        if image is not None:
            wanted.setdefault(image.pk, []).append(image)
            spec_names[image.pk].update(specs(*size_names))
    if not wanted:
        return
    by_specs = defaultdict(list)
    for image_id, names in spec_names.items():
        by_specs[tuple(sorted(names))].append(image_id)
    groups = tuple(sorted((names, len(ids)) for names, ids in by_specs.items()))
    ids = [image_id for names, _count in groups for image_id in by_specs[names]]
    found = defaultdict(list)
    for rendition in _renditions(None, groups=groups, ids=ids):
        found[rendition.image_id].append(rendition)
    for image_id, same_image in wanted.items():
        for image in same_image:
            image.prefetched_renditions = found[image_id]


@prepared(values=("ids",))
def _renditions(now, *, groups, ids):
    """The renditions of ``groups`` ((spec names, number of images), …) for
    ``ids`` (the images of each group in turn)."""
    wanted, start = Q(), 0
    for names, count in groups:
        wanted |= Q(image_id__in=ids[start : start + count], filter_spec__in=names)
        start += count
    return get_image_model().get_rendition_model().objects.filter(wanted)


# ---------------------------------------------------------------------------
# The <img> tag
# ---------------------------------------------------------------------------

OPERATION = re.compile(r"^(fill|width)-(\d+)(?:x(\d+))?")


def expected_size(image, spec: str) -> tuple[int, int]:
    """Width and height Wagtail will give a rendition of ``spec`` (fill and width
    operations, which never upscale) that does not exist yet: exact for a crop
    around the centre, the same proportions when the image has a focal point."""
    method, width, height = OPERATION.match(spec).groups()
    width = int(width)
    if method == "width":
        if image.width <= width:
            return image.width, image.height
        return width, max(1, int(image.height * width / image.width))
    height = int(height)
    crop_width = min(image.width, image.height * width / height)
    if crop_width > width:  # cropped, then scaled down to the exact size
        return width, height
    crop = Rect.from_point(
        image.width / 2, image.height / 2, crop_width, crop_width * height / width
    )
    crop = crop.move_to_clamp(Rect(0, 0, image.width, image.height)).round()
    return crop.width, crop.height


def existing_renditions(image, filters) -> dict:
    """{filter: rendition} of the renditions that exist: from the prefetch when
    the listing loaded them, else from the shared ``renditions`` cache, else from
    the database — and then put in the cache (Wagtail's ``get_rendition`` does,
    ``find_existing_renditions`` only reads it), so a page's own picture costs no
    query the next time."""
    if image._get_prefetched_renditions() is not None:
        return image.find_existing_renditions(*filters)
    rendition_model = image.get_rendition_model()
    keys = {
        rendition_model.construct_cache_key(image, f.get_cache_key(image), f.spec): f
        for f in filters
    }
    cached = rendition_model.cache_backend.get_many(list(keys))
    if len(cached) == len(keys):
        return {keys[key]: rendition for key, rendition in cached.items()}
    found = image.find_existing_renditions(*filters)
    rendition_model.cache_backend.set_many(
        {key: found[f] for key, f in keys.items() if f in found}
    )
    return found


def candidates(image, size: Size) -> list[tuple[str, int, int]]:
    """(url, width, height) per rendition of ``size``; existing renditions come
    from the prefetch (or the renditions cache), missing ones from the signed
    image view. Candidates of equal width (a small original) are dropped."""
    found = existing_renditions(image, size.filters)
    result = []
    for rendition_filter in size.filters:
        rendition = found.get(rendition_filter)
        if rendition is not None:
            result.append((rendition.url, rendition.width, rendition.height))
        else:
            url = generate_image_url(image, rendition_filter.spec)
            result.append((url, *expected_size(image, rendition_filter.spec)))
    return result


def img_tag(image, size_name: str, **attrs) -> str:
    """``<img src srcset sizes width height …>`` for ``image`` at ``size_name``;
    ``attrs`` (``alt``, ``class``, ``loading``, …) are added escaped."""
    size = SIZES[size_name]
    options = candidates(image, size)
    src, width, height = options[min(size.src, len(options) - 1)]
    seen, srcset = set(), []
    for url, candidate_width, _height in options:
        if candidate_width not in seen:
            seen.add(candidate_width)
            srcset.append(f"{url} {candidate_width}w")
    attrs.setdefault("alt", "")
    # Each value escaped as format_html does, without its formatting
    # machinery (a page has up to 20 pictures; the tag was half their cost).
    extra = "".join(
        f' {name.replace("_", "-")}="{escape(value)}"' for name, value in attrs.items()
    )
    return mark_safe(  # noqa: S308 - every value escaped above and below
        f'<img src="{escape(src)}" srcset="{escape(", ".join(srcset))}" '
        f'sizes="{escape(size.sizes)}" width="{width}" height="{height}"{extra}>'
    )


# ---------------------------------------------------------------------------
# Making renditions when content is published
# ---------------------------------------------------------------------------


def make_renditions(image, *size_names: str) -> int:
    """Create the missing renditions of ``size_names`` for ``image`` (Wagtail
    makes them in bulk); the number of renditions asked for."""
    filters = [f for name in size_names for f in SIZES[name].filters]
    if image is None or not filters:
        return 0
    image.get_renditions(*filters)
    return len(filters)


@task()
def render_page_images(page_id: int) -> int:
    """Make every rendition a published page's pictures are shown in
    (``BasePage.get_images_to_render``); the number of renditions asked for."""
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    if page is None:
        return 0
    page = page.specific
    if not hasattr(page, "get_images_to_render"):
        return 0
    return sum(
        make_renditions(image, *sizes) for image, sizes in page.get_images_to_render()
    )


@task()
def render_image(image_id: int, size_names: list[str]) -> int:
    """Make the renditions of ``size_names`` for one image (settings, snippets)."""
    image = get_image_model().objects.filter(pk=image_id).first()
    return make_renditions(image, *size_names)


# Enqueued after the commit (the worker must see the published page). A queue that
# cannot take the task logs a warning and skips it: the image view makes the
# renditions on first request (portal/tasks.py).


def enqueue_page(page_id: int) -> None:
    enqueue_on_commit(render_page_images, page_id)


def enqueue_image(image_id: int | None, *size_names: str) -> None:
    if image_id:
        enqueue_on_commit(render_image, image_id, list(size_names))


def on_page_published(sender, instance, **kwargs):
    enqueue_page(instance.pk)


def on_lecturer_saved(sender, instance, **kwargs):
    enqueue_image(instance.photo_id, "lecturer")


def on_settings_saved(sender, instance, **kwargs):
    enqueue_image(instance.default_share_image_id, "share")


def connect_signals() -> None:
    from django.db.models.signals import post_save
    from wagtail.signals import page_published

    page_published.connect(on_page_published, dispatch_uid="images-page-published")
    post_save.connect(
        on_lecturer_saved, sender="events.Lecturer", dispatch_uid="images-lecturer"
    )
    post_save.connect(
        on_settings_saved, sender="home.SiteSettings", dispatch_uid="images-settings"
    )

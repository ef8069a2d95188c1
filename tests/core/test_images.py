"""Responsive images (core/images.py): WebP srcset of named sizes, made when a page
is published, never while a page renders; a missing rendition is linked through
the signed image view, which makes it on its first request."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.images.models import Rendition

from core import images
from events.models import Lecturer
from home.models import CommunityGalleryImage, CommunityPage, SiteSettings
from tests.factories import (
    ArticlePageFactory,
    HomePageFactory,
    ImageFactory,
    NewsIndexPageFactory,
    make_site,
)

pytestmark = pytest.mark.django_db

IMG = re.compile(r"<img [^>]+>")


def attributes(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def made_on_request(html: str) -> bool:
    """Whether ``html`` links a rendition through the signed image view."""
    return '"/images/' in html or ", /images/" in html


def specs_of(image) -> set[str]:
    return set(image.renditions.values_list("filter_spec", flat=True))


def test_img_tag_has_webp_srcset_sizes_and_dimensions():
    image = ImageFactory(file__width=1600, file__height=1000)
    image.get_renditions(*images.SIZES["card"].filters)
    html = images.img_tag(image, "card", loading="lazy", alt='甲院"<拾光>')
    attrs = attributes(html)
    candidates = [part.split() for part in attrs["srcset"].split(", ")]
    assert [width for _url, width in candidates] == ["400w", "800w"]
    assert all(url.endswith(".webp") for url, _width in candidates)
    assert attrs["src"] == candidates[0][0]
    assert (attrs["width"], attrs["height"]) == ("400", "225")
    assert attrs["sizes"] == images.SIZES["card"].sizes
    assert attrs["loading"] == "lazy"
    assert attrs["alt"] == "甲院&quot;&lt;拾光&gt;"  # escaped, never raw markup


def test_one_query_brings_each_picture_its_own_sizes_only():
    """``prefetch_renditions``: a picture shown as a portrait and one shown as a
    banner and a share card, both with renditions of every size, bring only
    the renditions of their own sizes, in one query; the tags need no other."""
    every_size = [f for size in images.SIZES.values() for f in size.filters]
    portrait, banner, unused = (ImageFactory() for _ in range(3))
    for image in (portrait, banner, unused):
        image.get_renditions(*every_size)
    portrait_again = type(portrait).objects.get(pk=portrait.pk)
    with CaptureQueriesContext(connection) as queries:
        images.prefetch_renditions(
            [
                (portrait, ("portrait",)),
                (banner, ("banner", "share")),
                (None, ("card",)),
                (portrait_again, ("portrait",)),
            ]
        )
        tags = [
            images.img_tag(portrait, "portrait"),
            images.img_tag(banner, "banner"),
            images.img_tag(portrait_again, "portrait"),
        ]
    assert len(queries) == 1
    specs = {
        image.pk: sorted(r.filter_spec for r in image.prefetched_renditions)
        for image in (portrait, banner)
    }
    assert specs == {
        portrait.pk: sorted(images.specs("portrait")),
        banner.pk: sorted(images.specs("banner", "share")),
    }
    assert len(portrait_again.prefetched_renditions) == 2
    assert not any(made_on_request(tag) for tag in tags)


def test_a_missing_rendition_is_linked_not_made_during_the_render(client):
    image = ImageFactory(file__width=1600, file__height=1000)
    html = images.img_tag(image, "banner")
    assert not image.renditions.exists()
    attrs = attributes(html)
    assert attrs["src"].startswith("/images/") and "fill-1200x600" in attrs["src"]
    assert (attrs["width"], attrs["height"]) == ("1200", "600")
    # Its first request makes it and redirects to the file.
    response = client.get(attrs["src"])
    assert response.status_code == 302
    rendition = image.renditions.get()
    assert response["Location"] == rendition.url
    assert (rendition.width, rendition.height) == (1200, 600)


def test_a_forged_rendition_link_is_refused(client):
    image = ImageFactory()
    url = attributes(images.img_tag(image, "card"))["src"]
    forged = url.replace("fill-400x225", "fill-4000x2250")
    assert client.get(forged).status_code == 403
    assert not image.renditions.exists()


@pytest.mark.parametrize(
    "size,spec",
    [
        ((1600, 1000), "fill-800x450|format-webp"),
        ((300, 200), "fill-800x450|format-webp"),  # small: cropped, not upscaled
        ((200, 600), "fill-400x400|format-webp"),
        ((1600, 1000), "width-800|format-webp"),
        ((500, 900), "width-800|format-webp"),
    ],
)
def test_expected_size_is_what_wagtail_makes(size, spec):
    image = ImageFactory(file__width=size[0], file__height=size[1])
    rendition = image.get_rendition(spec)
    assert images.expected_size(image, spec) == (rendition.width, rendition.height)


@pytest.fixture
def news_site(db):
    from wagtail.models import Page

    home = HomePageFactory(parent=Page.get_first_root_node(), slug="img-home")
    make_site("img.test", home)
    return NewsIndexPageFactory(parent=home)


def test_a_listing_makes_no_rendition_however_many_cards(client, news_site):
    for i in range(12):
        ArticlePageFactory(parent=news_site, slug=f"a{i}", cover=ImageFactory())
    before = Rendition.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/news/", HTTP_HOST="img.test").content.decode()
    assert Rendition.objects.count() == before
    assert not any(
        'wagtailimages_rendition" (' in q["sql"] for q in ctx.captured_queries
    )
    cards = [tag for tag in IMG.findall(html) if "share-image" not in tag]
    assert len(cards) == 10  # one page of the listing
    assert all("srcset=" in tag and made_on_request(tag) for tag in cards)


def test_publishing_makes_the_renditions_the_page_is_shown_in(
    django_capture_on_commit_callbacks,
):
    page = CommunityPage.objects.get(slug="jiayuan")
    cover = ImageFactory(file__width=1600, file__height=1000)
    photo = ImageFactory()
    page.cover = cover
    page.gallery_images.add(CommunityGalleryImage(image=photo))
    page.story = [("figure", {"image": photo, "caption": "合影"})]
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    assert specs_of(cover) == set(images.specs("card", "banner", "share"))
    assert specs_of(photo) == set(images.specs("gallery", "figure"))
    html = images.img_tag(cover, "card")
    assert not made_on_request(html) and "/media/images/" in html


def test_lecturer_and_default_share_image_renditions_are_made_on_save(
    django_capture_on_commit_callbacks,
):
    photo, share = ImageFactory(), ImageFactory(file__width=800, file__height=800)
    with django_capture_on_commit_callbacks(execute=True):
        Lecturer.objects.create(name="李老师", photo=photo)
        settings = SiteSettings.objects.first()
        settings.default_share_image = share
        settings.save()
    assert specs_of(photo) == set(images.specs("lecturer"))
    assert specs_of(share) == set(images.specs("share"))


def test_demo_pages_use_made_renditions_only(client):
    """load_demo publishes every page, so no picture goes through the image view."""
    for path in ("/", "/communities/", "/communities/jiayuan/", "/honours/", "/news/"):
        html = client.get(path).content.decode()
        tags = [tag for tag in IMG.findall(html) if "share-image" not in tag]
        assert tags, path
        for tag in tags:
            attrs = attributes(tag)
            assert not made_on_request(tag), tag
            assert ".webp " in attrs["srcset"] and attrs["sizes"], tag

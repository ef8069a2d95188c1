"""The admin form of every portal page (``BasePage.base_form_class``).

Slugs: Wagtail's own script copies the title into the slug as typed — Chinese
characters, which become ``%E7%94%B2…`` in shared links — and a slug already used
under the same parent fails with Wagtail's English "The slug … is already in
use". This form decides the slug on the server instead: left empty, or still the
title (what the script copies), or still the pinyin of the page's earlier title
on a page never published, it becomes the title's pinyin, made unique under the
parent with a ``-2``, ``-3`` … suffix. A slug the editor typed that is taken gets
a Chinese message. An autosave (Wagtail 8 saves the create form in the
background) sends the slug back to the open form (``get_field_updates_for_resave``),
so the editor sees the pinyin on the main tab while still typing.
"""

import re

from django.utils.text import slugify
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.models import Page

from .slugs import follows_title, has_cjk, pinyin_slug, unique_slug

ASCII_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
SLUG_HELP = (
    "页面网址的最后一段。留空或保持默认，保存时按标题拼音自动生成"
    "（如 jia-yuan-shu-hua-ke）；也可自己填写小写字母、数字和连字符。"
)


class PageForm(WagtailAdminPageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slug_was_generated = False
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = SLUG_HELP
            # Checked in fill_slug: a slug with Chinese characters is turned
            # into pinyin there, not refused.
            self.fields["slug"].validators = []

    def clean(self):
        self.fill_slug()
        return super().clean()

    def fill_slug(self):
        if "slug" not in self.fields or "slug" not in self.cleaned_data:
            return
        title = self.cleaned_data.get("title") or self.instance.title or ""
        slug = self.cleaned_data["slug"] or ""
        if self.instance.first_published_at and slug == self.instance.slug:
            return  # a published address stays as it is, whatever it looks like
        if self.is_automatic(slug, title):
            if not title:
                return  # nothing to make it from: the title's own error says so
            source = title
        elif has_cjk(slug):
            source = slug  # the editor's own words: in pinyin
        else:
            source = None
        if source is not None:
            self.cleaned_data["slug"] = self.free_slug(pinyin_slug(source))
            self.slug_was_generated = True
        elif not ASCII_SLUG.fullmatch(slug):
            self.add_error("slug", "网址只能包含字母、数字、连字符和下划线。")
        elif self.parent_page is not None and not Page._slug_is_available(
            slug, self.parent_page, self.instance
        ):
            self.add_error(
                "slug",
                f"同一栏目下已有网址为“{slug}”的页面。请换一个，"
                "或清空这一栏，保存时会按标题拼音自动生成不重复的网址。",
            )

    def is_automatic(self, slug: str, title: str) -> bool:
        """Whether the slug is still the machine's to choose (see the module)."""
        if not slug or slug == slugify(title, allow_unicode=True):
            return True
        instance = self.instance
        never_published = not instance.pk or instance.first_published_at is None
        return never_published and follows_title(slug, instance.title or "")

    def free_slug(self, base: str) -> str:
        if self.parent_page is None:
            return base
        return unique_slug(base, self.parent_page, self.instance)

    def get_field_updates_for_resave(self):
        updates = list(super().get_field_updates_for_resave())
        if self.slug_was_generated:
            updates.append(("slug", self.cleaned_data["slug"]))
        return updates

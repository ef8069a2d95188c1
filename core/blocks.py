"""StreamField blocks shared by every page type that has a body."""

from django.apps import apps
from django.core.exceptions import ValidationError
from wagtail import blocks
from wagtail.images.blocks import ImageBlock
from wagtail.models import Site


class ParagraphBlock(blocks.RichTextBlock):
    class Meta:
        icon = "pilcrow"
        label = "段落"
        template = "blocks/paragraph_block.html"
        preview_value = "<p>社区是居民共同的家。</p>"
        features = ["h2", "h3", "bold", "italic", "ol", "ul", "link"]


class FigureBlock(blocks.StructBlock):
    image = ImageBlock(label="图片")
    caption = blocks.CharBlock(label="图片说明", required=False, max_length=120)

    class Meta:
        icon = "image"
        label = "图片"
        template = "blocks/figure_block.html"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label="引文")
    attribution = blocks.CharBlock(label="出处或讲述人", required=False)

    class Meta:
        icon = "openquote"
        label = "引用"
        template = "blocks/quote_block.html"
        preview_value = {"text": "管好自家事，关心楼组事，参与社区事。"}


class FactBlock(blocks.StructBlock):
    figure = blocks.CharBlock(label="数字", max_length=20, help_text="如 48 支、60%")
    label = blocks.CharBlock(label="说明", max_length=40)

    class Meta:
        icon = "order"
        label = "数字"


class FactsBlock(blocks.ListBlock):
    def __init__(self, **kwargs):
        super().__init__(FactBlock(), **kwargs)

    class Meta:
        icon = "table"
        label = "数字一览"
        template = "blocks/facts_block.html"


class GalleryItemBlock(blocks.StructBlock):
    image = ImageBlock(label="照片")
    caption = blocks.CharBlock(label="说明", required=False, max_length=60)

    class Meta:
        icon = "image"
        label = "照片"


class GalleryBlock(blocks.ListBlock):
    """A grid of photos, e.g. those of an activity in its 活动回顾."""

    def __init__(self, **kwargs):
        super().__init__(GalleryItemBlock(), **kwargs)

    class Meta:
        icon = "image"
        label = "照片墙"
        template = "blocks/gallery_block.html"


class BodyBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock()
    figure = FigureBlock()
    gallery = GalleryBlock()
    quote = QuoteBlock()
    facts = FactsBlock()

    class Meta:
        block_counts = {}


RETENTION_PLACEHOLDER = "{天数}"


class RetentionNoticeBlock(blocks.StructBlock):
    """The privacy notice's "how long we keep it" sentence. The number of days is
    the site setting 报名信息保留天数 — the one the purge uses — so the notice and
    what actually happens cannot drift apart."""

    text = blocks.TextBlock(
        label="文字",
        default=(
            f"保存多久：活动结束 {RETENTION_PLACEHOLDER} 天后，我们会删除您的姓名、"
            "手机号等报名信息，只保留报名人数、签到人数等无法识别到个人的统计数字。"
        ),
        help_text=(
            f"文字中的 {RETENTION_PLACEHOLDER} 会显示为站点设置里的“报名信息保留天数”"
        ),
    )

    class Meta:
        icon = "time"
        label = "报名信息保存期限"
        template = "blocks/retention_notice_block.html"

    def clean(self, value):
        value = super().clean(value)
        if RETENTION_PLACEHOLDER not in value["text"]:
            raise blocks.StructBlockValidationError(
                block_errors={
                    "text": ValidationError(
                        f"请在文字中保留 {RETENTION_PLACEHOLDER}，页面上会换成"
                        "站点设置里的报名信息保留天数。"
                    )
                }
            )
        return value

    def get_context(self, value, parent_context=None):
        # By label: the settings model is home's, and core sits under home.
        SiteSettings = apps.get_model("home", "SiteSettings")

        context = super().get_context(value, parent_context)
        request = (parent_context or {}).get("request")
        if request is not None:
            days = SiteSettings.for_request(request).registration_retention_days
        else:  # rendered outside a request (a shell, a test): the default site's
            site = Site.objects.filter(is_default_site=True).first()
            days = (
                SiteSettings.for_site(site).registration_retention_days
                if site is not None
                else SiteSettings._meta.get_field("registration_retention_days").default
            )
        context["text"] = value["text"].replace(RETENTION_PLACEHOLDER, str(days))
        return context


class StandardBodyBlock(BodyBlock):
    """正文 of a plain page; the privacy notice also takes the retention sentence."""

    retention = RetentionNoticeBlock()

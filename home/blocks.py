"""StreamField blocks shared by every page type that has a body."""

from wagtail import blocks
from wagtail.images.blocks import ImageBlock


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


class BodyBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock()
    figure = FigureBlock()
    quote = QuoteBlock()
    facts = FactsBlock()

    class Meta:
        block_counts = {}

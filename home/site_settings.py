"""站点设置 (``SiteSettings``): the site's names, contact, WeChat account, ICP
number, default share image, footer pages and how long sign-up data is kept.

Its own module to keep home/models.py about pages; home.models imports it (so the
model is registered with the home app, no migration) and re-exports it.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from core.models import image_field
from portal import pagecache

RETENTION_DAYS_DEFAULT = 90
RETENTION_DAYS_MIN = 7
RETENTION_DAYS_MAX = 365


@register_setting(icon="cog")
class SiteSettings(BaseSiteSetting):
    """站点设置: names, contact, WeChat account, ICP number, default share image."""

    # Read on every page (footer links, share card): one query for all of it,
    # kept under the content generation (``for_site``).
    select_related = ["about_page", "privacy_page", "default_share_image"]

    @classmethod
    def for_site(cls, site):
        return pagecache.remember(
            f"site-settings:{site.pk}", lambda: super(SiteSettings, cls).for_site(site)
        )

    site_name = models.CharField(
        "站点名称", max_length=40, default="花园路街道社区门户"
    )
    subdistrict_name = models.CharField(
        "街道名称", max_length=40, default="花园路街道", help_text="页脚和海报上显示"
    )
    contact_phone = models.CharField("联系电话", max_length=40, blank=True)
    address = models.CharField("办公地址", max_length=120, blank=True)
    wechat_account = models.CharField("微信公众号名称", max_length=40, blank=True)
    wechat_qr = image_field("公众号二维码")
    icp_number = models.CharField(
        "ICP 备案号", max_length=40, blank=True, help_text="如“豫ICP备12345678号-1”"
    )
    default_share_image = image_field(
        "默认分享图", help_text="页面没有封面时用于微信分享卡片，至少 300×300"
    )

    about_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name="“关于我们”页面",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    privacy_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name="隐私政策页面",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="每个报名表单都会链接到这里",
    )
    # How long residents' names and phones outlive their activity (PIPL art. 19:
    # no longer than the purpose needs). The daily purge_personal_data run reads
    # it, and the privacy page and the sign-up form show it.
    registration_retention_days = models.PositiveSmallIntegerField(
        "报名信息保留天数",
        default=RETENTION_DAYS_DEFAULT,
        validators=[
            MinValueValidator(
                RETENTION_DAYS_MIN,
                f"至少保留 {RETENTION_DAYS_MIN} 天：活动结束后还要核对签到、"
                "回复居民的询问。",
            ),
            MaxValueValidator(
                RETENTION_DAYS_MAX,
                f"最多保留 {RETENTION_DAYS_MAX} 天：个人信息只能保存到活动"
                "需要的最短时间。",
            ),
        ],
        help_text="活动结束多少天后，自动删除报名人的姓名、手机号、楼院和备注"
        "（人数和签到统计保留）。隐私政策页面和报名表上显示的天数随之改变。",
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("site_name"), FieldPanel("subdistrict_name")], heading="名称"
        ),
        MultiFieldPanel(
            [FieldPanel("contact_phone"), FieldPanel("address")], heading="联系方式"
        ),
        MultiFieldPanel(
            [FieldPanel("wechat_account"), FieldPanel("wechat_qr")], heading="微信"
        ),
        FieldPanel("icp_number"),
        FieldPanel("default_share_image"),
        MultiFieldPanel(
            [FieldPanel("about_page"), FieldPanel("privacy_page")], heading="页脚链接"
        ),
        FieldPanel("registration_retention_days", heading="个人信息"),
    ]

    class Meta:
        verbose_name = "站点设置"

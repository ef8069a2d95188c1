"""志愿服务时长 and 微心愿 in 活动统计 (报告 › 活动统计): two sections of the
year-end report by community, through events' hook ``year_report_sections``
(``events/report_sections.py``; registered in ``wagtail_hooks.py``). Counts
only, no person: nothing to mask.

Hours: two queries whatever the number of volunteers and records, one grouped by
community, one for the totals (a volunteer who served in two communities counts
once in 合计). Wishes: one grouped query.
"""

from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from events.report_sections import Section
from events.stats import year_bounds

from .models import ServiceRecord, ServiceSource
from .wish_models import Wish, WishState

CENT = Decimal("0.01")
COLUMNS = [
    ("volunteers", "服务志愿者（人）"),
    ("records", "服务记录（条）"),
    ("hours", "服务时长（小时）"),
    ("post_hours", "其中活动岗位（小时）"),
]
DEFINITIONS = [
    "志愿服务时长：服务日期在当年的服务记录（活动岗位签退记录的时长和工作人员录入的"
    "日常服务时长），以更正后的时长为准；按记录所属社区统计：街道统一组织的活动，"
    "岗位时长记入志愿者所在社区；不属于任何社区的志愿者的日常服务单列一行。",
    "服务志愿者：当年有服务记录的志愿者人数；在几个社区服务的志愿者各社区都计入，"
    "合计只计一次。",
]


def _figures(row: dict) -> dict:
    return {
        "volunteers": row["n_volunteers"],
        "records": row["n_records"],
        "hours": Decimal(row["n_hours"] or 0).quantize(CENT),
        "post_hours": Decimal(row["n_post_hours"] or 0).quantize(CENT),
    }


def hours_section(year: int, *, community_ids=None, now=None) -> Section:
    """Service hours of ``year`` by community (全街道: records of no community,
    shown to the unscoped only) and in total."""
    records = ServiceRecord.objects.filter(
        date__gte=date(year, 1, 1), date__lt=date(year + 1, 1, 1)
    )
    if community_ids is not None:
        records = records.filter(community_id__in=community_ids)
    figures = {
        "n_volunteers": Count("volunteer", distinct=True),
        "n_records": Count("pk"),
        "n_hours": Sum("hours"),
        "n_post_hours": Sum("hours", filter=Q(source=ServiceSource.POST)),
    }
    by_community = {
        row["community_id"]: _figures(row)
        for row in records.order_by().values("community_id").annotate(**figures)
    }
    return Section(
        title="志愿服务时长（按社区）",
        sheet="志愿服务时长",
        columns=COLUMNS,
        by_community=by_community,
        total=_figures(records.aggregate(**figures)),
        zero={"hours": Decimal("0.00"), "post_hours": Decimal("0.00")},
        definitions=DEFINITIONS,
    )


WISH_COLUMNS = [
    ("published", "发布（个）"),
    ("open", "待认领"),
    ("claimed", "已认领"),
    ("fulfilled", "已完成"),
]
WISH_DEFINITIONS = [
    "微心愿：当年发布（按发布时间）且未撤下的心愿，按心愿所属社区统计，"
    "不属于任何社区的心愿单列一行；待认领、已认领、已完成为统计时的状态。",
]


def wishes_section(year: int, *, community_ids=None, now=None) -> Section:
    """Wishes published in ``year`` by community and by their state now."""
    start, end = year_bounds(year)
    wishes = Wish.objects.filter(published_at__gte=start, published_at__lt=end)
    wishes = wishes.exclude(state=WishState.WITHDRAWN)
    if community_ids is not None:
        wishes = wishes.filter(community_id__in=community_ids)
    by_community: dict = {}
    total = {key: 0 for key, _ in WISH_COLUMNS}
    grouped = wishes.order_by().values("community_id", "state").annotate(n=Count("pk"))
    for row in grouped:
        figures = by_community.setdefault(
            row["community_id"], {key: 0 for key, _ in WISH_COLUMNS}
        )
        for target in (figures, total):
            target["published"] += row["n"]
            target[row["state"]] += row["n"]
    return Section(
        title="微心愿（按社区）",
        sheet="微心愿",
        columns=WISH_COLUMNS,
        by_community=by_community,
        total=total,
        definitions=WISH_DEFINITIONS,
    )

"""Charts of the year-end report (活动统计), drawn by pygal as SVG inline in the
admin page: no request to another host, nothing that runs.

pygal writes a ``<script>`` with its configuration into every chart and, by
default, a second one loading its tooltips from kozea.github.io. ``js=[]`` drops
the second; ``without_scripts`` (an XML filter, pygal's hook on the finished
tree) drops the first and pygal's comments. Values are printed on the
bars instead of shown in tooltips. Text uses the CJK font stack of the site
(Debian's fonts-noto-cjk on the server, 微软雅黑 / 苹方 on staff computers).
"""

from __future__ import annotations

from xml.etree import ElementTree

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from ..stats import YearFigures

CJK_FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", '
    '"PingFang SC", "Hiragino Sans GB", sans-serif'
)
STYLE = Style(
    font_family=CJK_FONTS,
    background="transparent",
    plot_background="#ffffff",
    foreground="#262626",
    foreground_strong="#262626",
    foreground_subtle="#5c5c5c",
    colors=("#c8102e", "#1b8666", "#d98c00"),
    value_font_size=11,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    no_data_font_size=20,
)


def without_scripts(root):
    """pygal's tree without ``<script>`` elements and comments."""
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == "script" or child.tag is ElementTree.Comment:
                parent.remove(child)
    return root


def _config(**options) -> dict:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "legend_at_bottom": True,
        "print_values": True,
        "print_zeroes": False,
        "no_data_text": "暂无数据",
        "width": 800,
        "height": 360,
        **options,
    }


def integer_ticks(*series: list[int]) -> list[int]:
    """Axis ticks for counts: whole numbers only (pygal would mark 0.2, 0.4 …),
    about eight of them."""
    top = max([0, *[v for values in series for v in values]])
    step = max(1, -(-top // 8))
    return list(range(0, top + step + 1, step)) if top else [0, 1]


def _render(chart) -> SafeString:
    chart.add_xml_filter(without_scripts)
    # pygal's etree escapes every label (community and activity titles).
    return mark_safe(chart.render(is_unicode=True))


def monthly_chart(figures: YearFigures) -> SafeString:
    rows = figures.by_month
    series = {
        "报名人数": [f.people for _, f in rows],
        "签到人数": [f.checked_in for _, f in rows],
        "候补人数": [f.waitlisted_people for _, f in rows],
    }
    chart = pygal.Bar(
        **_config(
            title=f"{figures.year} 年各月报名与签到人数",
            y_labels=integer_ticks(*series.values()),
        )
    )
    chart.x_labels = [label for label, _ in rows]
    for label, values in series.items():
        chart.add(label, values)
    return _render(chart)


def community_chart(figures: YearFigures) -> SafeString:
    # pygal draws the first label at the bottom: reversed, the table's order.
    rows = list(reversed(figures.by_community))
    sessions = [f.sessions for _, f in rows]
    checked_in = [f.checked_in for _, f in rows]
    longest = max([len(label) for label, _ in rows] or [0])
    chart = pygal.HorizontalBar(
        **_config(
            title=f"{figures.year} 年各社区举办场次与签到人数",
            height=max(240, 60 + 40 * len(rows)),
            y_labels=integer_ticks(sessions, checked_in),
            # pygal sizes label room for Latin letters; a Chinese character is
            # about twice as wide.
            margin_left=min(longest, 12) * 7,
        )
    )
    chart.x_labels = [label for label, _ in rows]
    chart.add("举办场次", sessions)
    chart.add("签到人数", checked_in)
    return _render(chart)


def kind_chart(figures: YearFigures) -> SafeString:
    chart = pygal.Pie(
        **_config(
            title=f"{figures.year} 年各类型举办场次", inner_radius=0.45, height=320
        )
    )
    for label, f in figures.by_kind:
        chart.add(label, f.sessions)
    return _render(chart)


def year_charts(figures: YearFigures) -> list[SafeString]:
    """One chart per table of ``figures.tables()``, in the same order."""
    return [community_chart(figures), monthly_chart(figures), kind_chart(figures)]

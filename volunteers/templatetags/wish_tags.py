"""Template tags of the 微心愿 board for other apps' pages (home may not import
volunteers; its community page loads this library).

``{% community_wishes page %}``: the community's 待认领 / 已认领 / 已完成 counts
with a link to its board — one query (a conditional aggregate); nothing when
the site has no board. The board's address is kept like the navigation
(``pagecache.remember``), so a warm page spends no query on it."""

from django import template

from ..wish_views import board_url_for, community_counts

register = template.Library()


@register.inclusion_tag("volunteers/includes/community_wishes.html")
def community_wishes(page):
    board = board_url_for(page.home_path)
    if board is None:
        return {"board_url": None}
    return {
        "board_url": f"{board}{page.slug}/",
        "counts": community_counts(page.pk),
        "community": page,
    }

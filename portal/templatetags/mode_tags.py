"""``{% mode_switch %}``: the 长辈模式 / 标准模式 link in every page's header
(portal/elder.py)."""

from django import template

from portal import elder

register = template.Library()


@register.inclusion_tag("includes/mode_switch.html", takes_context=True)
def mode_switch(context):
    request = context.get("request")
    if request is None:
        return {"url": None}
    on = elder.is_elder(request)
    return {
        "elder_mode": on,
        "url": elder.switch_url(request, elder.STANDARD if on else elder.ELDER),
    }

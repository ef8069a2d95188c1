"""Template filters of 志愿服务's pages."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def hours(value) -> str:
    """Hours as people write them: 4.5, 2, 0.25 (no trailing zeros)."""
    try:
        number = Decimal(value or 0).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return ""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

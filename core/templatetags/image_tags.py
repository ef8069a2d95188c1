"""``{% responsive_image image "card" loading="lazy" alt="…" %}``: an <img> with a
WebP srcset of one of the named sizes in core/images.py."""

from django import template

from core import images

register = template.Library()


@register.simple_tag
def responsive_image(image, size_name, **attrs):
    """Nothing when there is no image; see ``core.images.img_tag``."""
    if image is None:
        return ""
    return images.img_tag(image, size_name, **attrs)

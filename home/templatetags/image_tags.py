"""``{% responsive_image image "card" loading="lazy" alt="…" %}``: an <img> with a
WebP srcset of one of the named sizes in home/images.py."""

from django import template

from home import images

register = template.Library()


@register.simple_tag
def responsive_image(image, size_name, **attrs):
    """Nothing when there is no image; see ``home.images.img_tag``."""
    if image is None:
        return ""
    return images.img_tag(image, size_name, **attrs)

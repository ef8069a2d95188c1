"""The Wagtail ``Site`` a request is for, with its root page in its specific
type and pictures, remembered per content generation (``pagecache.remember``):
Wagtail looks the site up with one query on every request, then loads the
root page's specific type with another before routing. A saved or deleted
``Site`` and any publish bump the generation (``portal.pagecache``)."""

import hashlib

from django.http.request import split_domain_port
from wagtail.models import Site
from wagtail.models.sites import get_site_for_hostname

from portal import pagecache


def find_site(request) -> Site | None:
    """What ``Site.find_for_request`` finds for ``request`` (the same match on
    hostname and port, the default site otherwise), its ``root_page`` already
    specific with the pictures it shows (``image_sizes``) joined."""
    hostname = split_domain_port(request._get_raw_host())[0]
    port = request.get_port()

    def build():
        try:
            site = get_site_for_hostname(hostname, port)
        except Site.DoesNotExist:
            return None
        model = site.root_page.specific_class
        if model is not None:
            pictures = list(getattr(model, "image_sizes", {}))
            site.root_page = (
                model.objects.select_related(*pictures).filter(pk=site.root_page_id)
            ).first() or site.root_page
        return site

    # Any Host header may arrive here: the key is its digest.
    name = hashlib.sha256(f"{hostname}:{port}".encode()).hexdigest()
    return pagecache.remember(f"site:{name}", build)


class SiteMiddleware:
    """Hands Wagtail the remembered site (``find_site``): ``Site.find_for_request``
    returns ``request._wagtail_site`` when it is set. After ``CommonMiddleware``,
    so the Host header has passed ``ALLOWED_HOSTS``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request._wagtail_site = find_site(request)
        return self.get_response(request)

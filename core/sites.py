"""The Wagtail ``Site`` a request is for, with its root page in its specific
type and pictures, remembered per content generation (``pagecache.remember``):
Wagtail looks the site up with one query on every request, then loads the
root page's specific type with another before routing. A saved or deleted
``Site`` and any publish bump the generation (``portal.pagecache``)."""

import hashlib

from django.db import Error as DatabaseError
from django.http.request import split_domain_port
from wagtail.models import Site
from wagtail.models.sites import get_site_for_hostname
from wagtail.views import serve

from portal import failure, pagecache


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
    """Hands Wagtail's page view the remembered site (``find_site``):
    ``Site.find_for_request`` returns ``request._wagtail_site`` when it is set.
    Only for the views that serve pages (Wagtail's ``serve``, or a view marked
    ``serves_pages = True`` that calls it), just before they run; after
    ``CommonMiddleware``, so the Host header has passed ``ALLOWED_HOSTS``. The
    admin and other views look the site up as before."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        serves_pages = view_func is serve or getattr(view_func, "serves_pages", False)
        if serves_pages and not hasattr(request, "_wagtail_site"):
            try:
                request._wagtail_site = find_site(request)
            except DatabaseError as error:
                # Raised here, no view's process_exception sees it: the same
                # 503 or last good copy as a failure inside the view.
                response = failure.handle_outage(request, error)
                if response is None:
                    raise
                return response
        return None

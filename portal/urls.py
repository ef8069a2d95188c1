from django.conf import settings
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls
from wagtail.images.views.serve import ServeView

from events import my_views
from events.views import serve_page_file
from home import admin_urls as scoped_admin_urls
from notify import views as notify_views
from portal import elder
from search import views as search_views

urlpatterns = [
    # Wagtail views limited to the pages an editor may see (home/admin_scope.py),
    # at the same paths as Wagtail's: they must come first.
    path("admin/", include(scoped_admin_urls)),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # Signed rendition URLs (core/images.py): a picture whose rendition does not
    # exist yet is made on its first request here, then redirected to the file.
    re_path(
        r"^images/([^/]*)/(\d*)/([^/]*)/[^/]*$",
        ServeView.as_view(action="redirect"),
        name="wagtailimages_serve",
    ),
    path("search/", search_views.search, name="search"),
    # 我的报名: a resident's sign-ups from any phone (events/my_views.py).
    path("my/", my_views.my_signups, name="my_signups"),
    path("my/cancel/<str:token>/", my_views.my_cancel, name="my_signup_cancel"),
    path("my/forget/", my_views.my_forget, name="my_signups_forget"),
    # … or by a one-time code sent by SMS (notify/views.py).
    path("my/sms/", notify_views.my_sms_code, name="my_signups_sms"),
    path("share/", include("sharing.urls")),
    # 长辈模式 / 标准模式 switch in every page's header (portal/elder.py).
    path("mode/<str:mode>/", elder.switch, name="switch_mode"),
    path("sitemap.xml", sitemap, name="sitemap"),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots_txt",
    ),
]

if settings.SERVE_MEDIA:
    # In production a reverse proxy or shared storage serves media; the demo site and
    # the browser tests have neither, so Django serves it there.
    from django.views.static import serve

    urlpatterns += [
        path(
            "media/<path:path>",
            serve,
            {"document_root": settings.MEDIA_ROOT},
            name="media",
        )
    ]

urlpatterns += [
    # Page routes that end in a file name (…/calendar.ics, …/qr.svg): Wagtail's own
    # pattern only takes paths of “name/” segments.
    re_path(
        r"^(?P<path>(?:[\w\-]+/)*[\w\-]+\.(?:ics|svg))$",
        serve_page_file,
        name="page_file",
    ),
    path("", include(wagtail_urls)),
]

"""Admin URLs in place of Wagtail's, for the views of home/admin_scope.py.

portal/urls.py mounts these under ``admin/`` before Wagtail's admin URLs, so that
these paths reach the scoped views first (Wagtail has no hook to replace its
chooser, move-confirmation or report views).
"""

from django.urls import path
from django.views.decorators.cache import never_cache
from wagtail.admin.auth import require_admin_access
from wagtail.admin.urls import display_custom_404
from wagtail.utils.urlpatterns import decorate_urlpatterns

from . import admin_scope

# Relative to admin/; each the same path as the Wagtail view it replaces (no
# names: reversing Wagtail's names gives these paths), decorated as Wagtail
# decorates its admin URLs.
urlpatterns = decorate_urlpatterns(
    [
        path("choose-page/", admin_scope.BrowseView.as_view()),
        path("choose-page/<int:parent_page_id>/", admin_scope.BrowseView.as_view()),
        path("choose-page/chosen-multiple/", admin_scope.ChosenMultipleView.as_view()),
        path(
            "pages/<int:page_to_move_id>/move/<int:destination_id>/confirm/",
            admin_scope.ScopedMoveConfirmView.as_view(),
        ),
        path(
            "reports/page-types-usage/",
            admin_scope.ScopedPageTypesUsageReportView.as_view(),
        ),
        path(
            "reports/page-types-usage/results/",
            admin_scope.ScopedPageTypesUsageReportView.as_view(results_only=True),
        ),
    ],
    require_admin_access,
)
urlpatterns = decorate_urlpatterns(urlpatterns, display_custom_404)
urlpatterns = decorate_urlpatterns(urlpatterns, never_cache)

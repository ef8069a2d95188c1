"""Admin hooks of the home app: editors see other parts of the tree only as far as
the explorer shows them (home/admin_scope.py); the create form offers the
editor's unfinished drafts (home/drafts.py); a submit while an autosave is on
its way waits for it (static/js/admin/submit-after-autosave.js)."""

from django.templatetags.static import static
from django.utils.html import format_html
from wagtail import hooks

from . import admin_scope, drafts

hooks.register("construct_page_chooser_queryset", admin_scope.scope_chooser_queryset)
hooks.register("before_copy_page", admin_scope.scope_copy)
hooks.register("before_create_page", drafts.offer_unfinished_drafts)

# order=1: registered after Wagtail's own actions of the same names, which these
# replace in the bulk-action registry.
for action in admin_scope.BULK_ACTIONS:
    hooks.register("register_bulk_action", action, order=1)


@hooks.register("insert_editor_js")
def submit_after_autosave():
    return format_html(
        '<script src="{}"></script>', static("js/admin/submit-after-autosave.js")
    )

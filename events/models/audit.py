"""The audit log (站点历史) as each user may see it.

Wagtail keeps every non-page log entry in one table (``ModelLogEntry``) and shows
a user every entry of a model they hold any permission on. A community editor
may see sign-ups, so they would see every community's sign-up entries (code,
masked phone, activity) and every export. ``ScopedModelLogEntry`` is the same
table (a proxy, no migration of data) whose ``viewable_by_user`` also applies
the sign-up community scope (``events/staff/access.py``); events/wagtail_hooks.py
makes Wagtail log and read non-page entries through it.
"""

from wagtail.models import ModelLogEntry
from wagtail.models.audit_log import ModelLogEntryManager


class ScopedModelLogEntryManager(ModelLogEntryManager):
    def viewable_by_user(self, user):
        # access imports the models: import it when first used.
        from ..staff import access

        return access.scoped_log_entries(super().viewable_by_user(user), user)


class ScopedModelLogEntry(ModelLogEntry):
    objects = ScopedModelLogEntryManager()

    class Meta:
        proxy = True
        verbose_name = "操作记录"
        verbose_name_plural = "操作记录"

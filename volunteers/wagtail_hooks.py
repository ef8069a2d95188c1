"""Admin hooks of the volunteers app: the audit-log actions (站点历史)."""

from wagtail import hooks

from . import audit


@hooks.register("register_log_actions")
def register_volunteer_log_actions(actions):
    for action, formatter in audit.FORMATTERS.items():
        actions.register_action(action)(formatter)

"""Admin panels shared by page types."""

from wagtail.admin.panels import MultiFieldPanel


class OpenWhenUsedPanel(MultiFieldPanel):
    """A group of optional fields that starts collapsed while all of
    ``used_if`` are empty on the page, and open once one of them is filled, so
    an editor reopening a page sees the settings it has (e.g. 重复活动)."""

    def __init__(self, *args, used_if=(), **kwargs):
        self.used_if = tuple(used_if)
        super().__init__(*args, **kwargs)

    def clone_kwargs(self):
        return {**super().clone_kwargs(), "used_if": self.used_if}

    class BoundPanel(MultiFieldPanel.BoundPanel):
        def classes(self):
            classes = [c for c in super().classes() if c != "collapsed"]
            used = self.panel.used_if
            if not any(getattr(self.instance, name, None) for name in used):
                classes.append("collapsed")
            return classes

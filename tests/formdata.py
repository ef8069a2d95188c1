"""The fields of an HTML form as a browser would submit them untouched: for
tests that post Wagtail's admin forms (page create/edit) with a few fields
changed, without spelling out every management field of its formsets."""

from html.parser import HTMLParser


class _FormFields(HTMLParser):
    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = form_id is None
        self.data: dict[str, str] = {}
        self._textarea = None
        self._select = None
        self._select_first = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.form_id is not None:
            self.inside = attrs.get("id") == self.form_id
            return
        if not self.inside or "name" not in attrs and tag != "option":
            return
        name = attrs.get("name")
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
                return
            self.data.setdefault(name, attrs.get("value") or "")
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""
        elif tag == "select":
            self._select = name
            self._select_first = None
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                self.data[self._select] = value

    def handle_endtag(self, tag):
        if tag == "form" and self.form_id is not None:
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            self.data.setdefault(self._select, self._select_first or "")
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def form_fields(html: str, form_id: str | None = "page-edit-form") -> dict[str, str]:
    parser = _FormFields(form_id)
    parser.feed(html)
    return parser.data

"""The admin's login form (``WAGTAILADMIN_USER_LOGIN_FORM``).

Wagtail's own form declares its password field without a label, so Django falls
back to the field's name ("Password") — a string no catalogue translates. This
one labels it with Django's translated "Password" (密码)."""

from django.utils.translation import gettext_lazy
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm


class LoginForm(WagtailLoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = gettext_lazy("Password")

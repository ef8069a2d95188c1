"""The resident's sign-up form. It only checks the shape of the input; the rules
(seats, window, duplicates) belong to ``events/registration.py``."""

from django import forms

from .errors import SignupError
from .models.registrations import day_label
from .registration import normalise_name, normalise_phone

# Asked only when the activity's editor turned them on (EventPage.ask_*).
OPTIONAL_FIELDS = ("household", "note")


def name_field() -> forms.CharField:
    """A person's name as every public form asks it (sign-up, 志愿者申请)."""
    return forms.CharField(
        label="姓名",
        max_length=30,
        error_messages={
            "required": "请填写姓名。",
            "max_length": "姓名最多 30 个字。",
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


def phone_field() -> forms.CharField:
    """A mobile number as every public form asks it (the service normalises it)."""
    return forms.CharField(
        label="手机号",
        max_length=20,
        error_messages={
            "required": "请填写手机号。",
            "max_length": "请填写正确的 11 位手机号码。",
        },
        widget=forms.TextInput(
            attrs={
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": "11 位手机号",
            }
        ),
    )


class SignUpForm(forms.Form):
    occurrence = forms.TypedChoiceField(
        label="场次", coerce=int, error_messages={"required": "请选择要报名的场次。"}
    )
    name = name_field()
    phone = phone_field()
    party_size = forms.TypedChoiceField(label="人数", coerce=int, initial=1)
    household = forms.CharField(
        label="所在社区/楼院",
        max_length=60,
        required=False,
        help_text="选填，如 甲院 3 号楼",
        error_messages={"max_length": "最多 60 个字。"},
    )
    note = forms.CharField(
        label="备注",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "备注最多 200 个字。"},
    )
    consent = forms.BooleanField(
        label="我已阅读并同意隐私说明",
        error_messages={"required": "请阅读隐私说明并勾选同意，才能报名。"},
    )
    # Separate from the consent above and unticked: SMS are optional (notify/).
    sms_consent = forms.BooleanField(label="接收短信通知（选填）", required=False)
    # A field people never see; simple bots fill every field they find.
    website = forms.CharField(required=False, label="网址（请勿填写）")

    def __init__(self, *args, page, occurrences, chosen: int | None = None, **kwargs):
        """``chosen``: the session tapped on a card or in the session list
        (``?occurrence=``), preselected when it is one of ``occurrences``."""
        super().__init__(*args, **kwargs)
        self.page = page
        # Django's Chinese for a NUL character reads "empty strings not allowed",
        # which a resident cannot act on (found by tests/events/test_fuzz_signup.py).
        for field in self.fields.values():
            field.error_messages["null_characters_not_allowed"] = (
                "内容里有无法识别的特殊字符，请删去后重新填写。"
            )
        # Ask only what this activity needs: a field the editor did not turn on
        # is not on the form, so whatever a client posts for it is ignored.
        if not page.ask_household:
            del self.fields["household"]
        if not page.ask_note:
            del self.fields["note"]
        # Full sessions take waitlist sign-ups only: the form says 候补 for them.
        self.full_ids = (
            {o.pk for o in occurrences if o.is_full} if page.waitlist_enabled else set()
        )
        if len(occurrences) == 1:
            self.fields["occurrence"].initial = occurrences[0].pk
            self.fields["occurrence"].widget = forms.HiddenInput()
        else:
            self.fields["occurrence"].widget = SessionRadioSelect(full=self.full_ids)
            if chosen in {o.pk for o in occurrences}:
                self.fields["occurrence"].initial = chosen
        # After the widget: setting choices hands them to the widget too.
        self.fields["occurrence"].choices = [
            (o.pk, _occurrence_label(o, page)) for o in occurrences
        ]
        most = party_limit(page)
        self.fields["party_size"].choices = [(n, f"{n} 人") for n in range(1, most + 1)]
        self.fields["party_size"].help_text = party_help(page, most)
        self.fields["party_size"].error_messages["invalid_choice"] = (
            f"人数请在 1 到 {most} 之间选择。"
        )
        self.fields["occurrence"].error_messages["invalid_choice"] = (
            "这一场不能报名了，请选择其他场次。"
        )

    @property
    def joins_waitlist(self) -> bool:
        """Whether the session chosen now (as posted, preselected, or the only
        one) is full: the form then says 候补 and its button 加入候补."""
        try:
            return int(self["occurrence"].value()) in self.full_ids
        except (TypeError, ValueError):
            return False

    def clean_name(self):
        try:
            return normalise_name(self.cleaned_data["name"])
        except SignupError as error:
            raise forms.ValidationError(error.message) from None

    def clean_phone(self):
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except SignupError as error:
            raise forms.ValidationError(error.message) from None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("website"):
            raise forms.ValidationError("提交失败，请刷新页面后重试。")
        for name in OPTIONAL_FIELDS:
            if name not in self.fields:  # not asked: stored empty
                cleaned[name] = ""
        return cleaned


class SessionRadioSelect(forms.RadioSelect):
    """The sessions as radio buttons; a full one carries ``data-full`` so that
    the page's script (static/js/signup-form.js) can say 加入候补 when it is
    chosen."""

    def __init__(self, *args, full=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.full = set(full)

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if getattr(value, "value", value) in self.full:
            option["attrs"]["data-full"] = "1"
        return option


def party_limit(page) -> int:
    """The largest party the form offers: the activity's maximum, and never more
    than a session's seats."""
    if page.capacity is not None:
        return max(1, min(page.max_party_size, page.capacity))
    return page.max_party_size


def party_help(page, most: int) -> str:
    """What the 人数 field says about households (and, with a waitlist, how a
    household is promoted)."""
    if most == 1:
        text = "本活动每份报名限 1 人，同来的家人请分别填写自己的手机号报名。"
    else:
        text = (
            f"一家人可以一起报：一份报名最多 {most} 人（含您本人），"
            "到场时凭一个报名码一起签到。人更多请分开报名。"
        )
    if page.capacity is not None and page.waitlist_enabled and most > 1:
        text += "候补时一份报名的人一起递补，不拆开。"
    return text


def _occurrence_label(occurrence, page) -> str:
    # The same day as the pages' date lines (with its year when not this year's).
    text = day_label(occurrence.local_start, "l" if page.all_day else "l H:i")
    if occurrence.capacity is not None:
        left = occurrence.seats_left
        if left:
            text += f"（剩余 {left} 个名额）"
        else:
            text += "（已满，可候补）" if page.waitlist_enabled else "（已满）"
    return text

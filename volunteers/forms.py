"""The public forms of 志愿服务: the application (申请成为志愿者), the lookup
(志愿者查询) and a post sign-up (phone + 志愿者编号). They check the shape of
the input only; the rules belong to ``roster.py`` and ``posts.py``."""

import re
import unicodedata

from django import forms

from events import my_signups
from events.forms import name_field, phone_field
from home.models import CommunityPage

from .errors import InvalidInputError
from .roster import clean_person, normalise_code

NUL = "内容里有无法识别的特殊字符，请删去后重新填写。"
CODE_RE = re.compile(r"[0-9A-Z]{4,8}", re.ASCII)
BAD_CODE = "请填写志愿者编号：审核通过时告诉您的 6 位字母和数字，如 K7M2QX。"
NOT_FOUND = (
    "没有找到志愿者记录。请核对手机号和志愿者编号：要是同一位在册志愿者的。"
    "忘记编号或刚申请还没审核通过，请联系社区工作人员。"
)


def _no_nul(form):
    for field in form.fields.values():
        field.error_messages["null_characters_not_allowed"] = NUL


def parse_phone(raw: str) -> str:
    """Raises my_signups.LookupInputError("phone", …) as 我的报名 does."""
    return my_signups.parse_phone(raw)


def parse_code(raw: str) -> str:
    code = normalise_code(unicodedata.normalize("NFKC", (raw or "").replace("\0", "")))
    if not CODE_RE.fullmatch(code):
        raise my_signups.LookupInputError("code", BAD_CODE)
    return code


class ApplyForm(forms.Form):
    name = name_field()
    phone = phone_field()
    community = forms.ModelChoiceField(
        label="所在社区",
        queryset=CommunityPage.objects.none(),
        required=False,
        empty_label="全街道（不属于某个社区）",
        error_messages={"invalid_choice": "请从列表里选择社区。"},
    )
    team = forms.TypedChoiceField(
        label="想加入的志愿服务队",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="选填，不确定可以不选，由社区安排",
        error_messages={"invalid_choice": "请从列表里选择志愿服务队。"},
    )
    skills = forms.CharField(
        label="特长",
        max_length=200,
        required=False,
        help_text="选填，如 理发、维修家电、书法、陪老人聊天",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "特长最多 200 个字。"},
    )
    consent = forms.BooleanField(
        label="我已阅读并同意隐私说明",
        error_messages={"required": "请阅读隐私说明并勾选同意，才能提交申请。"},
    )
    website = forms.CharField(required=False, label="网址（请勿填写）")

    def __init__(self, *args, index, **kwargs):
        super().__init__(*args, **kwargs)
        _no_nul(self)
        self.fields["community"].queryset = (
            CommunityPage.objects.live()
            .filter(path__startswith=index.home_path)
            .order_by("path")
        )
        self.teams = {
            team.pk: team for team in index.teams().select_related("community")
        }
        self.fields["team"].choices = [("", "不选")] + [
            (
                pk,
                f"{team.community.title if team.community else '全街道'} · {team.name}",
            )
            for pk, team in sorted(
                self.teams.items(),
                key=lambda item: (
                    item[1].community.path if item[1].community else "",
                    item[1].name,
                ),
            )
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("website"):
            raise forms.ValidationError("提交失败，请刷新页面后重试。")
        try:
            name, phone, skills = clean_person(
                cleaned.get("name", ""), cleaned.get("phone", ""), cleaned.get("skills")
            )
        except InvalidInputError as error:
            if error.field in self.fields and error.field not in self.errors:
                self.add_error(error.field, error.message)
            return cleaned
        cleaned.update(name=name, phone=phone, skills=skills)
        team = self.teams.get(cleaned.get("team"))
        community = cleaned.get("community")
        if team is not None and team.community_id not in (
            None,
            community.pk if community else None,
        ):
            self.add_error("team", "这支志愿服务队不属于您选择的社区，请重新选择。")
        cleaned["team"] = team
        return cleaned


class CredentialsForm(forms.Form):
    """Phone + 志愿者编号 (a post sign-up): read as 我的报名 reads them."""

    phone = phone_field()
    code = forms.CharField(
        label="志愿者编号",
        max_length=12,
        error_messages={"required": "请填写志愿者编号。"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "如 K7M2QX",
                "class": "code-input",
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _no_nul(self)

    def clean_phone(self):
        try:
            return parse_phone(self.cleaned_data["phone"])
        except my_signups.LookupInputError as error:
            raise forms.ValidationError(error.message) from None

    def clean_code(self):
        try:
            return parse_code(self.cleaned_data["code"])
        except my_signups.LookupInputError as error:
            raise forms.ValidationError(error.message) from None

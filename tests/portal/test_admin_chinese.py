"""The project's own zh_Hans catalogue (locale/, LOCALE_PATHS) and the other fixes
that put the admin in Chinese: every string it adds reads as its Chinese under
zh-hans, none is one Wagtail already translates, the .mo files are those of the
.po files in the repository; the login form's password label, the account page's
time zones, Wagtail's default collection and workflow names, the JavaScript
catalogue. (The browser walk: tests/e2e/test_admin_chinese.py.)"""

import gettext
import json
import re

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real
from wagtail.models import Collection, Task, Workflow

LOCALE = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
# Chinese characters and full-width punctuation.
HAN = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def po_entries(domain: str) -> dict:
    """msgid → msgstr of ``domain``.po (one plural form in Chinese: msgstr[0])."""
    text = (LOCALE / f"{domain}.po").read_text()
    entries = {}
    for block in text.split("\n\n")[1:]:
        strings = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?) "(.*)"$', line)
            if match:
                key = match[1]
                strings[key] = match[2]
            elif line.startswith('"') and key:
                strings[key] += line[1:-1]
        msgstr = strings.get("msgstr", strings.get("msgstr[0]"))
        entries[unescape(strings["msgid"])] = (
            unescape(strings.get("msgid_plural", "")) or None,
            unescape(msgstr),
        )
    return entries


def unescape(value: str) -> str:
    return value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


DJANGO = po_entries("django")
DJANGOJS = po_entries("djangojs")


def compiled(domain: str) -> gettext.GNUTranslations:
    path = LOCALE / f"{domain}.mo"
    assert path.exists(), f"{path} is missing: `make messages` compiles it"
    with open(path, "rb") as mo:
        return gettext.GNUTranslations(mo)


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_compiled_catalogues_are_those_of_the_po_files(domain):
    entries = po_entries(domain)
    mo = compiled(domain)
    for msgid, (plural, msgstr) in entries.items():
        if plural:
            assert mo.ngettext(msgid, plural, 2) == msgstr, msgid
        else:
            assert mo.gettext(msgid) == msgstr, msgid
    assert len(entries) == len({k for k in mo._catalog if k}), "stale .mo"


def test_every_project_translation_is_chinese_and_keeps_its_placeholders():
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w+\}|%s")
    for msgid, (plural, msgstr) in {**DJANGO, **DJANGOJS}.items():
        words = re.sub(r"<[^>]+>|\s", "", placeholder.sub("", msgstr))
        # Some are only placeholders in Chinese order: "<b>%(who)s</b> %(action)s".
        assert not words or HAN.search(words), msgid
        assert set(re.findall("[A-Za-z]{2,}", words)) <= {"Wagtail", "URL"}, msgid
        assert sorted(placeholder.findall(plural or msgid)) == sorted(
            placeholder.findall(msgstr)
        ), msgid


@pytest.mark.parametrize(
    "msgid, chinese",
    [
        ("Exploring", "浏览"),
        ("Checks", "检查"),
        ("Content metrics", "内容指标"),
        ("Readability", "可读性"),
        ("Saved", "已保存"),
        ("Autosave is paused", "自动保存已暂停"),
        ("Go to the first error", "转到第一个错误"),
        ("Oldest", "最早"),
        ("Usage count: (low to high)", "使用次数（从少到多）"),
    ],
)
def test_the_strings_editors_met_in_english_are_chinese(msgid, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == chinese


def test_the_project_catalogue_wins_under_zh_hans_for_every_string():
    with translation.override("zh-hans"):
        for msgid, (plural, msgstr) in DJANGO.items():
            if plural:
                assert translation.ngettext(msgid, plural, 2) == msgstr, msgid
            else:
                assert translation.gettext(msgid) == msgstr, msgid
        assert translation.gettext(
            "The page could not be created due to validation errors."
        ) == ("页面有填写错误，未能创建。")
        assert translation.gettext(
            "The slug '%(page_slug)s' is already in use within the parent page."
        ) % {"page_slug": "xinchun"} == "同一上级页面下已有缩略名“xinchun”。"


def test_the_project_adds_only_what_wagtail_leaves_in_english():
    """No string of ours overrides a translation Wagtail's catalogue has."""
    with override_settings(LOCALE_PATHS=[]):
        without_ours = trans_real.DjangoTranslation("zh-hans")
        english = [
            msgid
            for msgid, (plural, _) in DJANGO.items()
            if (
                without_ours.ngettext(msgid, plural, 2) == plural
                if plural
                else without_ours.gettext(msgid) == msgid
            )
        ]
    assert len(english) == len(DJANGO)


def test_the_javascript_catalogue_carries_the_project_strings(
    client, django_user_model
):
    client.force_login(django_user_model.objects.get(username="jiayuan"))
    response = client.get(reverse("wagtailadmin_javascript_catalog"))
    assert response.status_code == 200
    text = response.content.decode()
    start = text.index("newcatalog = ") + len("newcatalog = ")
    catalog, _ = json.JSONDecoder().raw_decode(text[start:])
    for msgid, (plural, msgstr) in DJANGOJS.items():
        assert catalog[msgid] == ([msgstr] if plural else msgstr), msgid
    # Wagtail's own translations are still there.
    assert HAN.search(catalog["Close"])


@pytest.mark.django_db
def test_the_login_page_labels_the_password_in_chinese(client):
    html = client.get("/admin/login/").content.decode()
    label = re.search(r'<label[^>]*for="id_password"[^>]*>\s*([^<]*)<', html)
    assert label and label[1].strip() == "密码"
    assert "Password" not in html


def test_the_account_page_lists_no_time_zones(client, django_user_model):
    """Wagtail leaves the choice out when one zone is allowed: the site's."""
    assert settings.WAGTAIL_USER_TIME_ZONES == [settings.TIME_ZONE]
    client.force_login(django_user_model.objects.get(username="jiayuan"))
    html = client.get(reverse("wagtailadmin_account")).content.decode()
    assert "Africa/Abidjan" not in html and "America/New_York" not in html


@pytest.mark.django_db
def test_wagtails_default_collection_and_workflow_have_chinese_names():
    assert Collection.get_first_root_node().name == "默认集合"
    assert not Workflow.objects.filter(name__contains="approval").exists()
    assert not Task.objects.filter(name__contains="approval").exists()
    assert Workflow.objects.filter(name="审核员审核").exists()

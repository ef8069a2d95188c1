"""Audit entries of sign-ups written before the sign-up service wrote them itself
used present-tense action names; give them the names now registered so that
站点历史 keeps showing and filtering them."""

from django.db import migrations

RENAMED = {
    "events.registration.check_in": "events.registration.checked_in",
    "events.registration.cancel": "events.registration.cancelled",
    "events.registration.promote": "events.registration.promoted",
}


def rename(apps, schema_editor, mapping=RENAMED):
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")
    for old, new in mapping.items():
        ModelLogEntry.objects.filter(action=old).update(action=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0003_personal_data_minimisation"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]

"""Audit entries written before search terms were masked and entries were
scrubbed with their sign-ups: mask the search terms of 查看报名名单 / 导出报名名单
entries, and scrub the entries of sign-ups whose personal data is already gone
(erased by the resident or purged): no code, no masked phone left."""

from django.db import migrations

from events.privacy import ERASED_NAME, SCRUBBED_LABEL, mask_filters, scrub_log_data

LIST_ACTIONS = ("events.registration.view_personal_data", "events.registration.export")
BATCH = 500


def registration_entries(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")
    content_type = ContentType.objects.filter(
        app_label="events", model="registration"
    ).first()
    if content_type is None:
        return ModelLogEntry.objects.none()
    return ModelLogEntry.objects.filter(content_type=content_type)


def scrub(apps, schema_editor):
    Registration = apps.get_model("events", "Registration")
    ModelLogEntry = apps.get_model("wagtailcore", "ModelLogEntry")
    entries = registration_entries(apps)
    changed = []
    for entry in entries.filter(action__in=LIST_ACTIONS).iterator():
        data = entry.data if isinstance(entry.data, dict) else {}
        filters = data.get("filters")
        if not isinstance(filters, dict):
            continue
        masked = mask_filters(filters)
        if masked != filters:
            entry.data = {**data, "filters": masked}
            changed.append(entry)
    ModelLogEntry.objects.bulk_update(changed, ["data"], batch_size=BATCH)

    erased = Registration.objects.filter(name=ERASED_NAME, phone="").values_list(
        "pk", flat=True
    )
    ids = [str(pk) for pk in erased.iterator()]
    for start in range(0, len(ids), BATCH):
        batch = list(entries.filter(object_id__in=ids[start : start + BATCH]))
        for entry in batch:
            entry.label = SCRUBBED_LABEL
            entry.data = scrub_log_data(entry.data)
        ModelLogEntry.objects.bulk_update(batch, ["label", "data"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_scoped_log_entry"),
        ("wagtailcore", "0098_apitoken"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]

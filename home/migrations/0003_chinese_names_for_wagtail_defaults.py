"""Chinese names for what Wagtail's own migrations create in English and editors
meet: the root collection "Root" (image and document pickers and filters) and the
default workflow and its task "Moderators approval" (workflow reports and
filters). Only rows still carrying Wagtail's English name are renamed; reversing
restores it. (The groups "Moderators" and "Editors" are seen by superusers only.)"""

from django.db import migrations

COLLECTIONS = {"Root": "默认集合"}
WORKFLOWS = {"Moderators approval": "审核员审核"}


def rename(apps, forward: bool):
    def apply(model, field, names):
        for english, chinese in names.items():
            old, new = (english, chinese) if forward else (chinese, english)
            model.objects.filter(**{field: old}).update(**{field: new})

    apply(apps.get_model("wagtailcore", "Collection"), "name", COLLECTIONS)
    apply(apps.get_model("wagtailcore", "Workflow"), "name", WORKFLOWS)
    apply(apps.get_model("wagtailcore", "Task"), "name", WORKFLOWS)


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0002_registration_retention"),
        # after the migrations that create these rows, and those that find the
        # root collection by its name
        ("wagtailcore", "0048_add_default_workflows"),
        ("wagtaildocs", "0002_initial_data"),
        ("wagtailimages", "0002_initial_data"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, _: rename(apps, True), lambda apps, _: rename(apps, False)
        )
    ]

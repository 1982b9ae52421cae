"""Existing rows move into their connection's organization (a data migration: no schema change,
so the next migration's ALTER TABLE runs in a transaction of its own)."""

from django.db import migrations


def fill(apps, schema_editor):
    for name in ("BatchJob", "Schedule"):
        Model = apps.get_model("jobs", name)
        Connection = apps.get_model("connections", "Connection")
        for connection_id, organization_id in Connection.objects.values_list(
            "pk", "organization_id"
        ):
            Model.objects.filter(connection_id=connection_id, organization__isnull=True).update(
                organization_id=organization_id
            )


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0009_organization"),
        ("connections", "0008_organization_required"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]

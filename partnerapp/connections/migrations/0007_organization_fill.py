"""Existing rows move into their user's organization (a data migration: no schema change,
so the next migration's ALTER TABLE runs in a transaction of its own)."""

from django.db import migrations


def fill(apps, schema_editor):
    Connection = apps.get_model("connections", "Connection")
    Membership = apps.get_model("organizations", "Membership")
    personal = dict(
        Membership.objects.filter(role="owner", organization__personal=True)
        .order_by("-pk")
        .values_list("user_id", "organization_id")
    )
    for connection in Connection.objects.filter(organization__isnull=True).iterator():
        connection.organization_id = personal[connection.user_id]
        connection.save(update_fields=["organization"])


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0006_organization"),
        ("organizations", "0002_personal_organizations"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]

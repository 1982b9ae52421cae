"""Every user who signed up before organizations existed gets a personal one, as owner."""

from django.conf import settings
from django.db import migrations


def create_personal(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Organization = apps.get_model("organizations", "Organization")
    Membership = apps.get_model("organizations", "Membership")
    owners = set(
        Membership.objects.filter(role="owner", organization__personal=True).values_list(
            "user_id", flat=True
        )
    )
    for user in User.objects.exclude(pk__in=owners).order_by("pk").iterator():
        name = (getattr(user, "email", "") or getattr(user, "username", "") or str(user.pk))[:200]
        organization = Organization.objects.create(name=name, personal=True)
        Membership.objects.create(organization=organization, user=user, role="owner")


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_personal, migrations.RunPython.noop)]

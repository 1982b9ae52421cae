import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("connections", "0007_organization_fill")]

    operations = [
        migrations.AlterField(
            model_name="connection",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="connections",
                to="organizations.organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="connection",
            constraint=models.UniqueConstraint(
                fields=("organization", "base_url", "account_id"),
                name="connection_per_organization_account",
            ),
        ),
    ]

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("receivables", "0003_organization_fill")]

    operations = [
        migrations.AlterField(
            model_name="bankupload",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="bank_uploads",
                to="organizations.organization",
            ),
        ),
    ]

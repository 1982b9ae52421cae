import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0010_organization_fill")]

    operations = [
        migrations.AlterField(
            model_name="batchjob",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="jobs",
                to="organizations.organization",
            ),
        ),
        migrations.AlterField(
            model_name="schedule",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="schedules",
                to="organizations.organization",
            ),
        ),
    ]

"""Import jobs count their runs (the redelivery cap) and keep when they were last published and
started (the import sweeper): ``attempts``, ``enqueued_at``, ``started_at``."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mrv", "0013_filed_attributes"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="attempts",
            field=models.PositiveIntegerField(default=0, help_text="runs started (deliveries and sweeps)"),
        ),
        migrations.AddField(
            model_name="importjob",
            name="enqueued_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, help_text="last published to the import queue"
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="started_at",
            field=models.DateTimeField(blank=True, null=True, help_text="the last run's start"),
        ),
    ]

"""An automated finding is answered (acknowledged with a note, or turned into a misstatement) rather
than overridden: the override columns keep their data under their new names."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("mrv", "0008_job_target_version"),
    ]

    operations = [
        migrations.RenameField(model_name="finding", old_name="overridden", new_name="acknowledged"),
        migrations.RenameField(
            model_name="finding", old_name="override_justification", new_name="acknowledgement_note"
        ),
        migrations.RenameField(model_name="finding", old_name="overridden_by", new_name="acknowledged_by"),
        migrations.RenameField(model_name="finding", old_name="overridden_at", new_name="acknowledged_at"),
    ]

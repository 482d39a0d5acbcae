"""Evidence files of report revisions (issue 11).

The evidence of a revision that has left draft is neither inserted, changed nor deleted, on PostgreSQL
and SQLite alike, whatever writes the database (the submit digest covers its hashes); ``TRUNCATE`` of the
table is refused as for the activity lines (migration 0014).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


POSTGRES = """
CREATE FUNCTION mrv_evidence_guard() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM mrv_reportrevision
                WHERE status <> 'draft'
                  AND id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.revision_id END,
                             CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.revision_id END)) THEN
        RAISE EXCEPTION 'evidence of a submitted report revision cannot be added, changed or removed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_evidence_guard BEFORE INSERT OR UPDATE OR DELETE ON mrv_evidence
    FOR EACH ROW EXECUTE FUNCTION mrv_evidence_guard();
CREATE TRIGGER mrv_refuse_truncate BEFORE TRUNCATE ON mrv_evidence
    FOR EACH STATEMENT EXECUTE FUNCTION mrv_refuse_truncate();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_refuse_truncate ON mrv_evidence;
DROP TRIGGER IF EXISTS mrv_evidence_guard ON mrv_evidence;
DROP FUNCTION IF EXISTS mrv_evidence_guard();
"""
_FROZEN = "(SELECT status FROM mrv_reportrevision WHERE id = {row}.revision_id) <> 'draft'"
_REFUSE = "BEGIN SELECT RAISE(ABORT, 'evidence of a submitted report revision cannot be added, changed or removed'); END"
SQLITE = [
    f"CREATE TRIGGER mrv_evidence_insert_frozen BEFORE INSERT ON mrv_evidence WHEN {_FROZEN.format(row='NEW')} {_REFUSE}",
    f"CREATE TRIGGER mrv_evidence_update_frozen BEFORE UPDATE ON mrv_evidence "
    f"WHEN {_FROZEN.format(row='OLD')} OR {_FROZEN.format(row='NEW')} {_REFUSE}",
    f"CREATE TRIGGER mrv_evidence_delete_frozen BEFORE DELETE ON mrv_evidence WHEN {_FROZEN.format(row='OLD')} {_REFUSE}",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("mrv_evidence_insert_frozen", "mrv_evidence_update_frozen", "mrv_evidence_delete_frozen")
]


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def uninstall(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('mrv', '0015_monitoring_plans'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Evidence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('lab_report', 'Laboratory report'), ('weighbridge_ledger', 'Weighbridge ledger'), ('invoice', 'Invoice'), ('meter_reading', 'Meter reading'), ('calibration_certificate', 'Calibration certificate'), ('photo', 'Photo'), ('other', 'Other')], max_length=32)),
                ('line_ref', models.CharField(blank=True, help_text='the activity line it supports, if any', max_length=64)),
                ('parameter', models.CharField(blank=True, help_text="the line's parameter it supports", max_length=64)),
                ('description', models.CharField(blank=True, max_length=1000)),
                ('filename', models.CharField(help_text="the client's file name (shown, never used to store)", max_length=255)),
                ('storage_name', models.CharField(help_text='the generated name in the evidence storage', max_length=200)),
                ('size', models.PositiveBigIntegerField(help_text='bytes')),
                ('sha256', models.CharField(help_text='SHA-256 of the bytes received (hex)', max_length=64)),
                ('content_type', models.CharField(help_text='judged from the bytes, not the name', max_length=100)),
                ('uploaded_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('revision', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='evidence', to='mrv.reportrevision')),
                ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name_plural': 'evidence',
                'ordering': ['revision_id', 'id'],
                'indexes': [models.Index(fields=['storage_name'], name='mrv_evidenc_storage_6e5f20_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ('lab_report', 'weighbridge_ledger', 'invoice', 'meter_reading', 'calibration_certificate', 'photo', 'other'))), name='evidence_kind_valid')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]

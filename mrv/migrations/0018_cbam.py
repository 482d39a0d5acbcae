"""CBAM process data on a report revision (issue 12, SPEC §9): a JSON field, frozen once submitted.

The revision guard of 0003 freezes the columns it lists; ``cbam`` gets its own guard (PostgreSQL and SQLite
alike) rather than a rewrite of that function: a submitted revision's CBAM data never changes.
"""

from django.db import migrations, models

POSTGRES = """
CREATE FUNCTION mrv_revision_cbam_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'draft' AND NEW.cbam::text IS DISTINCT FROM OLD.cbam::text THEN
        RAISE EXCEPTION 'report revision % is %: its CBAM data is frozen', OLD.id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_revision_cbam_guard BEFORE UPDATE ON mrv_reportrevision
    FOR EACH ROW EXECUTE FUNCTION mrv_revision_cbam_guard();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_revision_cbam_guard ON mrv_reportrevision;
DROP FUNCTION IF EXISTS mrv_revision_cbam_guard();
"""
SQLITE = """CREATE TRIGGER mrv_revision_cbam_frozen BEFORE UPDATE ON mrv_reportrevision
    WHEN OLD.status <> 'draft' AND NEW.cbam IS NOT OLD.cbam
    BEGIN SELECT RAISE(ABORT, 'report revision is submitted: its CBAM data is frozen'); END"""
SQLITE_REVERSE = "DROP TRIGGER IF EXISTS mrv_revision_cbam_frozen"


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE)


def uninstall(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("mrv", "0017_deposit_review")]

    operations = [
        migrations.AddField(
            model_name="reportrevision",
            name="cbam",
            field=models.JSONField(
                blank=True,
                help_text="CBAM process data of an annual report (installation, processes, goods, precursors), "
                "validated by accounting.cbam; frozen with the revision",
                null=True,
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]

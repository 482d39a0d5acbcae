"""Database-level guarantees that no API bug or raw SQL can break:

- a submitted report revision's content never changes, and its status moves only along the workflow;
- activity lines of a submitted revision are never inserted, changed or deleted;
- audit events are append-only;
- a report with a submitted revision keeps its facility and period.

PostgreSQL (production, CI) gets PL/pgSQL triggers; SQLite (embedded mode) gets equivalent triggers.
"""

from django.db import migrations

FROZEN_COLUMNS = (
    "report_id", "number", "methodology", "methodology_version", "totals", "line_count", "digest",
    "created_by_id", "created_at", "submitted_by_id", "submitted_at",
)
# Status changes allowed once a revision has left draft (the service layer enforces the same table).
TRANSITIONS = (
    ("submitted", "checks_running"), ("submitted", "in_verification"), ("submitted", "returned"),
    ("checks_running", "submitted"), ("checks_running", "in_verification"), ("checks_running", "returned"),
    ("in_verification", "verified"), ("in_verification", "returned"),
)

_new = ", ".join(f"NEW.{c}" for c in FROZEN_COLUMNS)
_old = ", ".join(f"OLD.{c}" for c in FROZEN_COLUMNS)
_pg_transitions = " OR ".join(f"(OLD.status = '{a}' AND NEW.status = '{b}')" for a, b in TRANSITIONS)

POSTGRES = f"""
CREATE OR REPLACE FUNCTION mrv_revision_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'report revision % is % and cannot be deleted', OLD.id, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' THEN
        IF ROW({_new}) IS DISTINCT FROM ROW({_old}) THEN
            RAISE EXCEPTION 'report revision % is % and its content is frozen', OLD.id, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NEW.status <> OLD.status AND NOT ({_pg_transitions}) THEN
            RAISE EXCEPTION 'report revision %: status % cannot become %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_revision_guard BEFORE UPDATE OR DELETE ON mrv_reportrevision
    FOR EACH ROW EXECUTE FUNCTION mrv_revision_guard();

CREATE OR REPLACE FUNCTION mrv_activity_line_guard() RETURNS trigger AS $$
DECLARE
    frozen integer;
BEGIN
    SELECT count(*) INTO frozen FROM mrv_reportrevision
     WHERE status <> 'draft'
       AND id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.revision_id END,
                  CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.revision_id END);
    IF frozen > 0 THEN
        RAISE EXCEPTION 'activity lines of a submitted report revision cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_activity_line_guard BEFORE INSERT OR UPDATE OR DELETE ON mrv_activityline
    FOR EACH ROW EXECUTE FUNCTION mrv_activity_line_guard();

CREATE OR REPLACE FUNCTION mrv_report_guard() RETURNS trigger AS $$
BEGIN
    IF ROW(NEW.facility_id, NEW.year, NEW.month) IS DISTINCT FROM ROW(OLD.facility_id, OLD.year, OLD.month)
       AND EXISTS (SELECT 1 FROM mrv_reportrevision WHERE report_id = OLD.id AND status <> 'draft') THEN
        RAISE EXCEPTION 'report % has a submitted revision: its facility and period are frozen', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_report_guard BEFORE UPDATE ON mrv_report
    FOR EACH ROW EXECUTE FUNCTION mrv_report_guard();

CREATE OR REPLACE FUNCTION mrv_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_audit_append_only BEFORE UPDATE OR DELETE ON mrv_auditevent
    FOR EACH ROW EXECUTE FUNCTION mrv_audit_append_only();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_revision_guard ON mrv_reportrevision;
DROP TRIGGER IF EXISTS mrv_activity_line_guard ON mrv_activityline;
DROP TRIGGER IF EXISTS mrv_report_guard ON mrv_report;
DROP TRIGGER IF EXISTS mrv_audit_append_only ON mrv_auditevent;
DROP FUNCTION IF EXISTS mrv_revision_guard(), mrv_activity_line_guard(), mrv_report_guard(), mrv_audit_append_only();
"""

_sqlite_changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN_COLUMNS)
_sqlite_transitions = " OR ".join(f"(OLD.status = '{a}' AND NEW.status = '{b}')" for a, b in TRANSITIONS)
SQLITE = [
    f"""CREATE TRIGGER mrv_revision_frozen BEFORE UPDATE ON mrv_reportrevision
        WHEN OLD.status <> 'draft' AND (({_sqlite_changed})
             OR (NEW.status <> OLD.status AND NOT ({_sqlite_transitions})))
        BEGIN SELECT RAISE(ABORT, 'report revision is submitted: its content is frozen'); END""",
    """CREATE TRIGGER mrv_revision_undeletable BEFORE DELETE ON mrv_reportrevision WHEN OLD.status <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'a submitted report revision cannot be deleted'); END""",
    """CREATE TRIGGER mrv_line_insert_frozen BEFORE INSERT ON mrv_activityline
        WHEN (SELECT status FROM mrv_reportrevision WHERE id = NEW.revision_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'activity lines of a submitted report revision cannot be changed'); END""",
    """CREATE TRIGGER mrv_line_update_frozen BEFORE UPDATE ON mrv_activityline
        WHEN (SELECT status FROM mrv_reportrevision WHERE id = OLD.revision_id) <> 'draft'
          OR (SELECT status FROM mrv_reportrevision WHERE id = NEW.revision_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'activity lines of a submitted report revision cannot be changed'); END""",
    """CREATE TRIGGER mrv_line_delete_frozen BEFORE DELETE ON mrv_activityline
        WHEN (SELECT status FROM mrv_reportrevision WHERE id = OLD.revision_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'activity lines of a submitted report revision cannot be changed'); END""",
    """CREATE TRIGGER mrv_audit_no_update BEFORE UPDATE ON mrv_auditevent
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER mrv_audit_no_delete BEFORE DELETE ON mrv_auditevent
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}" for name in (
        "mrv_revision_frozen", "mrv_revision_undeletable", "mrv_line_insert_frozen", "mrv_line_update_frozen",
        "mrv_line_delete_frozen", "mrv_audit_no_update", "mrv_audit_no_delete",
    )
]


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)
    apps.get_model("mrv", "AuditChainHead").objects.get_or_create(pk=1)


def uninstall(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("mrv", "0002_reporting")]
    operations = [migrations.RunPython(install, uninstall)]

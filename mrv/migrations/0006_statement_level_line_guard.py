"""PostgreSQL: guard activity lines once per statement instead of once per row.

The row-level trigger looked up the revision for every inserted line (10,000 lookups for a
10,000-line COPY). Statement-level triggers with transition tables check all the statement's rows in
one query, with the same rule: no line of a revision that has left draft is inserted, changed or deleted.
"""

from django.db import migrations

CHECK = """
    IF EXISTS (SELECT 1 FROM {rows} AS changed JOIN mrv_reportrevision AS revision
               ON revision.id = changed.revision_id WHERE revision.status <> 'draft') THEN
        RAISE EXCEPTION 'activity lines of a submitted report revision cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
"""

FORWARD = f"""
DROP TRIGGER IF EXISTS mrv_activity_line_guard ON mrv_activityline;
DROP FUNCTION IF EXISTS mrv_activity_line_guard();

CREATE FUNCTION mrv_activity_lines_inserted() RETURNS trigger AS $$
BEGIN {CHECK.format(rows="inserted")} RETURN NULL; END
$$ LANGUAGE plpgsql;
CREATE FUNCTION mrv_activity_lines_updated() RETURNS trigger AS $$
BEGIN {CHECK.format(rows="before_update")} {CHECK.format(rows="after_update")} RETURN NULL; END
$$ LANGUAGE plpgsql;
CREATE FUNCTION mrv_activity_lines_deleted() RETURNS trigger AS $$
BEGIN {CHECK.format(rows="deleted")} RETURN NULL; END
$$ LANGUAGE plpgsql;

CREATE TRIGGER mrv_activity_lines_inserted AFTER INSERT ON mrv_activityline
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION mrv_activity_lines_inserted();
CREATE TRIGGER mrv_activity_lines_updated AFTER UPDATE ON mrv_activityline
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
    FOR EACH STATEMENT EXECUTE FUNCTION mrv_activity_lines_updated();
CREATE TRIGGER mrv_activity_lines_deleted AFTER DELETE ON mrv_activityline
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION mrv_activity_lines_deleted();
"""

REVERSE = """
DROP TRIGGER IF EXISTS mrv_activity_lines_inserted ON mrv_activityline;
DROP TRIGGER IF EXISTS mrv_activity_lines_updated ON mrv_activityline;
DROP TRIGGER IF EXISTS mrv_activity_lines_deleted ON mrv_activityline;
DROP FUNCTION IF EXISTS mrv_activity_lines_inserted(), mrv_activity_lines_updated(), mrv_activity_lines_deleted();
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
"""


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("mrv", "0005_rollup")]
    operations = [migrations.RunPython(forward, reverse)]

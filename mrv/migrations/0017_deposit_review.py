"""The competent authority's review of monthly deposits (issue 11): one review per revision, written
once. A review is neither updated nor deleted, and it is written only beside a revision of a monthly
report in the status it decides (accepted: verified; returned: returned), on PostgreSQL and SQLite
alike, whatever writes the database.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


POSTGRES = """
CREATE FUNCTION mrv_deposit_review_guard() RETURNS trigger AS $$
DECLARE
    found_status text;
    found_month smallint;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'deposit review % is written once: it is neither changed nor deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT revision.status, report.month INTO found_status, found_month
      FROM mrv_reportrevision AS revision JOIN mrv_report AS report ON report.id = revision.report_id
     WHERE revision.id = NEW.revision_id;
    IF found_month IS NULL THEN
        RAISE EXCEPTION 'a deposit review is for a revision of a monthly report'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF found_status IS DISTINCT FROM (CASE NEW.decision WHEN 'accepted' THEN 'verified' ELSE 'returned' END) THEN
        RAISE EXCEPTION 'a % deposit review needs the revision in the matching status, not %',
            NEW.decision, found_status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_deposit_review_guard BEFORE INSERT OR UPDATE OR DELETE ON mrv_depositreview
    FOR EACH ROW EXECUTE FUNCTION mrv_deposit_review_guard();
CREATE TRIGGER mrv_refuse_truncate BEFORE TRUNCATE ON mrv_depositreview
    FOR EACH STATEMENT EXECUTE FUNCTION mrv_refuse_truncate();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_refuse_truncate ON mrv_depositreview;
DROP TRIGGER IF EXISTS mrv_deposit_review_guard ON mrv_depositreview;
DROP FUNCTION IF EXISTS mrv_deposit_review_guard();
"""
SQLITE = [
    """CREATE TRIGGER mrv_deposit_review_fixed BEFORE UPDATE ON mrv_depositreview
        BEGIN SELECT RAISE(ABORT, 'a deposit review is written once'); END""",
    """CREATE TRIGGER mrv_deposit_review_undeletable BEFORE DELETE ON mrv_depositreview
        BEGIN SELECT RAISE(ABORT, 'a deposit review is written once'); END""",
    """CREATE TRIGGER mrv_deposit_review_matches BEFORE INSERT ON mrv_depositreview
        WHEN (SELECT report.month FROM mrv_reportrevision AS revision
                JOIN mrv_report AS report ON report.id = revision.report_id
               WHERE revision.id = NEW.revision_id) IS NULL
          OR (SELECT status FROM mrv_reportrevision WHERE id = NEW.revision_id)
             IS NOT (CASE NEW.decision WHEN 'accepted' THEN 'verified' ELSE 'returned' END)
        BEGIN SELECT RAISE(ABORT, 'a deposit review needs a monthly revision in the matching status'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("mrv_deposit_review_fixed", "mrv_deposit_review_undeletable", "mrv_deposit_review_matches")
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
        ("mrv", "0016_evidence"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DepositReview",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "decision",
                    models.CharField(
                        choices=[("accepted", "Accepted"), ("returned", "Returned")], max_length=12
                    ),
                ),
                ("comment", models.TextField(blank=True)),
                ("reviewed_at", models.DateTimeField()),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "revision",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deposit_review",
                        to="mrv.reportrevision",
                    ),
                ),
            ],
            options={
                "ordering": ["revision_id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("decision__in", ["accepted", "returned"])),
                        name="deposit_review_decision_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("decision", "accepted"),
                            models.Q(("comment", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="deposit_review_return_has_comment",
                    ),
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]

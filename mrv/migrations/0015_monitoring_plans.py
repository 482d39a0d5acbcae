"""Monitoring plans (issue 11), and the plan version a verification job checked a report against.

A plan version is frozen once submitted (its content; its status moves only submitted → approved or
returned) and wholly immutable once approved: neither updated nor deleted, on PostgreSQL and SQLite
alike, whatever writes the database. A change is a new version.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FROZEN = (
    "facility_id",
    "version",
    "valid_from",
    "methodology",
    "sources",
    "quality_assurance",
    "digest",
    "created_by_id",
    "created_at",
    "submitted_by_id",
    "submitted_at",
)
_new = ", ".join(f"NEW.{c}" for c in FROZEN)
_old = ", ".join(f"OLD.{c}" for c in FROZEN)

POSTGRES = f"""
CREATE FUNCTION mrv_monitoring_plan_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'monitoring plan % is % and cannot be deleted', OLD.id, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'approved' THEN
        RAISE EXCEPTION 'monitoring plan % is approved and immutable: a change is a new version', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status <> 'draft' THEN
        IF ROW({_new}) IS DISTINCT FROM ROW({_old}) THEN
            RAISE EXCEPTION 'monitoring plan % is % and its content is frozen', OLD.id, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NEW.status <> OLD.status AND NOT (OLD.status = 'submitted' AND NEW.status IN ('approved', 'returned')) THEN
            RAISE EXCEPTION 'monitoring plan %: status % cannot become %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_monitoring_plan_guard BEFORE UPDATE OR DELETE ON mrv_monitoringplan
    FOR EACH ROW EXECUTE FUNCTION mrv_monitoring_plan_guard();
CREATE TRIGGER mrv_refuse_truncate BEFORE TRUNCATE ON mrv_monitoringplan
    FOR EACH STATEMENT EXECUTE FUNCTION mrv_refuse_truncate();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_refuse_truncate ON mrv_monitoringplan;
DROP TRIGGER IF EXISTS mrv_monitoring_plan_guard ON mrv_monitoringplan;
DROP FUNCTION IF EXISTS mrv_monitoring_plan_guard();
"""
_changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
SQLITE = [
    """CREATE TRIGGER mrv_monitoring_plan_approved BEFORE UPDATE ON mrv_monitoringplan
        WHEN OLD.status = 'approved'
        BEGIN SELECT RAISE(ABORT, 'an approved monitoring plan is immutable'); END""",
    f"""CREATE TRIGGER mrv_monitoring_plan_frozen BEFORE UPDATE ON mrv_monitoringplan
        WHEN OLD.status <> 'draft' AND (({_changed}) OR (NEW.status <> OLD.status AND NOT
             (OLD.status = 'submitted' AND NEW.status IN ('approved', 'returned'))))
        BEGIN SELECT RAISE(ABORT, 'a submitted monitoring plan is frozen'); END""",
    """CREATE TRIGGER mrv_monitoring_plan_undeletable BEFORE DELETE ON mrv_monitoringplan
        WHEN OLD.status <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'a submitted monitoring plan cannot be deleted'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "mrv_monitoring_plan_approved",
        "mrv_monitoring_plan_frozen",
        "mrv_monitoring_plan_undeletable",
    )
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
        ("mrv", "0014_audit_chains"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MonitoringPlan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("submitted", "Submitted"),
                            ("approved", "Approved"),
                            ("returned", "Returned"),
                        ],
                        default="draft",
                        max_length=12,
                    ),
                ),
                ("valid_from", models.DateField()),
                ("methodology", models.CharField(max_length=32)),
                ("sources", models.JSONField(default=list)),
                ("quality_assurance", models.TextField(blank=True)),
                (
                    "digest",
                    models.CharField(blank=True, help_text="SHA-256 of the canonical content", max_length=64),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("submitted_at", models.DateTimeField(blank=True, null=True)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                (
                    "comment",
                    models.TextField(blank=True, help_text="the regulator's comment on approval or return"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "facility",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="monitoring_plans",
                        to="mrv.facility",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["facility_id", "version"],
            },
        ),
        migrations.AddField(
            model_name="verificationjob",
            name="monitoring_plan",
            field=models.ForeignKey(
                blank=True,
                help_text="the approved monitoring plan version in force for the report's period, checked against",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="mrv.monitoringplan",
            ),
        ),
        migrations.AddIndex(
            model_name="monitoringplan",
            index=models.Index(
                fields=["facility", "status", "valid_from"], name="mrv_monitor_facilit_149a4a_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="monitoringplan",
            constraint=models.UniqueConstraint(
                fields=("facility", "version"), name="monitoring_plan_version_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="monitoringplan",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["draft", "submitted", "approved", "returned"])),
                name="monitoring_plan_status_valid",
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]

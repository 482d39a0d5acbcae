"""Allocation and compliance (issue 15, SPEC §11): allocation plans, their runs, the allocations per
facility and production unit, surrenders and the recorded compliance status.

A published allocation plan is wholly immutable (neither updated nor deleted), and a surrender once
recorded is never changed nor deleted, on PostgreSQL and SQLite alike, whatever writes the database.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


POSTGRES = """
CREATE FUNCTION mrv_allocation_plan_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'allocation plan % is published and immutable: a change is a new plan', OLD.code
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_allocation_plan_guard BEFORE UPDATE OR DELETE ON mrv_allocationplan
    FOR EACH ROW EXECUTE FUNCTION mrv_allocation_plan_guard();
CREATE TRIGGER mrv_refuse_truncate BEFORE TRUNCATE ON mrv_allocationplan
    FOR EACH STATEMENT EXECUTE FUNCTION mrv_refuse_truncate();
CREATE FUNCTION mrv_surrender_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'surrender % is recorded and cannot be changed or deleted', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_surrender_guard BEFORE UPDATE OR DELETE ON mrv_surrender
    FOR EACH ROW EXECUTE FUNCTION mrv_surrender_guard();
CREATE TRIGGER mrv_refuse_truncate BEFORE TRUNCATE ON mrv_surrender
    FOR EACH STATEMENT EXECUTE FUNCTION mrv_refuse_truncate();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_refuse_truncate ON mrv_surrender;
DROP TRIGGER IF EXISTS mrv_surrender_guard ON mrv_surrender;
DROP FUNCTION IF EXISTS mrv_surrender_guard();
DROP TRIGGER IF EXISTS mrv_refuse_truncate ON mrv_allocationplan;
DROP TRIGGER IF EXISTS mrv_allocation_plan_guard ON mrv_allocationplan;
DROP FUNCTION IF EXISTS mrv_allocation_plan_guard();
"""
SQLITE = [
    """CREATE TRIGGER mrv_allocation_plan_published BEFORE UPDATE ON mrv_allocationplan
        WHEN OLD.status = 'published'
        BEGIN SELECT RAISE(ABORT, 'a published allocation plan is immutable'); END""",
    """CREATE TRIGGER mrv_allocation_plan_undeletable BEFORE DELETE ON mrv_allocationplan
        WHEN OLD.status = 'published'
        BEGIN SELECT RAISE(ABORT, 'a published allocation plan cannot be deleted'); END""",
    """CREATE TRIGGER mrv_surrender_frozen BEFORE UPDATE ON mrv_surrender
        BEGIN SELECT RAISE(ABORT, 'a recorded surrender cannot be changed'); END""",
    """CREATE TRIGGER mrv_surrender_undeletable BEFORE DELETE ON mrv_surrender
        BEGIN SELECT RAISE(ABORT, 'a recorded surrender cannot be deleted'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "mrv_allocation_plan_published",
        "mrv_allocation_plan_undeletable",
        "mrv_surrender_frozen",
        "mrv_surrender_undeletable",
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
        ("mrv", "0021_authority"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AllocationPlan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=64, unique=True)),
                ("year", models.PositiveSmallIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("published", "Published")],
                        default="draft",
                        max_length=12,
                    ),
                ),
                ("rules", models.JSONField()),
                ("preallocation_share", models.DecimalField(decimal_places=6, max_digits=7)),
                ("offset_limit_share", models.DecimalField(decimal_places=6, max_digits=7)),
                ("surrender_due", models.DateField()),
                ("illustrative", models.BooleanField(default=False)),
                (
                    "digest",
                    models.CharField(blank=True, help_text="SHA-256 of the canonical content", max_length=64),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("published_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "published_by",
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
                "ordering": ["year", "code"],
            },
        ),
        migrations.CreateModel(
            name="Allocation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("unit", models.CharField(blank=True, max_length=32)),
                ("product", models.CharField(max_length=32)),
                ("method", models.CharField(max_length=24)),
                ("preallocated", models.DecimalField(blank=True, decimal_places=0, max_digits=20, null=True)),
                ("preallocation_basis", models.JSONField(blank=True, null=True)),
                ("final", models.DecimalField(blank=True, decimal_places=0, max_digits=20, null=True)),
                ("final_basis", models.JSONField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "facility",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="allocations",
                        to="mrv.facility",
                    ),
                ),
                (
                    "plan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="allocations",
                        to="mrv.allocationplan",
                    ),
                ),
            ],
            options={
                "ordering": ["plan_id", "facility_id", "unit"],
            },
        ),
        migrations.CreateModel(
            name="AllocationRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("preallocate", "Pre-allocation"), ("finalise", "Final allocation")],
                        max_length=12,
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("completed", "Completed"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=12,
                    ),
                ),
                (
                    "facilities",
                    models.PositiveIntegerField(default=0, help_text="facilities in the requester's scope"),
                ),
                (
                    "ranges",
                    models.JSONField(
                        default=list, help_text="[[first id, last id], ...]: the batches of facilities"
                    ),
                ),
                ("done", models.JSONField(default=list, help_text="indices of the batches done")),
                (
                    "changed",
                    models.PositiveIntegerField(default=0, help_text="allocation rows created or changed"),
                ),
                ("failure_reason", models.TextField(blank=True)),
                ("enqueued_at", models.DateTimeField(auto_now_add=True)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "plan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="runs",
                        to="mrv.allocationplan",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["enqueued_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="ComplianceStatus",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                ("status", models.CharField(max_length=12)),
                ("changed_at", models.DateTimeField(auto_now=True)),
                (
                    "facility",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="mrv.facility"
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Surrender",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                ("allowances", models.DecimalField(decimal_places=0, max_digits=20)),
                ("offsets", models.DecimalField(decimal_places=0, max_digits=20)),
                (
                    "late",
                    models.BooleanField(default=False, help_text="recorded after the plan's surrender_due"),
                ),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "facility",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="surrenders",
                        to="mrv.facility",
                    ),
                ),
                (
                    "plan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="surrenders",
                        to="mrv.allocationplan",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["facility_id", "year", "recorded_at", "id"],
            },
        ),
        migrations.AddConstraint(
            model_name="allocationplan",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["draft", "published"])),
                name="allocation_plan_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="allocationplan",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "published")),
                fields=("year",),
                name="allocation_plan_one_published_per_year",
            ),
        ),
        migrations.AddConstraint(
            model_name="allocationplan",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("preallocation_share__gte", 0),
                    ("preallocation_share__lte", 1),
                    ("offset_limit_share__gte", 0),
                    ("offset_limit_share__lte", 1),
                ),
                name="allocation_plan_shares_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="allocation",
            constraint=models.UniqueConstraint(
                fields=("plan", "facility", "unit"), name="allocation_unique_per_unit"
            ),
        ),
        migrations.AddConstraint(
            model_name="compliancestatus",
            constraint=models.UniqueConstraint(fields=("facility", "year"), name="compliance_status_unique"),
        ),
        migrations.AddIndex(
            model_name="surrender",
            index=models.Index(fields=["facility", "year"], name="mrv_surrend_facilit_2e91c4_idx"),
        ),
        migrations.AddConstraint(
            model_name="surrender",
            constraint=models.CheckConstraint(
                condition=models.Q(("allowances__gte", 0), ("offsets__gte", 0)), name="surrender_not_negative"
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]

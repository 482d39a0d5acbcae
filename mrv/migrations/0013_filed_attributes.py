"""The facility attributes a report was filed under are kept with it, and a verification job records
the body that verifies it.

- ``Report.sector`` and ``Report.province``: filled for existing reports from their rollup row when
  they have one (what they were verified and aggregated under), else from the facility; frozen once a
  revision has been submitted (the report guard trigger, PostgreSQL).
- ``VerificationJob.verification_body``: filled from the claiming verifier's body when the job was
  claimed, else from the facility's current body.
"""

import django.db.models.deletion
from django.db import migrations, models

PROVINCES = [
    ("CN-AH", "Anhui"),
    ("CN-BJ", "Beijing"),
    ("CN-CQ", "Chongqing"),
    ("CN-FJ", "Fujian"),
    ("CN-GD", "Guangdong"),
    ("CN-GS", "Gansu"),
    ("CN-GX", "Guangxi"),
    ("CN-GZ", "Guizhou"),
    ("CN-HA", "Henan"),
    ("CN-HB", "Hubei"),
    ("CN-HE", "Hebei"),
    ("CN-HI", "Hainan"),
    ("CN-HL", "Heilongjiang"),
    ("CN-HN", "Hunan"),
    ("CN-JL", "Jilin"),
    ("CN-JS", "Jiangsu"),
    ("CN-JX", "Jiangxi"),
    ("CN-LN", "Liaoning"),
    ("CN-NM", "Nei Mongol"),
    ("CN-NX", "Ningxia"),
    ("CN-QH", "Qinghai"),
    ("CN-SC", "Sichuan"),
    ("CN-SD", "Shandong"),
    ("CN-SH", "Shanghai"),
    ("CN-SN", "Shaanxi"),
    ("CN-SX", "Shanxi"),
    ("CN-TJ", "Tianjin"),
    ("CN-XJ", "Xinjiang"),
    ("CN-XZ", "Xizang"),
    ("CN-YN", "Yunnan"),
    ("CN-ZJ", "Zhejiang"),
]
SECTORS = [
    ("cement", "Cement (clinker)"),
    ("steel", "Iron and steel"),
    ("aluminium", "Electrolytic aluminium"),
]

# The report guard of 0003, with the filed sector and province frozen as the facility and period are.
GUARD = """
CREATE OR REPLACE FUNCTION mrv_report_guard() RETURNS trigger AS $$
BEGIN
    IF ROW({new}) IS DISTINCT FROM ROW({old})
       AND EXISTS (SELECT 1 FROM mrv_reportrevision WHERE report_id = OLD.id AND status <> 'draft') THEN
        RAISE EXCEPTION 'report % has a submitted revision: its {what} are frozen', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""
FROZEN = ("facility_id", "year", "month", "sector", "province")
FROZEN_BEFORE = ("facility_id", "year", "month")


def _guard(columns):  # type: ignore[no-untyped-def]
    what = "facility and period" if columns == FROZEN_BEFORE else "facility, period, sector and province"
    return GUARD.format(
        new=", ".join(f"NEW.{c}" for c in columns), old=", ".join(f"OLD.{c}" for c in columns), what=what
    )


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    alias = schema_editor.connection.alias
    Report = apps.get_model("mrv", "Report")
    EmissionRollup = apps.get_model("mrv", "EmissionRollup")
    VerificationJob = apps.get_model("mrv", "VerificationJob")
    Membership = apps.get_model("mrv", "Membership")
    verified_under = {
        report_id: (sector, province)
        for report_id, sector, province in EmissionRollup.objects.using(alias).values_list(
            "report_id", "sector", "province"
        )
    }
    reports = Report.objects.using(alias).select_related("facility").filter(sector__isnull=True)
    changed = []
    for report in reports.iterator(chunk_size=2000):
        report.sector, report.province = verified_under.get(
            report.pk, (report.facility.sector, report.facility.province)
        )
        changed.append(report)
    Report.objects.using(alias).bulk_update(changed, ["sector", "province"], batch_size=2000)
    bodies = dict(
        Membership.objects.using(alias).filter(role="verifier").values_list("user_id", "organisation_id")
    )
    jobs = VerificationJob.objects.using(alias).select_related("revision__report__facility")
    moved = []
    for job in jobs.filter(verification_body__isnull=True).iterator(chunk_size=2000):
        body = bodies.get(job.claimed_by_id) or job.revision.report.facility.verification_body_id
        if body is not None:
            job.verification_body_id = body
            moved.append(job)
    VerificationJob.objects.using(alias).bulk_update(moved, ["verification_body"], batch_size=2000)


def freeze(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_guard(FROZEN), params=None)


def unfreeze(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_guard(FROZEN_BEFORE), params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("mrv", "0011_api_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="sector",
            field=models.CharField(choices=SECTORS, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="report",
            name="province",
            field=models.CharField(
                choices=PROVINCES, help_text="ISO 3166-2:CN code", max_length=5, null=True
            ),
        ),
        migrations.AddField(
            model_name="verificationjob",
            name="verification_body",
            field=models.ForeignKey(
                blank=True,
                help_text="the body that verifies (or verified) this job: the facility's when the job was "
                "created; open jobs move with the facility, completed ones stay with the body that gave "
                "the opinion",
                limit_choices_to={"kind": "verification_body"},
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="mrv.organisation",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="report",
            name="sector",
            field=models.CharField(choices=SECTORS, max_length=16),
        ),
        migrations.AlterField(
            model_name="report",
            name="province",
            field=models.CharField(choices=PROVINCES, help_text="ISO 3166-2:CN code", max_length=5),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.CheckConstraint(
                condition=models.Q(("sector__in", ["cement", "steel", "aluminium"])),
                name="report_sector_valid",
            ),
        ),
        migrations.RunPython(freeze, unfreeze),
    ]

"""Who may act for whom (issue 16): authorities' jurisdictions, many memberships per user (facilities,
capability, validity), tokens bound to one membership, consultants' facility grants, and the
submitter's certification of a revision (append-only: never updated nor deleted, on PostgreSQL and
SQLite alike).

Existing data keeps working as before: each token is bound to its user's (only) membership, and each
existing operator membership becomes a ``submitter`` (it could submit until now).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _carry_over(apps, schema_editor):  # type: ignore[no-untyped-def]
    Membership = apps.get_model("mrv", "Membership")
    ApiToken = apps.get_model("mrv", "ApiToken")
    Membership.objects.filter(role="operator", capability="").update(capability="submitter")
    for membership in Membership.objects.all().only("id", "user_id"):
        ApiToken.objects.filter(user_id=membership.user_id, membership__isnull=True).update(
            membership_id=membership.id
        )


POSTGRES = """
CREATE FUNCTION mrv_certification_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a certification is never changed nor deleted'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_certification_append_only BEFORE UPDATE OR DELETE ON mrv_certification
    FOR EACH ROW EXECUTE FUNCTION mrv_certification_append_only();
CREATE TRIGGER mrv_refuse_truncate BEFORE TRUNCATE ON mrv_certification
    FOR EACH STATEMENT EXECUTE FUNCTION mrv_refuse_truncate();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_refuse_truncate ON mrv_certification;
DROP TRIGGER IF EXISTS mrv_certification_append_only ON mrv_certification;
DROP FUNCTION IF EXISTS mrv_certification_append_only();
"""
SQLITE = [
    """CREATE TRIGGER mrv_certification_no_update BEFORE UPDATE ON mrv_certification
        BEGIN SELECT RAISE(ABORT, 'a certification is never changed'); END""",
    """CREATE TRIGGER mrv_certification_no_delete BEFORE DELETE ON mrv_certification
        BEGIN SELECT RAISE(ABORT, 'a certification is never deleted'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS mrv_certification_no_update",
    "DROP TRIGGER IF EXISTS mrv_certification_no_delete",
]


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def uninstall(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("mrv", "0020_webhooks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Certification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("statement", models.TextField()),
                ("name", models.CharField(help_text="the submitter's name as certified", max_length=150)),
                ("capability", models.CharField(max_length=16)),
                ("at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="FacilityGrant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("granted_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["facility_id", "id"],
            },
        ),
        migrations.AlterModelOptions(
            name="membership",
            options={"ordering": ["user_id", "id"]},
        ),
        migrations.RemoveConstraint(
            model_name="organisation",
            name="organisation_kind_valid",
        ),
        migrations.AddField(
            model_name="apitoken",
            name="membership",
            field=models.ForeignKey(
                blank=True,
                help_text="the membership the token acts for (null: the user's only one, or the MRV-Membership header)",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="tokens",
                to="mrv.membership",
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="capability",
            field=models.CharField(
                blank=True,
                choices=[("preparer", "Preparer"), ("submitter", "Submitter")],
                help_text="operator side: preparer (drafts) or submitter (also submits); empty for other roles",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="membership",
            name="facilities",
            field=models.ManyToManyField(
                blank=True,
                help_text="only these facilities of the organisation (none: all of them, or all granted)",
                related_name="+",
                to="mrv.facility",
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="valid_from",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="membership",
            name="valid_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="organisation",
            name="provinces",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="an authority's jurisdiction: ISO 3166-2:CN codes of its provinces; empty: national",
            ),
        ),
        migrations.AlterField(
            model_name="membership",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="kind",
            field=models.CharField(
                choices=[
                    ("operator", "Operator"),
                    ("verification_body", "Verification body"),
                    ("authority", "Competent authority"),
                    ("consultant", "Consultant"),
                ],
                max_length=32,
            ),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("capability", ""), ("capability__in", ["preparer", "submitter"]), _connector="OR"
                ),
                name="membership_capability_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.UniqueConstraint(
                fields=("user", "organisation"), name="membership_one_per_organisation"
            ),
        ),
        migrations.AddConstraint(
            model_name="organisation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind__in", ["operator", "verification_body", "authority", "consultant"])
                ),
                name="organisation_kind_valid",
            ),
        ),
        migrations.AddField(
            model_name="certification",
            name="certified_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="certification",
            name="organisation",
            field=models.ForeignKey(
                help_text="the organisation they acted for",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="mrv.organisation",
            ),
        ),
        migrations.AddField(
            model_name="certification",
            name="revision",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="certification",
                to="mrv.reportrevision",
            ),
        ),
        migrations.AddField(
            model_name="facilitygrant",
            name="facility",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="grants", to="mrv.facility"
            ),
        ),
        migrations.AddField(
            model_name="facilitygrant",
            name="granted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="facilitygrant",
            name="grantee",
            field=models.ForeignKey(
                limit_choices_to={"kind": "consultant"},
                on_delete=django.db.models.deletion.PROTECT,
                related_name="grants",
                to="mrv.organisation",
            ),
        ),
        migrations.AddField(
            model_name="facilitygrant",
            name="revoked_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="facilitygrant",
            index=models.Index(fields=["grantee", "revoked_at"], name="mrv_facilit_grantee_c0e79e_idx"),
        ),
        migrations.AddConstraint(
            model_name="facilitygrant",
            constraint=models.UniqueConstraint(
                condition=models.Q(("revoked_at__isnull", True)),
                fields=("facility", "grantee"),
                name="facility_grant_one_active",
            ),
        ),
        migrations.RunPython(_carry_over, migrations.RunPython.noop),
        migrations.RunPython(install, uninstall),
    ]

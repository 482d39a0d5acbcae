"""Webhooks (issue 13): subscriptions per organisation, the outbox of deliveries and the log of tries.

The log of tries is append-only (a try once written is neither changed nor deleted), on PostgreSQL and
SQLite alike; a delivery's try numbers are unique, so one try number is made once whatever the broker
delivers twice.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRES = """
CREATE FUNCTION mrv_webhook_attempt_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'webhook try % is in the delivery log and cannot be changed or deleted', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_webhook_attempt_guard BEFORE UPDATE OR DELETE ON mrv_webhookattempt
    FOR EACH ROW EXECUTE FUNCTION mrv_webhook_attempt_guard();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_webhook_attempt_guard ON mrv_webhookattempt;
DROP FUNCTION IF EXISTS mrv_webhook_attempt_guard();
"""
SQLITE = [
    """CREATE TRIGGER mrv_webhook_attempt_unchangeable BEFORE UPDATE ON mrv_webhookattempt
        BEGIN SELECT RAISE(ABORT, 'a webhook try in the delivery log cannot be changed'); END""",
    """CREATE TRIGGER mrv_webhook_attempt_undeletable BEFORE DELETE ON mrv_webhookattempt
        BEGIN SELECT RAISE(ABORT, 'a webhook try in the delivery log cannot be deleted'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS mrv_webhook_attempt_unchangeable",
    "DROP TRIGGER IF EXISTS mrv_webhook_attempt_undeletable",
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
        ("mrv", "0019_conversation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="WebhookSubscription",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("url", models.URLField(max_length=2000)),
                (
                    "events",
                    models.JSONField(help_text="the event types delivered, a list of WebhookEvent values"),
                ),
                (
                    "secret_encrypted",
                    models.TextField(help_text="the signing secret, Fernet-encrypted under MRV_WEBHOOK_KEY"),
                ),
                (
                    "secret_prefix",
                    models.CharField(help_text="the secret's first characters, to tell apart", max_length=16),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("deleted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="webhooks",
                        to="mrv.organisation",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("event_id", models.UUIDField()),
                (
                    "event_type",
                    models.CharField(
                        choices=[
                            ("report.submitted", "A report revision was submitted"),
                            ("report.status_changed", "A report revision changed status"),
                            ("verification_job.awaiting_review", "A verification job awaits a verifier"),
                            ("request.opened", "A request for information was opened"),
                            ("request.answered", "A request for information was answered"),
                            ("opinion.issued", "A verification opinion was issued"),
                            ("deposit.late", "A monthly deposit was made after its due date"),
                            ("deadline.approaching", "A deadline is near"),
                        ],
                        max_length=40,
                    ),
                ),
                (
                    "body",
                    models.TextField(help_text="the JSON document POSTed: {id, type, created_at, data}"),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("pending", "Pending"), ("delivered", "Delivered"), ("failed", "Failed")],
                        default="pending",
                        max_length=12,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("give_up_after", models.PositiveIntegerField()),
                (
                    "next_attempt_at",
                    models.DateTimeField(blank=True, help_text="when the next try is due", null=True),
                ),
                (
                    "published_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="when the next try's task message was published (None: not yet)",
                        null=True,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("delivered_at", models.DateTimeField(blank=True, null=True)),
                (
                    "subscription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="deliveries",
                        to="mrv.webhooksubscription",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="WebhookAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("at", models.DateTimeField()),
                ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("error", models.CharField(blank=True, max_length=500)),
                ("duration_ms", models.PositiveIntegerField()),
                (
                    "delivery",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tries",
                        to="mrv.webhookdelivery",
                    ),
                ),
            ],
            options={
                "ordering": ["delivery_id", "number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("delivery", "number"), name="webhook_attempt_number_unique"
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="webhooksubscription",
            index=models.Index(fields=["organisation", "deleted_at"], name="mrv_webhook_organis_d7083a_idx"),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(fields=["status", "next_attempt_at"], name="mrv_webhook_status_57ca6c_idx"),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(
                fields=("subscription", "event_id"), name="webhook_delivery_event_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["pending", "delivered", "failed"])),
                name="webhook_delivery_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "delivered"), _negated=True),
                    ("delivered_at__isnull", False),
                    _connector="OR",
                ),
                name="webhook_delivery_delivered_at",
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]

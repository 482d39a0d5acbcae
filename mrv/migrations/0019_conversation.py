"""The conversation (issue 13): requests for information and their answers, notifications, and the
reminders sent before deadlines.

Database guarantees, on PostgreSQL and SQLite alike: an answer is append-only (never updated nor
deleted); a request is never deleted, and once closed it is final. A reminder is unique per deadline,
days before and user (``deadline_reminder_once``), so no run of the reminder task sends one twice.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


POSTGRES = """
CREATE FUNCTION mrv_request_answer_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'an answer to a request for information is never changed nor deleted'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_request_answer_guard BEFORE UPDATE OR DELETE ON mrv_requestanswer
    FOR EACH ROW EXECUTE FUNCTION mrv_request_answer_guard();
CREATE FUNCTION mrv_information_request_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'request for information % is never deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'request for information % is closed and final', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF ROW(NEW.job_id, NEW.question, NEW.line_ref, NEW.finding_id, NEW.due_date, NEW.opened_by_id, NEW.opened_at)
       IS DISTINCT FROM
       ROW(OLD.job_id, OLD.question, OLD.line_ref, OLD.finding_id, OLD.due_date, OLD.opened_by_id, OLD.opened_at) THEN
        RAISE EXCEPTION 'request for information %: the question is never changed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_information_request_guard BEFORE UPDATE OR DELETE ON mrv_informationrequest
    FOR EACH ROW EXECUTE FUNCTION mrv_information_request_guard();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_information_request_guard ON mrv_informationrequest;
DROP FUNCTION IF EXISTS mrv_information_request_guard();
DROP TRIGGER IF EXISTS mrv_request_answer_guard ON mrv_requestanswer;
DROP FUNCTION IF EXISTS mrv_request_answer_guard();
"""
_QUESTION = ("job_id", "question", "line_ref", "finding_id", "due_date", "opened_by_id", "opened_at")
_changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _QUESTION)
SQLITE = [
    """CREATE TRIGGER mrv_request_answer_unchanged BEFORE UPDATE ON mrv_requestanswer
        BEGIN SELECT RAISE(ABORT, 'an answer to a request for information is never changed'); END""",
    """CREATE TRIGGER mrv_request_answer_kept BEFORE DELETE ON mrv_requestanswer
        BEGIN SELECT RAISE(ABORT, 'an answer to a request for information is never deleted'); END""",
    """CREATE TRIGGER mrv_information_request_kept BEFORE DELETE ON mrv_informationrequest
        BEGIN SELECT RAISE(ABORT, 'a request for information is never deleted'); END""",
    f"""CREATE TRIGGER mrv_information_request_final BEFORE UPDATE ON mrv_informationrequest
        WHEN OLD.status = 'closed' OR {_changed}
        BEGIN SELECT RAISE(ABORT, 'a closed request is final; a question is never changed'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "mrv_request_answer_unchanged",
        "mrv_request_answer_kept",
        "mrv_information_request_kept",
        "mrv_information_request_final",
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
        ("mrv", "0018_cbam"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="InformationRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("question", models.TextField()),
                (
                    "line_ref",
                    models.CharField(
                        blank=True, help_text="the line of the revision asked about", max_length=64
                    ),
                ),
                ("due_date", models.DateField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open: awaiting the operator"),
                            ("answered", "Answered: awaiting the verifier"),
                            ("closed", "Closed"),
                        ],
                        default="open",
                        max_length=12,
                    ),
                ),
                ("opened_at", models.DateTimeField(auto_now_add=True)),
                ("answered_at", models.DateTimeField(blank=True, help_text="the latest answer", null=True)),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("closing_note", models.TextField(blank=True)),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "finding",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="information_requests",
                        to="mrv.finding",
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="information_requests",
                        to="mrv.verificationjob",
                    ),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["opened_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="Notification",
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
                        choices=[
                            ("request_opened", "Request for information opened"),
                            ("request_answered", "Request for information answered"),
                            ("request_closed", "Request for information closed"),
                            ("deadline_reminder", "Deadline reminder"),
                        ],
                        max_length=24,
                    ),
                ),
                ("subject", models.CharField(max_length=200)),
                ("body", models.TextField()),
                (
                    "data",
                    models.JSONField(default=dict, help_text="what the notification is about (ids, dates)"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                ("emailed_at", models.DateTimeField(blank=True, null=True)),
                ("email_error", models.CharField(blank=True, max_length=500)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="DeadlineReminder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=24)),
                ("period", models.CharField(help_text="YYYY or YYYY-MM", max_length=7)),
                ("due_date", models.DateField()),
                ("days_before", models.PositiveSmallIntegerField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "facility",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="mrv.facility"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "notification",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminder",
                        to="mrv.notification",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="RequestAnswer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("text", models.TextField()),
                ("answered_at", models.DateTimeField(auto_now_add=True)),
                (
                    "answered_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="answers",
                        to="mrv.informationrequest",
                    ),
                ),
            ],
            options={
                "ordering": ["answered_at", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="informationrequest",
            index=models.Index(fields=["job", "status"], name="mrv_informa_job_id_d3d811_idx"),
        ),
        migrations.AddConstraint(
            model_name="informationrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["open", "answered", "closed"])),
                name="information_request_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="informationrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("closed_at__isnull", False), ("status", "closed")),
                    models.Q(models.Q(("status", "closed"), _negated=True), ("closed_at__isnull", True)),
                    _connector="OR",
                ),
                name="information_request_closed_when_closed_at",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["user", "read_at"], name="mrv_notific_user_id_1ad936_idx"),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        ["request_opened", "request_answered", "request_closed", "deadline_reminder"],
                    )
                ),
                name="notification_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="deadlinereminder",
            constraint=models.UniqueConstraint(
                fields=("kind", "facility", "period", "days_before", "user"), name="deadline_reminder_once"
            ),
        ),
        migrations.RunPython(install, uninstall),
    ]

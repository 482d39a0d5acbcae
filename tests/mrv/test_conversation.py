"""The conversation of a verification (issue 13, SPEC §10): requests for information, deadlines with
their status, notifications, e-mail through a real SMTP server, and the reminders of deadlines."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.db import connection

from mrv.models import (
    AuditEvent,
    DeadlineReminder,
    InformationRequest,
    Notification,
    VerificationJob,
)
from mrv.selectors import deposits
from mrv.services.notifications import deadline_reminders_send, notification_email_send, notify
from mrv.services.verification import checks_run
from tests.mrv import factories
from tests.mrv.factories import World
from tests.mrv.own_smtp import OwnSmtp
from tests.mrv.reporting_helpers import report_body
from tests.mrv.verification_helpers import plausible_cement
from tests.mrv.workers import Workers


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[OwnSmtp]:
    server = OwnSmtp(folder=tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


def submit(world: World, *, year: int = 2024, month: int | None = None, operator: str = "operator_a") -> int:
    """A cement report of the operator's facility, submitted through the API; the report's id."""
    client = world.client(operator)
    facility = world.facility_a if operator == "operator_a" else world.facility_b
    body = {**report_body(facility, year=year), "lines": plausible_cement()}
    if month is not None:
        body["month"] = month
    report = client.post("/api/v1/reports/", body, format="json")
    assert report.status_code == 201, report.content
    submitted = client.post(
        f"/api/v1/reports/{report.json()['id']}/submit/", {"certify": True}, format="json"
    )
    assert submitted.status_code == 202, submitted.content
    return int(report.json()["id"])


def job_of(report: int) -> VerificationJob:
    return VerificationJob.objects.get(revision__report_id=report, kind="verification")


def claimed_job(world: World) -> VerificationJob:
    """Operator A's report, checked (in this process) and claimed by verifier A."""
    job = job_of(submit(world))
    checks_run(job_id=job.pk)
    assert world.client("verifier_a").post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200
    return job


def ask(world: World, job: VerificationJob, **extra: Any) -> Any:
    body = {"question": "Send the lab report of the coal NCV for March.", "due_date": _in_days(14), **extra}
    return world.client("verifier_a").post(
        f"/api/v1/verification-jobs/{job.pk}/requests/", body, format="json"
    )


def _in_days(days: int) -> str:
    return (deposits.today() + timedelta(days=days)).isoformat()


def job_status(world: World, job: VerificationJob, who: str = "verifier_a") -> str:
    return str(world.client(who).get(f"/api/v1/verification-jobs/{job.pk}/").json()["status"])


# -- the flow, with a real worker and a real SMTP server ------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.redis
def test_a_request_for_information_through_the_api_with_a_real_worker(
    tx_world: World, workers: Workers, smtp: OwnSmtp
) -> None:
    world = tx_world
    for name in ("operator_a", "verifier_a"):
        user = getattr(world, name).user
        user.email = f"{name}@example.test"
        user.save(update_fields=["email"])
    # the worker sends the e-mails through the SMTP server of this test
    workers.start(env={"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port)})
    verifier, operator = world.client("verifier_a"), world.client("operator_a")

    report = submit(world)  # the job is created by the submission and run by the worker
    job = job_of(report)
    workers.wait_until(
        lambda: VerificationJob.objects.filter(pk=job.pk, status="awaiting_review").exists(),
        "the worker to run the automated checks",
    )
    assert verifier.post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200
    assert job_status(world, job) == "in_review"

    opened = ask(world, job, line_ref="coal")
    assert opened.status_code == 201, opened.content
    request = opened.json()
    assert (request["status"], request["job"], request["report"], request["line_ref"]) == (
        "open",
        job.pk,
        report,
        "coal",
    )
    assert request["answers"] == [] and request["overdue"] is False
    # the job awaits the operator: on the job, in the verifier's queue filtered by status, for the operator
    assert job_status(world, job) == job_status(world, job, "operator_a") == "awaiting_operator"
    queue = verifier.get("/api/v1/verification-jobs/?status=awaiting_operator").json()["results"]
    assert [row["id"] for row in queue] == [job.pk] and queue[0]["status"] == "awaiting_operator"
    assert verifier.get("/api/v1/verification-jobs/?status=in_review").json()["results"] == []
    # no opinion while the request is open
    refused = verifier.post(
        f"/api/v1/verification-jobs/{job.pk}/opinion/",
        {"opinion": "verified", "statement": "ok"},
        format="json",
    )
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "request_open"

    # the operator is told, and answers
    [told] = operator.get("/api/v1/notifications/").json()["results"]
    assert told["kind"] == "request_opened" and told["data"]["request"] == request["id"]
    answered = operator.post(
        f"/api/v1/requests/{request['id']}/answers/",
        {"text": "Lab report LR-2024-03 attached."},
        format="json",
    )
    assert answered.status_code == 201, answered.content
    assert answered.json()["status"] == "answered"
    assert [a["text"] for a in answered.json()["answers"]] == ["Lab report LR-2024-03 attached."]
    assert job_status(world, job) == "in_review"  # the ball is back with the verifier
    [back] = verifier.get("/api/v1/notifications/?unread=true").json()["results"]
    assert back["kind"] == "request_answered"
    # answered is not settled: the opinion still waits for the verifier to close it
    still = verifier.post(
        f"/api/v1/verification-jobs/{job.pk}/opinion/",
        {"opinion": "verified", "statement": "ok"},
        format="json",
    )
    assert still.status_code == 409 and still.json()["errors"][0]["code"] == "request_answered"

    closed = verifier.post(
        f"/api/v1/requests/{request['id']}/close/", {"note": "NCV confirmed."}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["closing_note"] == "NCV confirmed."
    assert (
        operator.post(
            f"/api/v1/requests/{request['id']}/answers/", {"text": "more"}, format="json"
        ).status_code
        == 409
    )
    opinion = verifier.post(
        f"/api/v1/verification-jobs/{job.pk}/opinion/",
        {"opinion": "verified", "statement": "ok"},
        format="json",
    )
    assert opinion.status_code == 200, opinion.content
    assert job_status(world, job) == "completed"

    # every step audited, on the facility's chain
    steps = AuditEvent.objects.filter(object_type="information_request", object_id=str(request["id"]))
    assert list(steps.order_by("id").values_list("action", "actor_id")) == [
        ("request.open", world.verifier_a.user.pk),
        ("request.answer", world.operator_a.user.pk),
        ("request.close", world.verifier_a.user.pk),
    ]
    assert {event.chain for event in steps} == {f"facility:{world.facility_a.pk}"}

    # the worker e-mailed the notifications of users with an address through the SMTP server
    delivered = smtp.messages
    workers.wait_until(lambda: len(delivered()) == 3, "three e-mails: opened, answered, closed")
    by_recipient = sorted((m["To"], m["Subject"]) for m in delivered())
    assert [to for to, _ in by_recipient] == [
        "operator_a@example.test",
        "operator_a@example.test",
        "verifier_a@example.test",
    ]
    opened_mail = next(m for m in delivered() if "asks for information" in m["Subject"])
    text = opened_mail.get_content()
    assert "Send the lab report of the coal NCV for March." in text
    assert "核查人员就" in opened_mail["Subject"]  # the zh-Hans reading follows the English
    workers.wait_until(
        lambda: Notification.objects.filter(emailed_at__isnull=False).count() == 3, "the three marked sent"
    )


# -- requests: who may do what --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_requests_are_seen_by_the_operator_the_body_and_the_regulator_only(world: World) -> None:
    job = claimed_job(world)
    request = ask(world, job).json()
    paths = [f"/api/v1/requests/{request['id']}/", f"/api/v1/verification-jobs/{job.pk}/requests/"]
    for who in ("operator_a", "verifier_a", "regulator"):
        for path in paths:
            assert world.client(who).get(path).status_code == 200, (who, path)
        assert [r["id"] for r in world.client(who).get("/api/v1/requests/").json()["results"]] == [
            request["id"]
        ]
    # another operator, another verification body, a user of no organisation: not found
    outsider = factories.client_for(factories.api_user(role="operator"))
    for client in (world.client("operator_b"), world.client("verifier_b"), outsider):
        for path in paths:
            assert client.get(path).status_code == 404
        assert client.get("/api/v1/requests/").json()["results"] == []
        answer = client.post(f"/api/v1/requests/{request['id']}/answers/", {"text": "x"}, format="json")
        assert answer.status_code == 404
        assert client.post(f"/api/v1/requests/{request['id']}/close/").status_code == 404
    # inside the scope, out of role: 403
    assert (
        world.client("verifier_a")
        .post(f"/api/v1/requests/{request['id']}/answers/", {"text": "x"}, format="json")
        .status_code
        == 403
    )
    assert world.client("operator_a").post(f"/api/v1/requests/{request['id']}/close/").status_code == 403
    body = {"question": "May I?", "due_date": _in_days(3)}
    asked = world.client("regulator").post(
        f"/api/v1/verification-jobs/{job.pk}/requests/", body, format="json"
    )
    assert asked.status_code == 403
    assert InformationRequest.objects.get().status == "open"


@pytest.mark.django_db
def test_only_the_claiming_verifier_asks_and_closes(world: World) -> None:
    job = claimed_job(world)
    colleague = factories.api_user(role="verifier", organisation_name=world.facility_a.verification_body.name)
    other = factories.client_for(colleague)
    body = {"question": "Why?", "due_date": _in_days(3)}
    refused = other.post(f"/api/v1/verification-jobs/{job.pk}/requests/", body, format="json")
    assert refused.status_code == 409 and "claimed" in refused.json()["detail"]
    request = ask(world, job).json()
    assert other.post(f"/api/v1/requests/{request['id']}/close/").status_code == 409
    assert InformationRequest.objects.get().status == "open"


@pytest.mark.django_db
def test_a_request_on_a_job_not_in_review_is_refused(world: World) -> None:
    job = job_of(submit(world))
    checks_run(job_id=job.pk)  # awaiting review, not claimed
    answer = ask(world, job)
    assert answer.status_code == 409 and not InformationRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "pointer", "code"),
    [
        ({"due_date": "2020-01-01"}, "/due_date", "in_the_past"),
        ({"due_date": "31/12/2030"}, "/due_date", "invalid"),
        ({"line_ref": "no-such-line"}, "/line_ref", "does_not_exist"),
        ({"finding": 999999}, "/finding", "does_not_exist"),
        ({"question": "   "}, "/question", "blank"),
    ],
)
def test_a_bad_request_is_a_problem_pointing_at_the_field(
    world: World, extra: dict[str, Any], pointer: str, code: str
) -> None:
    job = claimed_job(world)
    answer = ask(world, job, **extra)
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    assert [(e["pointer"], e["code"]) for e in answer.json()["errors"]] == [(pointer, code)]
    assert not InformationRequest.objects.exists()


@pytest.mark.django_db
def test_a_request_may_name_a_finding_of_the_job(world: World) -> None:
    job = claimed_job(world)
    finding = world.client("verifier_a").post(
        f"/api/v1/verification-jobs/{job.pk}/findings/",
        {"code": "ncv_source", "severity": "info", "detail": "Where does the NCV come from?"},
        format="json",
    )
    assert finding.status_code == 201
    answer = ask(world, job, finding=finding.json()["id"])
    assert answer.status_code == 201 and answer.json()["finding"] == finding.json()["id"]


@pytest.mark.django_db
def test_an_answer_and_a_closed_request_are_final_in_the_database(world: World) -> None:
    from django.db import DatabaseError, transaction

    job = claimed_job(world)
    request = ask(world, job).json()
    world.client("operator_a").post(
        f"/api/v1/requests/{request['id']}/answers/", {"text": "Here."}, format="json"
    )
    world.client("verifier_a").post(f"/api/v1/requests/{request['id']}/close/")
    for statement in (
        "UPDATE mrv_requestanswer SET text = 'rewritten'",
        "DELETE FROM mrv_requestanswer",
        "UPDATE mrv_informationrequest SET status = 'open', closed_at = NULL, closed_by_id = NULL",
        "DELETE FROM mrv_informationrequest",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert InformationRequest.objects.get().status == "closed"


# -- notifications ---------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_notifications_are_listed_to_their_user_and_marked_read(world: World) -> None:
    job = claimed_job(world)
    ask(world, job)
    operator, other = world.client("operator_a"), world.client("operator_b")
    [unread] = operator.get("/api/v1/notifications/?unread=true").json()["results"]
    assert unread["read"] is False and unread["kind"] == "request_opened"
    assert "asks for information on the report of 2024" in unread["subject"]
    # someone else's notification is not found, neither listed nor marked
    assert other.get("/api/v1/notifications/").json()["results"] == []
    assert other.post(f"/api/v1/notifications/{unread['id']}/read/").status_code == 404
    read = operator.post(f"/api/v1/notifications/{unread['id']}/read/")
    assert read.status_code == 200 and read.json()["read"] is True and read.json()["read_at"]
    assert operator.get("/api/v1/notifications/?unread=true").json()["results"] == []
    assert [n["id"] for n in operator.get("/api/v1/notifications/?unread=false").json()["results"]] == [
        unread["id"]
    ]
    again = operator.post(f"/api/v1/notifications/{unread['id']}/read/")
    assert again.json()["read_at"] == read.json()["read_at"]  # read once, the first time stands
    bad = operator.get("/api/v1/notifications/?unread=perhaps")
    assert bad.status_code == 400 and bad.json()["errors"][0]["pointer"] == "/query/unread"


@pytest.mark.django_db
def test_a_notification_reads_in_chinese(world: World) -> None:
    job = claimed_job(world)
    ask(world, job)
    [row] = (
        world.client("operator_a")
        .get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
        .json()["results"]
    )
    assert row["subject"].endswith("核查人员就 2024 的报告要求提供信息")
    assert "Send the lab report of the coal NCV for March." in row["body"]  # the verifier's words as written


# -- e-mail through a real SMTP server -------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_notification_is_emailed_once_through_a_real_smtp_server(
    world: World, smtp: OwnSmtp, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    user = world.operator_a.user
    user.email = "operator@example.test"
    user.save(update_fields=["email"])
    [notification] = notify(
        users=[user],
        kind="request_closed",
        subject="Plant A: the verifier closed request 7",
        body="Request 7 is closed.",
        data={},
    )
    assert notification_email_send(notification_id=notification.pk) == f"sent to user {user.pk}"
    assert notification_email_send(notification_id=notification.pk) == "skipped: sent already"
    [message] = smtp.messages()
    assert message["To"] == "operator@example.test" and message["From"] == settings.DEFAULT_FROM_EMAIL
    assert (
        str(message["Subject"]).strip()
        == "Plant A: the verifier closed request 7 / Plant A：核查人员已关闭请求 7"
    )
    assert message.get_content().startswith("Request 7 is closed.\n\n请求 7 已关闭。")
    notification.refresh_from_db()
    assert notification.emailed_at is not None and notification.email_error == ""


@pytest.mark.django_db
def test_a_subject_with_a_line_break_is_sent_on_one_line_and_adds_no_header(
    world: World, smtp: OwnSmtp, settings: Any
) -> None:
    # a facility's name may hold a line break (the regulator's PATCH accepts it): the subject names it
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    user = world.operator_a.user
    user.email = "operator@example.test"
    user.save(update_fields=["email"])
    [notification] = notify(
        users=[user], kind="request_closed", subject="Plant A\nBcc: x@example.org", body="b", data={}
    )
    assert notification_email_send(notification_id=notification.pk) == f"sent to user {user.pk}"
    [message] = smtp.messages()
    assert str(message["Subject"]).strip() == "Plant A Bcc: x@example.org"
    assert message["Bcc"] is None and message["To"] == "operator@example.test"


@pytest.mark.django_db
def test_an_smtp_server_that_is_down_leaves_the_notification_to_be_sent_again(
    world: World, smtp: OwnSmtp, settings: Any
) -> None:
    from mrv.services.notifications import NotificationEmailFailed

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 5
    user = world.operator_a.user
    user.email = "operator@example.test"
    user.save(update_fields=["email"])
    [notification] = notify(users=[user], kind="request_closed", subject="s", body="b", data={})
    smtp.stop()
    with pytest.raises(NotificationEmailFailed):
        notification_email_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.emailed_at is None and "Connection" in notification.email_error
    smtp.start()  # the server is back: the retry sends it
    assert notification_email_send(notification_id=notification.pk).startswith("sent")
    assert len(smtp.messages()) == 1


def test_notification_emails_not_sent_after_an_hour_are_published_again(world: World) -> None:
    """An e-mail whose task gave up (an SMTP outage longer than its retries) is published again by the beat
    task: only unsent ones, older than an hour, younger than a week, to users with an address."""
    from django.utils import timezone

    from mrv.models import Notification
    from mrv.services.notifications import notification_emails_resend

    with_address, without = world.operator_a.user, world.operator_b.user
    with_address.email = "operator@example.test"
    with_address.save(update_fields=["email"])
    made = {
        name: notify(users=[user], kind="request_closed", subject=name, body="b", data={})[0]
        for name, user in (
            ("old", with_address),
            ("recent", with_address),
            ("sent", with_address),
            ("stale", with_address),
            ("no address", without),
        )
    }
    now = timezone.now()
    ages = {
        "old": timedelta(hours=2),
        "recent": timedelta(minutes=10),
        "sent": timedelta(hours=2),
        "stale": timedelta(days=8),
        "no address": timedelta(hours=2),
    }
    for name, notification in made.items():
        Notification.objects.filter(pk=notification.pk).update(created_at=now - ages[name])
    Notification.objects.filter(pk=made["sent"].pk).update(emailed_at=now)
    assert notification_emails_resend() == 1  # "old" only


# -- deadlines -------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_deadlines_of_a_year_with_their_status(world: World) -> None:
    submit(world, year=2024)  # the annual report of 2024, submitted today: after 31 March 2025, late
    answer = world.client("operator_a").get("/api/v1/deadlines/?year=2024&page_size=100")
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert {row["facility"] for row in rows} == {world.facility_a.pk}  # operator B's facility is not listed
    # 12 monthly deposits + annual report + verification + surrender
    assert len(rows) == 15
    by_kind = {(row["kind"], row["period"]): row for row in rows}
    annual = by_kind[("annual_report", "2024")]
    assert (annual["due_date"], annual["status"], annual["source"]) == (
        "2025-03-31",
        "late",
        "cn-mee-2024@2024.2",
    )
    assert annual["met_at"] is not None
    # January 2024's deposit: 31 January + 40 days = 11 March 2024; never deposited
    assert (
        by_kind[("monthly_deposit", "2024-01")]["due_date"],
        by_kind[("monthly_deposit", "2024-01")]["status"],
    ) == (
        "2024-03-11",
        "missed",
    )
    assert (by_kind[("verification", "2024")]["due_date"], by_kind[("verification", "2024")]["status"]) == (
        "2025-06-30",
        "missed",
    )
    assert (by_kind[("surrender", "2024")]["due_date"], by_kind[("surrender", "2024")]["status"]) == (
        "2025-12-31",
        "missed",
    )
    # judged on a day before the submission: not yet made then (open before the due date, missed after)
    earlier = world.client("operator_a").get("/api/v1/deadlines/?year=2024&kind=annual_report&on=2025-03-01")
    assert [(r["status"], r["met_at"]) for r in earlier.json()["results"]] == [("open", None)]
    # the verifier of the facility sees its deadlines too; the other body sees none
    assert (
        len(world.client("verifier_a").get("/api/v1/deadlines/?year=2024&page_size=100").json()["results"])
        == 15
    )
    assert (
        world.client("verifier_b")
        .get(f"/api/v1/deadlines/?year=2024&facility={world.facility_a.pk}")
        .json()["results"]
        == []
    )


@pytest.mark.django_db
def test_a_deposit_made_before_its_due_date_is_met(world: World) -> None:
    year, month = _last_month()
    submit(world, year=year, month=month)
    rows = (
        world.client("operator_a")
        .get(f"/api/v1/deadlines/?year={year}&kind=monthly_deposit")
        .json()["results"]
    )
    row = next(r for r in rows if r["period"] == f"{year}-{month:02d}")
    assert row["status"] == "met" and row["met_at"] is not None
    bad = world.client("operator_a").get("/api/v1/deadlines/?year=1800&kind=bribe")
    assert bad.status_code == 400
    assert {e["pointer"] for e in bad.json()["errors"]} == {"/query/year", "/query/kind"}


def _last_month() -> tuple[int, int]:
    today = deposits.today()
    last = today.replace(day=1) - timedelta(days=1)
    return last.year, last.month


# -- reminders -------------------------------------------------------------------------------------------------
def _deposit_due(year: int, month: int) -> date:
    return deposits.due_date(year, month, deposits.due_rule("cn-mee-2024"))


@pytest.mark.django_db
def test_reminders_go_to_the_facility_that_has_not_met_the_deadline_once(world: World) -> None:
    year, month = _last_month()
    submit(world, year=year, month=month)  # facility A deposits last month's report; facility B does not
    due = _deposit_due(year, month)  # last month's end + 40 days: a month or more ahead
    period = f"{year}-{month:02d}"

    def reminders(user: Any) -> list[tuple[str, str, int]]:
        return list(
            DeadlineReminder.objects.filter(user=user.user).values_list("kind", "period", "days_before")
        )

    assert deadline_reminders_send(on=due - timedelta(days=8)) == 0  # 8 days ahead: too early
    assert deadline_reminders_send(on=due - timedelta(days=7)) == 1
    assert reminders(world.operator_b) == [("monthly_deposit", period, 7)]
    assert reminders(world.operator_a) == []  # facility A has deposited
    # the same day again, and the next day: nothing twice
    assert deadline_reminders_send(on=due - timedelta(days=7)) == 0
    assert deadline_reminders_send(on=due - timedelta(days=6)) == 0
    assert deadline_reminders_send(on=due - timedelta(days=1)) == 1  # the last day's reminder
    assert reminders(world.operator_b) == [("monthly_deposit", period, 7), ("monthly_deposit", period, 1)]
    assert deadline_reminders_send(on=due) == 0
    assert deadline_reminders_send(on=due + timedelta(days=1)) == 0  # past due: missed, no reminder
    [first, last] = Notification.objects.filter(user=world.operator_b.user).order_by("id")
    assert first.kind == "deadline_reminder" and first.data["due_date"] == due.isoformat()
    assert f"the monthly deposit of {period} is due on {due}" in first.subject
    assert last.data["days_before"] == 1
    assert not Notification.objects.filter(user=world.operator_a.user).exists()


@pytest.mark.postgres
def test_two_reminder_runs_at_once_send_each_reminder_once(tx_world: World) -> None:
    year, month = _last_month()
    on = _deposit_due(year, month) - timedelta(days=7)  # neither facility has deposited: two reminders
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(deadline_reminders_send(on=on))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(results) in ([0, 2], [1, 1])  # between them, each reminder once
    assert DeadlineReminder.objects.count() == 2
    assert Notification.objects.filter(kind="deadline_reminder").count() == 2
    assert set(DeadlineReminder.objects.values_list("user_id", flat=True)) == {
        tx_world.operator_a.user.pk,
        tx_world.operator_b.user.pk,
    }


@pytest.mark.django_db
def test_the_reminder_task_is_in_the_beat_schedule(settings: Any) -> None:
    from mrv.tasks import send_deadline_reminders

    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert send_deadline_reminders.name in schedule
    assert send_deadline_reminders() == 0  # nothing due: no facility at all


@pytest.mark.django_db
def test_create_api_user_takes_the_address_notifications_are_emailed_to() -> None:
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command(
        "create_api_user", "mailer", "--role", "operator", "--email", "ops@plant.example", stdout=StringIO()
    )
    assert get_user_model().objects.get(username="mailer").email == "ops@plant.example"


@pytest.mark.django_db
def test_a_request_moves_with_its_job_to_another_body_and_so_does_its_answer(world: World) -> None:
    from mrv.models import Membership

    job = claimed_job(world)
    request = ask(world, job).json()
    body_b = Membership.objects.get(user=world.verifier_b.user).organisation_id
    moved = world.client("regulator").patch(
        f"/api/v1/facilities/{world.facility_a.pk}/", {"verification_body": body_b}, format="json"
    )
    assert moved.status_code == 200, moved.content
    # the job and its request are body B's now; body A no longer sees them
    assert world.client("verifier_a").get(f"/api/v1/requests/{request['id']}/").status_code == 404
    assert world.client("verifier_b").get(f"/api/v1/requests/{request['id']}/").status_code == 200
    answered = world.client("operator_a").post(
        f"/api/v1/requests/{request['id']}/answers/", {"text": "The lab report."}, format="json"
    )
    assert answered.status_code == 201
    # nobody holds the job: the answer is told to the body that has it, not to the verifier who asked
    assert Notification.objects.filter(kind="request_answered", user=world.verifier_b.user).count() == 1
    assert not Notification.objects.filter(kind="request_answered", user=world.verifier_a.user).exists()


@pytest.mark.django_db
def test_a_verification_deadline_reminds_the_operator_and_the_verification_body(world: World) -> None:
    year = deposits.today().year
    due = date(year + 1, 6, 30)  # the verification of year's annual report: cn-mee-2024's [deadlines]
    # a week ahead nothing else is due: the annual report by 31 March, May's deposit on 10 July
    assert deadline_reminders_send(on=due - timedelta(days=7)) == 4
    reminded = set(DeadlineReminder.objects.values_list("kind", "facility_id", "user_id"))
    assert reminded == {
        ("verification", world.facility_a.pk, world.operator_a.user.pk),
        ("verification", world.facility_a.pk, world.verifier_a.user.pk),
        ("verification", world.facility_b.pk, world.operator_b.user.pk),
        ("verification", world.facility_b.pk, world.verifier_b.user.pk),
    }


def test_requests_and_reminders_are_published_to_the_webhooks_that_asked_for_them(world: World) -> None:
    """request.opened and request.answered go to the report's operator and the job's body,
    deadline.approaching to the facility's operator: one outbox row per subscription that asked."""
    from mrv.models import WebhookDelivery

    def subscribe(who: str, events: list[str]) -> int:
        url = "http://127.0.0.1:9/hook"  # never contacted here: the rows are looked at, not sent
        made = world.client(who).post("/api/v1/webhooks/", {"url": url, "events": events}, format="json")
        assert made.status_code == 201, made.content
        return int(made.json()["id"])

    operator_a = subscribe("operator_a", ["request.opened", "request.answered"])
    verifier_a = subscribe("verifier_a", ["request.answered"])
    operator_b = subscribe("operator_b", ["deadline.approaching", "request.opened"])

    job = claimed_job(world)
    opened = ask(world, job)
    assert opened.status_code == 201, opened.content
    request_id = opened.json()["id"]
    answered = world.client("operator_a").post(
        f"/api/v1/requests/{request_id}/answers/", {"text": "Attached."}, format="json"
    )
    assert answered.status_code == 201, answered.content

    def sent(subscription: int) -> list[tuple[str, Any]]:
        rows = WebhookDelivery.objects.filter(subscription_id=subscription).order_by("id")
        return [(row.event_type, orjson.loads(row.body)["data"].get("request")) for row in rows]

    assert sent(operator_a) == [("request.opened", request_id), ("request.answered", request_id)]
    assert sent(verifier_a) == [("request.answered", request_id)]
    assert sent(operator_b) == []  # another operator's facility: nothing of this request

    year, month = _last_month()
    due = _deposit_due(year, month)
    assert deadline_reminders_send(on=due - timedelta(days=7)) >= 1  # facility B has not deposited
    [(event, body)] = [
        (row.event_type, orjson.loads(row.body)["data"])
        for row in WebhookDelivery.objects.filter(subscription_id=operator_b)
    ]
    assert event == "deadline.approaching"
    assert body["facility"] == world.facility_b.pk and body["due_date"] == due.isoformat()
    assert body["days_before"] == 7 and body["kind"] == "monthly_deposit"

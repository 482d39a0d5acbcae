"""Webhooks (issue 13, SPEC §10): subscriptions, the events the services publish, signed deliveries to a
real HTTP receiver on 127.0.0.1 (tests/mrv/receiver.py), retries with back-off through a real Celery
worker, the delivery log and redelivery, and the SSRF rules of production.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from mrv.models import (
    AuditEvent,
    Membership,
    VerificationJob,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from mrv.selectors import deposits
from mrv.services import background, events
from mrv.services import webhooks as service
from mrv.services.verification import checks_run
from tests.mrv.factories import World
from tests.mrv.receiver import receiver
from tests.mrv.verification_helpers import plausible_cement
from tests.mrv.workers import Workers, lock_holder

ROOT = Path(__file__).resolve().parents[2]
ALL = ["report.submitted", "report.status_changed", "verification_job.awaiting_review", "opinion.issued"]


def readme_verify() -> Any:
    """The signature check exactly as README.md documents it (its "Webhooks" section's Python block)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    return namespace["verify"]


def subscribe(world: World, who: str, url: str, events_: list[str] | None = None) -> dict[str, Any]:
    response = world.client(who).post(
        "/api/v1/webhooks/", {"url": url, "events": events_ or ALL}, format="json"
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def create_report(world: World, *, month: int | None = None, year: int = 2024) -> int:
    body: dict[str, Any] = {"facility": world.facility_a.pk, "year": year, "lines": plausible_cement()}
    if month is not None:
        body["month"] = month
    created = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert created.status_code == 201, created.content
    return int(created.json()["id"])


def submit(world: World, report: int) -> None:
    assert (
        world.client("operator_a")
        .post(f"/api/v1/reports/{report}/submit/", {"certify": True}, format="json")
        .status_code
        == 202
    )


def bodies(subscription_id: int) -> list[dict[str, Any]]:
    deliveries = WebhookDelivery.objects.filter(subscription_id=subscription_id).order_by("id")
    return [json.loads(d.body) for d in deliveries]


def organisation_of(user: Any) -> Any:
    return Membership.objects.get(user=user.user).organisation


# -- subscriptions -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_subscription_shows_its_secret_once_and_stores_it_encrypted(world: World) -> None:
    created = subscribe(world, "operator_a", "http://127.0.0.1:9/hooks", ["report.submitted"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) >= 6 + 43  # 32 random bytes in URL-safe base64
    assert created["secret_prefix"] == secret[:10] and created["events"] == ["report.submitted"]
    client = world.client("operator_a")
    listed = client.get("/api/v1/webhooks/").json()
    assert [w["id"] for w in listed["results"]] == [created["id"]]
    assert "secret" not in listed["results"][0]
    detail = client.get(f"/api/v1/webhooks/{created['id']}/").json()
    assert "secret" not in detail and detail["url"] == "http://127.0.0.1:9/hooks"
    stored = WebhookSubscription.objects.get(pk=created["id"])
    assert secret not in stored.secret_encrypted and service.secret_decrypt(stored.secret_encrypted) == secret
    event = AuditEvent.objects.get(action="webhook.create", object_id=str(created["id"]))
    assert secret not in json.dumps(event.data) and event.data["secret_prefix"] == secret[:10]


@pytest.mark.django_db
def test_the_audit_trail_keeps_a_webhook_url_s_origin_not_its_path_or_query(world: World) -> None:
    # a receiver's URL often carries its credential: the regulator reads every organisation's audit trail
    url = "http://127.0.0.1:9/services/T0/B0/tok3n?key=s3cret"
    created = subscribe(world, "operator_a", url, ["report.submitted"])
    event = AuditEvent.objects.get(action="webhook.create", object_id=str(created["id"]))
    assert "tok3n" not in json.dumps(event.data) and "s3cret" not in json.dumps(event.data)
    assert event.data["url"] == "http://127.0.0.1:9"
    assert event.data["url_sha256"] == hashlib.sha256(url.encode()).hexdigest()


@pytest.mark.django_db
def test_webhooks_are_their_organisation_s_alone_and_deleting_one_stops_it(world: World) -> None:
    created = subscribe(world, "operator_a", "http://127.0.0.1:9/hooks")
    url = f"/api/v1/webhooks/{created['id']}/"
    for outsider in ("operator_b", "verifier_a", "regulator"):
        client = world.client(outsider)
        assert client.get(url).status_code == 404
        assert client.delete(url).status_code == 404
        assert client.get(url + "deliveries/").status_code == 404
        assert client.get("/api/v1/webhooks/").json()["count"] == 0
    assert world.client("operator_a").delete(url).status_code == 204
    assert world.client("operator_a").get(url).status_code == 404
    assert AuditEvent.objects.filter(action="webhook.delete", object_id=str(created["id"])).exists()
    # a deleted webhook hears of nothing
    submit(world, create_report(world))
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_a_pending_delivery_of_a_deleted_webhook_ends_failed_without_sending(world: World) -> None:
    with receiver() as rx:
        delivery, _ = one_delivery(world, rx.url)
        client = world.client("operator_a")
        assert client.delete(f"/api/v1/webhooks/{delivery.subscription_id}/").status_code == 204
        assert service.delivery_try(delivery_id=delivery.pk, number=1) == "failed: the webhook was deleted"
        assert rx.received == []
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 0


@pytest.mark.django_db
def test_unknown_events_are_refused_pointing_at_events(world: World) -> None:
    response = world.client("operator_a").post(
        "/api/v1/webhooks/", {"url": "http://127.0.0.1:9/", "events": ["report.eaten"]}, format="json"
    )
    assert response.status_code == 400
    assert [e["pointer"] for e in response.json()["errors"]] == ["/events/0"]
    empty = world.client("operator_a").post(
        "/api/v1/webhooks/", {"url": "http://127.0.0.1:9/", "events": []}, format="json"
    )
    assert empty.status_code == 400 and empty.json()["errors"][0]["pointer"] == "/events"


# -- events: published by the services, in their transaction ---------------------------------------------


@pytest.mark.django_db
def test_the_lifecycle_of_a_report_publishes_its_events_to_the_operator_and_the_verification_body(
    world: World,
) -> None:
    operator = subscribe(world, "operator_a", "http://127.0.0.1:9/op")
    verifier = subscribe(world, "verifier_a", "http://127.0.0.1:9/vb")
    other = subscribe(world, "operator_b", "http://127.0.0.1:9/other")
    report = create_report(world)
    submit(world, report)
    job = VerificationJob.objects.get(revision__report_id=report, kind="verification")
    checks_run(job_id=job.pk)
    verifier_client = world.client("verifier_a")
    assert verifier_client.post(f"/api/v1/verification-jobs/{job.pk}/claim/").status_code == 200
    opinion = {"opinion": "not_verified", "statement": "the kiln meter was not calibrated"}
    answered = verifier_client.post(f"/api/v1/verification-jobs/{job.pk}/opinion/", opinion, format="json")
    assert answered.status_code == 200, answered.content

    seen = [(b["type"], b["data"].get("from"), b["data"]["status"]) for b in bodies(operator["id"])]
    assert seen == [
        ("report.submitted", None, "submitted"),
        ("report.status_changed", "draft", "submitted"),
        ("report.status_changed", "submitted", "checks_running"),
        ("report.status_changed", "checks_running", "in_verification"),
        ("verification_job.awaiting_review", None, "awaiting_review"),
        ("report.status_changed", "in_verification", "returned"),
        ("opinion.issued", None, "completed"),
    ]
    assert [b["type"] for b in bodies(verifier["id"])] == [t for t, _, _ in seen]
    assert bodies(other["id"]) == []
    issued = bodies(operator["id"])[-1]
    assert issued["data"]["opinion"] == "not_verified" and issued["data"]["job"] == job.pk
    assert issued["data"]["revision_status"] == "returned" and issued["data"]["report"] == report
    # one event, one id, whoever receives it
    assert {b["id"] for b in bodies(operator["id"])} == {b["id"] for b in bodies(verifier["id"])}


@pytest.mark.django_db
def test_a_monthly_report_submitted_after_its_due_date_publishes_deposit_late(world: World) -> None:
    hook = subscribe(world, "operator_a", "http://127.0.0.1:9/op", ["deposit.late"])
    submit(world, create_report(world, month=1))  # January 2024: due 31 January + 40 days = 11 March 2024
    [late] = bodies(hook["id"])
    assert late["type"] == "deposit.late"
    assert late["data"]["due_date"] == "2024-03-11" and late["data"]["month"] == 1
    # deposited today (Beijing date): late by the days from 11 March 2024 to today
    assert late["data"]["days_late"] == (deposits.today() - date(2024, 3, 11)).days
    # a monthly report of a month not yet due is not late: next month's, deposited today
    next_month = (deposits.today().replace(day=1) + timedelta(days=32)).replace(day=1)
    submit(world, create_report(world, month=next_month.month, year=next_month.year))
    assert len(bodies(hook["id"])) == 1


@pytest.mark.django_db
def test_an_event_of_a_rolled_back_change_is_neither_stored_nor_sent(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    subscribe(world, "operator_a", "http://127.0.0.1:9/op", ["report.submitted"])
    operator = organisation_of(world.operator_a)
    written = []

    @transaction.atomic
    def change_that_fails() -> None:
        written.append(events.publish("report.submitted", organisation_ids=[operator.pk], data={"x": 1}))
        raise RuntimeError("the change fails after its event was published")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        change_that_fails()
    assert written == [1]
    assert not WebhookDelivery.objects.exists()
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        events.publish("report.submitted", organisation_ids=[operator.pk], data={"x": 1})
    assert WebhookDelivery.objects.count() == 1 and len(callbacks) == 1


# -- deliveries (the service, called as the task calls it) -----------------------------------------------


def one_delivery(world: World, url: str, **data: Any) -> tuple[WebhookDelivery, str]:
    created = subscribe(world, "operator_a", url, ["report.submitted"])
    events.publish(
        "report.submitted", organisation_ids=[organisation_of(world.operator_a).pk], data=data or {"a": 1}
    )
    return WebhookDelivery.objects.get(subscription_id=created["id"]), created["secret"]


@pytest.mark.django_db
def test_the_event_arrives_signed_and_the_documented_recipe_verifies_it(world: World) -> None:
    verify = readme_verify()
    with receiver() as rx:
        delivery, secret = one_delivery(world, rx.url, report=7)
        assert service.delivery_try(delivery_id=delivery.pk, number=1) == "delivered: HTTP 200"
        [got] = rx.received
    assert got.path == "/hooks/mrv" and got.headers["Content-Type"] == "application/json"
    assert verify(secret, got.headers["MRV-Signature"], got.body)
    assert not verify(secret, got.headers["MRV-Signature"], got.body + b" ")  # the body changed
    assert not verify("whsec_another", got.headers["MRV-Signature"], got.body)  # another secret
    stale = re.sub(r"t=(\d+)", lambda m: f"t={int(m.group(1)) - 301}", got.headers["MRV-Signature"])
    assert not verify(secret, stale, got.body)  # outside the 300 s tolerance (and the HMAC no longer matches)
    document = json.loads(got.body)
    assert set(document) == {"id", "type", "created_at", "data"}
    assert document["type"] == "report.submitted" and document["data"] == {"report": 7}
    assert got.headers["MRV-Event-Id"] == document["id"] == str(delivery.event_id)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.delivered_at is not None


@pytest.mark.django_db
def test_an_acknowledged_event_is_never_sent_again_by_the_service(world: World) -> None:
    with receiver() as rx:
        delivery, _ = one_delivery(world, rx.url)
        assert service.delivery_try(delivery_id=delivery.pk, number=1).startswith("delivered")
        # the same message delivered again by the broker, and a stray next try: both do nothing
        assert service.delivery_try(delivery_id=delivery.pk, number=1) == "skipped: delivery is delivered"
        assert service.delivery_try(delivery_id=delivery.pk, number=2) == "skipped: delivery is delivered"
        assert len(rx.received) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_try_whose_delivery_is_locked_by_another_run_skips_without_sending(tx_world: World) -> None:
    with receiver() as rx:
        delivery, _ = one_delivery(tx_world, rx.url)
        holder = lock_holder()
        try:
            holder.execute("SELECT id FROM mrv_webhookdelivery WHERE id = %s FOR UPDATE", [delivery.pk])
            outcome = service.delivery_try(delivery_id=delivery.pk, number=1)
        finally:
            holder.rollback()
            holder.close()
        assert outcome.startswith("skipped: being tried by another run")
        assert rx.received == []
        assert service.delivery_try(delivery_id=delivery.pk, number=1).startswith("delivered")
        assert len(rx.received) == 1


@pytest.mark.django_db
def test_failed_tries_are_logged_and_retried_until_the_last_then_failed(world: World, settings: Any) -> None:
    settings.MRV_WEBHOOK_MAX_ATTEMPTS = 3
    with receiver(500, 503, 404, 200) as rx:
        delivery, _ = one_delivery(world, rx.url)
        for number in (1, 2, 3):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())  # due now
            assert service.delivery_try(delivery_id=delivery.pk, number=number).startswith(
                "retry in" if number < 3 else "failed after 3 tries"
            )
        assert len(rx.received) == 3
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    tries = list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code", "error")
    )
    assert tries == [(1, 500, "HTTP 500"), (2, 503, "HTTP 503"), (3, 404, "HTTP 404")]


@pytest.mark.django_db
def test_a_try_before_its_time_waits_and_the_back_off_doubles(world: World, settings: Any) -> None:
    settings.MRV_WEBHOOK_BACKOFF_SECONDS = 60
    with receiver(500) as rx:
        delivery, _ = one_delivery(world, rx.url)
        before = timezone.now()
        assert service.delivery_try(delivery_id=delivery.pk, number=1) == "retry in 60 s: HTTP 500"
        delivery.refresh_from_db()
        assert delivery.next_attempt_at >= before + timedelta(seconds=60)
        assert service.delivery_try(delivery_id=delivery.pk, number=2) == "skipped: not due yet"
        assert len(rx.received) == 1
    # 60 s after the 1st failed try, 120 s after the 2nd, 240 s after the 3rd
    assert [service.backoff(n) for n in (1, 2, 3)] == [60.0, 120.0, 240.0]


def test_the_default_schedule_tries_at_least_6_times_over_at_least_12_hours(settings: Any) -> None:
    from config import settings as defaults

    assert defaults.MRV_WEBHOOK_MAX_ATTEMPTS == 12 and defaults.MRV_WEBHOOK_BACKOFF_SECONDS == 60
    settings.MRV_WEBHOOK_BACKOFF_SECONDS = 60
    # waits after tries 1..11: 60 s x (1 + 2 + ... + 1024) = 60 x 2047 = 122,820 s = 34.1 hours
    assert sum(service.backoff(n) for n in range(1, 12)) == 122_820
    # a receiver down for an hour: tries at 0, 1, 3, 7, 15, 31 min, then 63 min (after it came back)
    starts = [sum(service.backoff(n) for n in range(1, k)) / 60 for k in range(1, 8)]
    assert starts == [0, 1, 3, 7, 15, 31, 63]


@pytest.mark.django_db
def test_a_receiver_that_is_down_or_too_slow_is_a_failed_try_with_its_reason(
    world: World, settings: Any
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    delivery, _ = one_delivery(world, f"http://127.0.0.1:{closed}/")
    assert service.delivery_try(delivery_id=delivery.pk, number=1).startswith("retry in")
    assert "ConnectionRefusedError" in WebhookAttempt.objects.get(delivery=delivery).error
    settings.MRV_WEBHOOK_TIMEOUT_SECONDS = 0.5
    with receiver(delay=2.0) as rx:
        slow, _ = one_delivery(world, rx.url)
        assert service.delivery_try(delivery_id=slow.pk, number=1).startswith("retry in")
        rx.wait_for(1)
    [timed_out] = WebhookAttempt.objects.filter(delivery=slow)
    assert (timed_out.status_code, timed_out.error) == (None, "timed out after 0.5 s")


@pytest.mark.django_db
def test_a_receiver_that_trickles_its_answer_is_a_failed_try_at_the_task_s_time_limit(
    world: World, settings: Any
) -> None:
    import signal
    import socket
    import threading
    import time

    settings.MRV_WEBHOOK_TIMEOUT_SECONDS = 1.0  # each byte comes within it: the socket never times out
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            while not stop.is_set():  # one byte of the status line every 0.2 s, never the end of it
                try:
                    connection.sendall(b"H")
                except OSError:
                    return
                time.sleep(0.2)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()

    def soft_limit(signum: int, frame: Any) -> None:  # what the worker does at the soft time limit
        raise background.TimeLimitReached()

    previous = signal.signal(signal.SIGALRM, soft_limit)
    try:
        delivery, _ = one_delivery(world, f"http://127.0.0.1:{listener.getsockname()[1]}/")
        signal.setitimer(signal.ITIMER_REAL, 1.5)
        outcome = service.delivery_try(delivery_id=delivery.pk, number=1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        stop.set()
        listener.close()
        thread.join(timeout=5)
    assert outcome.startswith("retry in")
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.status_code, attempt.error) == (
        None,
        "the receiver did not answer within the task's time limit",
    )
    delivery.refresh_from_db()
    assert delivery.attempts == 1


@pytest.mark.django_db
def test_a_secret_that_cannot_be_decrypted_is_a_failed_try_saying_why(world: World, settings: Any) -> None:
    with receiver() as rx:
        delivery, _ = one_delivery(world, rx.url)
        settings.MRV_WEBHOOK_KEY = "a-new-key-without-the-old-one"
        assert service.delivery_try(delivery_id=delivery.pk, number=1).startswith("retry in")
        assert rx.received == []
        settings.MRV_WEBHOOK_KEY = "a-new-key-without-the-old-one," + settings.SECRET_KEY  # the old key kept
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert service.delivery_try(delivery_id=delivery.pk, number=2).startswith("delivered")
    assert WebhookAttempt.objects.get(delivery=delivery, number=1).error.startswith(
        "the secret cannot be decrypted"
    )


@pytest.mark.django_db
def test_a_redirect_is_not_followed_and_counts_as_a_failed_try(world: World) -> None:
    with receiver(302) as rx:
        delivery, _ = one_delivery(world, rx.url)
        assert service.delivery_try(delivery_id=delivery.pk, number=1).startswith("retry in")
        assert len(rx.received) == 1
    assert WebhookAttempt.objects.get(delivery=delivery).error.startswith("redirect not followed")


@pytest.mark.django_db
def test_the_delivery_log_and_a_redelivery_through_the_api(world: World) -> None:
    with receiver(500) as rx:
        delivery, secret = one_delivery(world, rx.url)
        hook = delivery.subscription_id
        client = world.client("operator_a")
        redeliver = f"/api/v1/webhooks/{hook}/deliveries/{delivery.pk}/redeliver/"
        assert client.post(redeliver).status_code == 409  # still pending
        service.delivery_try(delivery_id=delivery.pk, number=1)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        service.delivery_try(delivery_id=delivery.pk, number=2)
        log = client.get(f"/api/v1/webhooks/{hook}/deliveries/").json()
        [shown] = log["results"]
        assert shown["status"] == "delivered" and shown["event_type"] == "report.submitted"
        assert [(t["number"], t["status_code"], t["error"]) for t in shown["tries"]] == [
            (1, 500, "HTTP 500"),
            (2, 200, ""),
        ]
        assert all(t["duration_ms"] >= 0 and t["at"] for t in shown["tries"])
        assert world.client("operator_b").post(redeliver).status_code == 404
        answered = client.post(redeliver)
        assert answered.status_code == 202 and answered.json()["status"] == "pending"
        assert client.post(redeliver).status_code == 409  # pending again
        assert service.delivery_try(delivery_id=delivery.pk, number=3).startswith("delivered")
        assert len(rx.received) == 3
        first, again = json.loads(rx.received[1].body), json.loads(rx.received[2].body)
        assert first == again  # the same event, same id
        assert readme_verify()(secret, rx.received[2].headers["MRV-Signature"], rx.received[2].body)
    assert AuditEvent.objects.filter(action="webhook.redeliver", object_id=str(hook)).exists()


@pytest.mark.django_db
def test_a_redelivery_starts_a_new_series_of_tries_with_the_first_wait(world: World, settings: Any) -> None:
    settings.MRV_WEBHOOK_MAX_ATTEMPTS, settings.MRV_WEBHOOK_BACKOFF_SECONDS = 2, 60
    with receiver(500, 500, 500) as rx:
        delivery, _ = one_delivery(world, rx.url)
        assert service.delivery_try(delivery_id=delivery.pk, number=1) == "retry in 60 s: HTTP 500"
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert service.delivery_try(delivery_id=delivery.pk, number=2) == "failed after 2 tries: HTTP 500"
        delivery.refresh_from_db()
        service.delivery_redeliver(by=world.operator_a.user, delivery=delivery)
        # try 3 is the first of the new series: 60 s again (not 60 x 2^2), and 2 more tries allowed
        assert service.delivery_try(delivery_id=delivery.pk, number=3) == "retry in 60 s: HTTP 500"
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert service.delivery_try(delivery_id=delivery.pk, number=4) == "delivered: HTTP 200"
        assert len(rx.received) == 4


@pytest.mark.django_db
def test_the_sweeper_publishes_a_due_delivery_without_a_message_once(world: World) -> None:
    delivery, _ = one_delivery(world, "http://127.0.0.1:9/")
    assert service.deliveries_sweep() == 0  # its message was just published
    WebhookDelivery.objects.filter(pk=delivery.pk).update(published_at=None)
    assert service.deliveries_sweep() == 1
    assert service.deliveries_sweep() == 0
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        published_at=None, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    assert service.deliveries_sweep() == 0  # not due yet


# -- SSRF --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/", "must use https"),
        ("http://127.0.0.1:{port}/", "must use https"),
        ("https://localhost/", "loopback address"),
        ("https://127.0.0.1:{port}/", "loopback address (127.0.0.1)"),
        ("https://10.0.0.1/", "private address (10.0.0.1)"),
        ("https://localhost:{port}/", "loopback address"),
        ("https://169.254.169.254/latest/meta-data/", "link-local address"),
        ("https://[::ffff:127.0.0.1]:{port}/", "loopback address"),
        ("https://0.0.0.0:{port}/", "address (0.0.0.0)"),
        ("https://user:pw@example.org/", "user name or password"),
    ],
)
def test_production_refuses_urls_to_private_addresses_and_never_contacts_them(
    world: World, settings: Any, url: str, why: str
) -> None:
    settings.MRV_ENV = "production"
    with receiver() as rx:
        response = world.client("operator_a").post(
            "/api/v1/webhooks/", {"url": url.format(port=rx.port), "events": ALL}, format="json"
        )
        assert response.status_code == 400, response.content
        problem = response.json()
        assert problem["code"] == "webhook_url_refused"
        [error] = problem["errors"]
        assert error["pointer"] == "/url" and why in error["detail"]
        assert rx.received == []
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    ("address", "why"),
    [("2002:7f00:1::1", "loopback"), ("2002:a9fe:a9fe::1", "link-local"), ("2002:a00:1::1", "private")],
)
def test_a_6to4_address_is_judged_by_the_ipv4_address_it_carries(address: str, why: str) -> None:
    # 2002:WWXX:YYZZ::/48 is routed by a 6to4 relay to WW.XX.YY.ZZ: 7f00:0001 = 127.0.0.1,
    # a9fe:a9fe = 169.254.169.254, 0a00:0001 = 10.0.0.1
    with pytest.raises(service.TargetRefused, match=why):
        service.target_of(f"https://[{address}]/", production=True)
    assert service._forbidden("2002:101:101::1") is None  # 1.1.1.1 inside: public


def test_production_accepts_a_public_https_address() -> None:
    target = service.target_of("https://1.1.1.1/hooks?x=1", production=True)
    assert (target.host, target.port, target.path, target.addresses) == (
        "1.1.1.1",
        443,
        "/hooks?x=1",
        ("1.1.1.1",),
    )


@pytest.mark.django_db
def test_a_url_that_turned_private_is_refused_at_delivery_and_never_contacted(
    world: World, settings: Any
) -> None:
    with receiver() as rx:
        delivery, _ = one_delivery(world, rx.url)  # accepted in development
        settings.MRV_ENV = "production"  # the same URL is checked again at each try
        outcome = service.delivery_try(delivery_id=delivery.pk, number=1)
        assert outcome.startswith("retry in") and rx.received == []
    [refused] = WebhookAttempt.objects.filter(delivery=delivery)
    assert refused.status_code is None
    assert refused.error == "refused: the URL must use https (plain http is allowed in development only)"


def test_a_try_connects_to_the_address_it_checked_not_to_a_fresh_lookup(settings: Any) -> None:
    """The connection goes to the checked address while the request names the URL's host: a DNS answer
    that changed after the check (rebinding) is never looked up. Here the host does not resolve at all."""
    settings.MRV_WEBHOOK_TIMEOUT_SECONDS = 5
    with receiver() as rx:
        target = service.Target(
            scheme="http", host="rebound.invalid", port=rx.port, path="/x", addresses=("127.0.0.1",)
        )
        answer = service._post(target, body=b"{}", headers={"Content-Type": "application/json"})
        assert answer == service.Answer(200, "")
        [got] = rx.received
    assert got.headers["Host"] == f"rebound.invalid:{rx.port}"


def test_tries_to_a_receiver_keeping_connections_open_reuse_one_only_to_the_checked_address(
    settings: Any,
) -> None:
    """A receiver speaking HTTP/1.1 gets consecutive tries over one connection (one client port); a try
    whose check gave another address never uses that connection: it connects to its own address (here
    nobody listens on 127.0.0.2 at that port: refused, and the receiver got nothing more)."""
    settings.MRV_WEBHOOK_TIMEOUT_SECONDS = 5
    with receiver(keep_alive=True) as rx:
        target = service.Target(
            scheme="http", host="kept.invalid", port=rx.port, path="/x", addresses=("127.0.0.1",)
        )
        for _ in range(3):
            assert service._post(target, body=b"{}", headers={}) == service.Answer(200, "")
        other = service.Target(
            scheme="http", host="kept.invalid", port=rx.port, path="/x", addresses=("127.0.0.2",)
        )
        refused = service._post(other, body=b"{}", headers={})
        assert refused.status_code is None and "ConnectionRefusedError" in refused.error
        assert service._post(target, body=b"{}", headers={}) == service.Answer(200, "")
        peers = [got.peer for got in rx.received]
    assert len(peers) == 4 and len(set(peers)) == 1  # 3 tries, the refused one absent, then a 4th


def test_a_try_sends_without_waiting_for_acknowledgements_nagle_off() -> None:
    """The pinned connections turn Nagle's algorithm off as http.client's own do: a request goes out in
    two writes (headers, body), and with Nagle on the body waited for the receiver's delayed ACK."""
    import socket

    with receiver() as rx:
        plain = service._PinnedHTTPConnection("pinned.invalid", rx.port, address="127.0.0.1", timeout=5)
        plain.connect()
        try:
            assert plain.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            plain.close()


def test_a_receiver_closing_each_connection_gets_a_new_one_per_try(settings: Any) -> None:
    settings.MRV_WEBHOOK_TIMEOUT_SECONDS = 5
    with receiver() as rx:  # HTTP/1.0: the receiver closes after each answer
        target = service.Target(
            scheme="http", host="closing.invalid", port=rx.port, path="/x", addresses=("127.0.0.1",)
        )
        for _ in range(2):
            assert service._post(target, body=b"{}", headers={}) == service.Answer(200, "")
        peers = [got.peer for got in rx.received]
    assert len(set(peers)) == 2


# -- through a real Celery worker ----------------------------------------------------------------------


def test_a_receiver_answering_500_twice_gets_the_event_three_times_through_a_worker(
    tx_world: World, workers: Workers
) -> None:
    """Worker: back-off of 1 s (tries at 0, +1 s, +2 s). The receiver answers 500, 500, then 200."""
    world = tx_world
    verify = readme_verify()
    workers.start(env={"MRV_WEBHOOK_BACKOFF_SECONDS": "1"})
    with receiver(500, 500) as rx:
        hook = subscribe(world, "operator_a", rx.url, ["report.submitted"])
        submit(world, create_report(world))
        got = rx.wait_for(3)
        delivery = WebhookDelivery.objects.get(subscription_id=hook["id"])
        workers.wait_until(
            lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists(),
            "the delivery to be recorded delivered",
        )
        assert len({r.body for r in got}) == 1  # the same event three times
        assert all(verify(hook["secret"], r.headers["MRV-Signature"], r.body) for r in got)
        tries = WebhookAttempt.objects.filter(delivery=delivery).order_by("number")
        assert [(t.number, t.status_code) for t in tries] == [(1, 500), (2, 500), (3, 200)]
        # the tries were spaced by the back-off: 1 s, then 2 s
        assert got[1].at - got[0].at >= 1 and got[2].at - got[1].at >= 2
        # the broker delivering the messages again after the acknowledgement sends nothing
        for number in (1, 2, 3, 4):
            assert background.publish(background.DELIVER_WEBHOOK, delivery.pk, number)
        workers.wait_until(
            lambda: workers.output().count("skipped: delivery is delivered") >= 4,
            "the four repeated messages to be consumed",
        )
        assert len(rx.received) == 3


@pytest.mark.django_db
def test_a_refused_url_is_explained_in_chinese_too(world: World, settings: Any) -> None:
    settings.MRV_ENV = "production"
    response = world.client("operator_a").post(
        "/api/v1/webhooks/",
        {"url": "https://10.0.0.1/", "events": ALL},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-Hans",
    )
    problem = response.json()
    assert response.status_code == 400 and problem["code"] == "webhook_url_refused"
    assert problem["title"] == "Webhook URL 被拒绝"
    assert problem["errors"][0]["detail"] == "主机 10.0.0.1 解析到私有地址（10.0.0.1）：请提供公网 https URL"


@pytest.mark.django_db
def test_the_log_of_tries_is_append_only_in_the_database(world: World) -> None:
    from django.db import IntegrityError

    with receiver() as rx:
        delivery, _ = one_delivery(world, rx.url)
        service.delivery_try(delivery_id=delivery.pk, number=1)
    for change in (
        lambda: WebhookAttempt.objects.filter(delivery=delivery).update(status_code=500),
        lambda: WebhookAttempt.objects.filter(delivery=delivery).delete(),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            change()
    assert WebhookAttempt.objects.get(delivery=delivery).status_code == 200
    # and a try number is made once: a second row for try 1 is refused
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookAttempt.objects.create(delivery=delivery, number=1, at=timezone.now(), duration_ms=0)

"""Events of the service, published to the organisations' webhooks (SPEC §10; mrv/services/webhooks.py).

:func:`publish` is called by a service inside its own transaction, once the change it reports is
written. It writes one outbox row (``WebhookDelivery``) per subscription of the organisations named that
asked for the event, and publishes each row's first try to Celery when the transaction commits: an
event of a change that is rolled back is neither stored nor sent. Nothing is written when nobody
subscribed (one query). Event types are ``WebhookEvent`` values.

The helpers below name who hears of what: a facility's events go to its operator and its verification
body, a verification job's to the report's operator and the job's body.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.conf import settings
from django.utils import timezone

from mrv.domain.canonical import jsonable
from mrv.models import (
    Facility,
    Report,
    ReportRevision,
    VerificationJob,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from mrv.services import background


def _timestamp(value: Any) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def publish(event_type: str, *, organisation_ids: Iterable[int | None], data: dict[str, Any]) -> int:
    """Queue event ``event_type`` with ``data`` for the webhooks of ``organisation_ids`` that subscribed
    to it; how many deliveries were written. Call it inside the transaction of the change."""
    return publish_all([(event_type, data)], organisation_ids=organisation_ids)


def publish_all(
    items: Sequence[tuple[str, dict[str, Any]]], *, organisation_ids: Iterable[int | None]
) -> int:
    """:func:`publish` for several events ``(type, data)`` to the same organisations, in that order, with
    one look-up of their webhooks (one query when nobody subscribed, and one insert more when some did)."""
    unknown = [event_type for event_type, _ in items if event_type not in WebhookEvent.values]
    if unknown:
        raise ValueError(f"unknown webhook event type(s) {unknown!r}")
    organisations = {pk for pk in organisation_ids if pk is not None}
    if not organisations or not items:
        return 0
    subscriptions = sorted(
        WebhookSubscription.objects.filter(
            organisation_id__in=organisations, deleted_at__isnull=True
        ).values_list("pk", "events")
    )
    now = timezone.now()
    rows = []
    for event_type, data in items:
        wanted = [pk for pk, events in subscriptions if event_type in events]
        if not wanted:
            continue
        event_id = uuid.uuid4()
        body = orjson.dumps(
            {"id": str(event_id), "type": event_type, "created_at": _timestamp(now), "data": jsonable(data)}
        ).decode()
        rows += [
            WebhookDelivery(
                subscription_id=pk,
                event_id=event_id,
                event_type=event_type,
                body=body,
                give_up_after=settings.MRV_WEBHOOK_MAX_ATTEMPTS,
                next_attempt_at=now,
                published_at=now,
            )
            for pk in wanted
        ]
    if not rows:
        return 0
    deliveries = WebhookDelivery.objects.bulk_create(rows)
    for delivery in deliveries:
        background.enqueue_on_commit(background.DELIVER_WEBHOOK, delivery.pk, 1)
    return len(deliveries)


# -- who hears of what, and what they are told -------------------------------------------------------


def facility_parties(facility: Facility) -> list[int | None]:
    """A facility's operator and its verification body (None when it has none)."""
    return [facility.operator_id, facility.verification_body_id]


def job_parties(job: VerificationJob, facility: Facility) -> list[int | None]:
    """The report's operator and the body the job is recorded for."""
    return [facility.operator_id, job.verification_body_id]


def report_data(report: Report, revision: ReportRevision) -> dict[str, Any]:
    return {
        "report": report.pk,
        "facility": report.facility_id,
        "year": report.year,
        "month": report.month,
        "revision": revision.number,
        "status": revision.status,
    }


def job_data(job: VerificationJob) -> dict[str, Any]:
    report = job.revision.report
    return {
        "job": job.pk,
        "report": report.pk,
        "facility": report.facility_id,
        "year": report.year,
        "month": report.month,
        "revision": job.revision.number,
        "status": job.status,
        "verification_body": job.verification_body_id,
    }


def publish_awaiting_review(job: VerificationJob, **extra: Any) -> None:
    """``verification_job.awaiting_review`` to the report's operator and the job's body."""
    publish(
        "verification_job.awaiting_review",
        organisation_ids=job_parties(job, job.revision.report.facility),
        data={**job_data(job), **extra},
    )

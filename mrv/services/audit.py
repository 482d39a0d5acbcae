"""The audit trail: an append-only list of events, each chained to the previous one by hash.

``hash = SHA-256(canonical JSON of the event's fields and the previous event's hash)``, so changing,
removing or reordering any stored event breaks every later link; ``manage.py verify_audit_chain``
recomputes the chain. Appends are serialised by locking the single chain-head row, inside the
transaction of the write they record (so an event exists if and only if its write was committed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from mrv.domain.canonical import canonical_json, jsonable
from mrv.models import AuditChainHead, AuditEvent, Facility, Organisation
from mrv.services.rows import insert_parts, mark_saved, placeholders

GENESIS = "0" * 64


def _event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "actor_name": event.actor_name,
        "organisation": event.organisation_id,
        "facility": event.facility_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before_digest": event.before_digest,
        "after_digest": event.after_digest,
        "data": event.data,
        "previous_hash": event.previous_hash,
    }


def _lock_head() -> tuple[int, str]:
    """Lock the chain head (until the transaction ends) and read its sequence and hash."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    statement = f"SELECT sequence, hash FROM {AuditChainHead._meta.db_table} WHERE id = 1{lock}"
    with connection.cursor() as cursor:
        cursor.execute(statement)
        row = cursor.fetchone()
        if row is None:  # a fresh database (the migration creates the row; a flushed test database has none)
            AuditChainHead.objects.get_or_create(pk=1)
            cursor.execute(statement)
            row = cursor.fetchone()
    return int(row[0]), str(row[1])


def _append(event: AuditEvent) -> None:
    """Insert the event and move the chain head to it: one statement on PostgreSQL."""
    if connection.vendor != "postgresql":
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(sequence=event.sequence, hash=event.hash)
        return
    columns, values = insert_parts(event)
    head = AuditChainHead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH event AS (INSERT INTO {AuditEvent._meta.db_table} ({columns}) "
            f"VALUES ({placeholders(values)}) RETURNING id) "
            f"UPDATE {head} SET sequence = %s, hash = %s FROM event WHERE {head}.id = 1 RETURNING event.id",
            [*values, event.sequence, event.hash],
        )
        mark_saved(event, cursor.fetchone()[0])


@transaction.atomic(savepoint=False)
def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    object_type: str,
    object_id: Any,
    organisation: Organisation | None = None,
    facility: Facility | None = None,
    before_digest: str = "",
    after_digest: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain."""
    sequence, previous_hash = _lock_head()
    event = AuditEvent(
        sequence=sequence + 1,
        at=timezone.now(),
        actor=actor,
        actor_name=getattr(actor, "username", "") or "",
        organisation_id=organisation.pk
        if organisation is not None
        else (facility.operator_id if facility else None),
        facility_id=facility.pk if facility is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before_digest=before_digest,
        after_digest=after_digest,
        data=jsonable(data or {}),
        previous_hash=previous_hash,
    )
    event.hash = _event_hash(_fields(event))
    _append(event)
    return event


@dataclass(frozen=True)
class ChainFault:
    sequence: int
    problem: str


def audit_chain_verify() -> Iterator[ChainFault]:
    """Recompute the chain from the start; yield every fault found (none for an intact chain)."""
    previous, expected_sequence = GENESIS, 1
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            yield ChainFault(event.sequence, f"sequence {expected_sequence} is missing")
        if event.previous_hash != previous:
            yield ChainFault(event.sequence, "previous_hash does not match the hash of the event before it")
        if _event_hash(_fields(event)) != event.hash:
            yield ChainFault(event.sequence, "the stored event does not match its hash (altered)")
        previous, expected_sequence = event.hash, event.sequence + 1
    head = AuditChainHead.objects.filter(pk=1).first() or AuditChainHead(pk=1)
    if head.hash != previous or head.sequence != expected_sequence - 1:
        yield ChainFault(head.sequence, "the chain head does not match the last event (events removed)")

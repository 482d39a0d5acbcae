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
from mrv.services.rows import insert_parts, mark_saved

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


def _head() -> AuditChainHead:
    """The locked chain head (created when missing: the migration creates it, a flushed test
    database has none)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


#: The event's canonical JSON ends with these two keys (sorted last), so PostgreSQL can finish it
#: with the head it has locked: ``…,"previous_hash":"<head hash>","sequence":<head sequence + 1>}``.
_CHAIN_KEYS = ("previous_hash", "sequence")

_APPEND = """
WITH head AS (SELECT sequence, hash FROM {head} WHERE id = 1 FOR UPDATE),
event AS (
    INSERT INTO {events} ({columns}, sequence, previous_hash, hash)
    SELECT {placeholders}, head.sequence + 1, head.hash, encode(sha256(convert_to(
        %s || head.hash || '","sequence":' || (head.sequence + 1) || '}}', 'UTF8')), 'hex')
    FROM head
    RETURNING id, sequence, previous_hash, hash
)
UPDATE {head} AS chain SET sequence = event.sequence, hash = event.hash FROM event WHERE chain.id = 1
RETURNING event.id, event.sequence, event.previous_hash, event.hash
"""


def _append(event: AuditEvent) -> None:
    """Chain the event to the head and store both.

    On PostgreSQL one statement locks the head, inserts the event with its hash and moves the head
    (the hash is the SHA-256 of the same canonical JSON, its last two keys filled in by the database);
    elsewhere the head is read, the hash computed here, and the event and head saved in turn.
    """
    if connection.vendor != "postgresql":
        head = _head()
        event.sequence, event.previous_hash = head.sequence + 1, head.hash
        event.hash = _event_hash(_fields(event))
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(sequence=event.sequence, hash=event.hash)
        return
    fields = _fields(event)
    assert sorted(fields)[-2:] == list(_CHAIN_KEYS)
    for key in _CHAIN_KEYS:
        del fields[key]
    prefix = canonical_json(fields)[:-1].decode() + ',"previous_hash":"'
    columns, placeholders, values = insert_parts(event, omit=(*_CHAIN_KEYS, "hash"))
    statement = _APPEND.format(
        head=AuditChainHead._meta.db_table,
        events=AuditEvent._meta.db_table,
        columns=columns,
        placeholders=placeholders,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*values, prefix])
        row = cursor.fetchone()
        if row is None:  # no chain head yet
            _head()
            cursor.execute(statement, [*values, prefix])
            row = cursor.fetchone()
    event.sequence, event.previous_hash, event.hash = row[1], row[2], row[3]
    mark_saved(event, row[0])


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
    event = AuditEvent(
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
    )
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

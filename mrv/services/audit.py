"""The audit trail: append-only events in hash chains keyed with a secret, and signed checkpoints.

**Chains.** Every event belongs to one chain: ``facility:<id>`` when it concerns a facility,
``organisation:<id>`` when it concerns an organisation and no facility, ``system`` otherwise. Each
chain has its own head row (:class:`~mrv.models.AuditChainHead`), so writers of different facilities
never wait on each other here. An event's hash is

    ``HMAC-SHA256(MRV_AUDIT_KEY, canonical JSON of its fields, its chain, its sequence in the chain
    and the previous event's hash)``

with a key that is not in the database: changing, removing or reordering a stored event breaks its
chain from there on, and whoever can write the database (its owner, who can turn the triggers off)
cannot compute the hashes of a rewritten chain. The hash is computed here, in Python, while the
chain's head is locked: one statement locks and reads the head, one inserts the event and moves the
head (PostgreSQL could compute an HMAC only if the key were sent to it).

**Checkpoints.** Removing a chain's tail and moving its head back would leave a shorter chain whose
every hash is right. So, every ``MRV_AUDIT_CHECKPOINT_INTERVAL_SECONDS`` (Celery beat, or
``manage.py audit_checkpoint``), every chain's ``(chain, sequence, hash)`` head is signed with an HMAC
under ``MRV_AUDIT_CHECKPOINT_KEY``, chained to the previous checkpoint, stored in the database and
written as a file to ``MRV_AUDIT_CHECKPOINT_DIR`` (to be archived away from the database server), as
Certificate Transparency logs publish signed tree heads. ``verify_audit_chain`` checks every chain with
the key, every checkpoint's signature and link, and that every head a checkpoint (in the database or
in the folder) names is still in its chain. Events after the last checkpoint are protected by the
database's triggers and the application role's privileges only, until the next checkpoint.

**Lock order** (the whole service takes its locks in this order; each step is optional):

    verification job → report → revision → other rows the write changes → audit chain heads

An append locks its chain's head FOR UPDATE inside the transaction of the write it records (an event
exists if and only if its write was committed) and holds it to the commit, so audit chain heads are the
last locks of a transaction. A transaction that appends to several chains takes them in the order
facility chains, then organisation chains, then ``system`` (``facility_update``: the facility's events,
then the withdrawn review recorded for the old verification body). A checkpoint takes no row lock: it
reads every head in one statement (one snapshot of committed appends), serialised with other
checkpoints by a transaction-level advisory lock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from mrv.domain.canonical import canonical_json, jsonable
from mrv.models import AuditChainHead, AuditCheckpoint, AuditEvent, Facility, Organisation
from mrv.services.rows import insert_parts, mark_saved

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"
#: ``pg_advisory_xact_lock`` key that serialises checkpoints (no other lock uses it).
CHECKPOINT_LOCK = 0x6D72_7661_7564_6974  # "mrvaudit"
CHECKPOINT_KIND = "mrv-audit-checkpoint"


def chain_of(*, facility_id: int | None, organisation_id: int | None) -> str:
    """The chain of an event about this facility (or organisation, or neither)."""
    if facility_id is not None:
        return f"facility:{facility_id}"
    if organisation_id is not None:
        return f"organisation:{organisation_id}"
    return SYSTEM_CHAIN


def _hmac(key: str | bytes, value: Any) -> str:
    secret = key.encode() if isinstance(key, str) else key
    return hmac.new(secret, canonical_json(value), hashlib.sha256).hexdigest()


def event_hash(fields: dict[str, Any], *, key: str | bytes | None = None) -> str:
    """The keyed hash of an event's fields (:func:`event_fields`), under ``MRV_AUDIT_KEY`` by default."""
    return _hmac(settings.MRV_AUDIT_KEY if key is None else key, fields)


def event_fields(event: AuditEvent) -> dict[str, Any]:
    """What an event's hash covers."""
    return {
        "chain": event.chain,
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


_LOCK_HEAD = "SELECT id, sequence, hash FROM {head} WHERE chain = %s FOR UPDATE"
_NEW_HEAD = "INSERT INTO {head} (chain, sequence, hash) VALUES (%s, 0, %s) ON CONFLICT (chain) DO NOTHING"
_APPEND = """
WITH event AS (INSERT INTO {events} ({columns}) VALUES ({placeholders}) RETURNING id)
UPDATE {head} AS head SET sequence = %s, hash = %s FROM event WHERE head.id = %s RETURNING event.id
"""


def _locked_head(cursor: Any, chain: str) -> tuple[int, int, str]:
    """``(id, sequence, hash)`` of the chain's head, locked until the commit (created when new)."""
    table = AuditChainHead._meta.db_table
    cursor.execute(_LOCK_HEAD.format(head=table), [chain])
    row = cursor.fetchone()
    if row is None:  # the chain's first event: whoever creates the head first, both then lock it
        cursor.execute(_NEW_HEAD.format(head=table), [chain, GENESIS])
        cursor.execute(_LOCK_HEAD.format(head=table), [chain])
        row = cursor.fetchone()
    return row[0], row[1], row[2]


def _append(event: AuditEvent) -> None:
    """Chain the event to its chain's head and store both.

    On PostgreSQL: one statement locks and reads the head, the HMAC is computed here, one statement
    inserts the event and moves the head. Elsewhere (SQLite, whose transactions take the database's
    write lock) the same through the ORM.
    """
    if connection.vendor != "postgresql":
        head = AuditChainHead.objects.select_for_update().filter(chain=event.chain).first()
        if head is None:
            head, _ = AuditChainHead.objects.get_or_create(chain=event.chain)
        event.sequence, event.previous_hash = head.sequence + 1, head.hash
        event.hash = event_hash(event_fields(event))
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=head.pk).update(sequence=event.sequence, hash=event.hash)
        return
    with connection.cursor() as cursor:
        head_id, sequence, previous = _locked_head(cursor, event.chain)
        event.sequence, event.previous_hash = sequence + 1, previous
        event.hash = event_hash(event_fields(event))
        columns, placeholders, values = insert_parts(event)
        statement = _APPEND.format(
            events=AuditEvent._meta.db_table,
            head=AuditChainHead._meta.db_table,
            columns=columns,
            placeholders=placeholders,
        )
        cursor.execute(statement, [*values, event.sequence, event.hash, head_id])
        mark_saved(event, cursor.fetchone()[0])


def _event(
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
    """The event, not yet chained nor stored."""
    organisation_id = (
        organisation.pk if organisation is not None else (facility.operator_id if facility else None)
    )
    facility_id = facility.pk if facility is not None else None
    return AuditEvent(
        chain=chain_of(facility_id=facility_id, organisation_id=organisation_id),
        at=timezone.now(),
        actor=actor,
        actor_name=getattr(actor, "username", "") or "",
        organisation_id=organisation_id,
        facility_id=facility_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before_digest=before_digest,
        after_digest=after_digest,
        data=jsonable(data or {}),
    )


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
    """Append one event to its chain (the facility's, else the organisation's, else ``system``)."""
    event = _event(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        organisation=organisation,
        facility=facility,
        before_digest=before_digest,
        after_digest=after_digest,
        data=data,
    )
    _append(event)
    return event


_HEADS_CREATE = (
    "INSERT INTO {head} (chain, sequence, hash) SELECT unnest(%s::text[]), 0, %s "
    "ON CONFLICT (chain) DO NOTHING"
)
_HEADS_LOCK = "SELECT chain, id, sequence, hash FROM {head} WHERE chain = ANY(%s) ORDER BY chain FOR UPDATE"
_HEADS_MOVE = """
UPDATE {head} AS head SET sequence = moved.sequence, hash = moved.hash
FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::bigint[]) AS sequence, unnest(%s::text[]) AS hash) AS moved
WHERE head.id = moved.id
"""


@transaction.atomic(savepoint=False)
def audit_record_many(entries: list[dict[str, Any]]) -> list[AuditEvent]:
    """Append many events at once (each entry: :func:`audit_record`'s arguments), chained exactly as one
    :func:`audit_record` call each would chain them, in the order given: on PostgreSQL every chain head
    involved is locked in one statement (in chain order), the events are inserted in one statement and
    the heads moved in one more (a batch job auditing thousands of facilities). Elsewhere, one by one."""
    if connection.vendor != "postgresql" or len(entries) < 2:
        return [audit_record(**entry) for entry in entries]
    events = [_event(**entry) for entry in entries]
    table = AuditChainHead._meta.db_table
    chains = sorted({event.chain for event in events})
    with connection.cursor() as cursor:
        cursor.execute(_HEADS_CREATE.format(head=table), [chains, GENESIS])
        cursor.execute(_HEADS_LOCK.format(head=table), [chains])
        heads = {chain: [head_id, sequence, value] for chain, head_id, sequence, value in cursor.fetchall()}
        for event in events:
            head = heads[event.chain]
            event.sequence, event.previous_hash = head[1] + 1, head[2]
            event.hash = event_hash(event_fields(event))
            head[1], head[2] = event.sequence, event.hash
        AuditEvent.objects.bulk_create(events)
        moved = list(heads.values())
        cursor.execute(
            _HEADS_MOVE.format(head=table),
            [[h[0] for h in moved], [h[1] for h in moved], [h[2] for h in moved]],
        )
    return events


# -- checkpoints -----------------------------------------------------------------------------------


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """The checkpoint as it is signed, written out and read back (with its signature)."""
    return {
        "kind": CHECKPOINT_KIND,
        "number": checkpoint.number,
        "at": checkpoint.at.isoformat(),
        "heads": [list(head) for head in checkpoint.heads],
        "previous_signature": checkpoint.previous_signature,
        "signature": checkpoint.signature,
    }


def checkpoint_signature(document: dict[str, Any], *, key: str | bytes | None = None) -> str:
    """The HMAC of a checkpoint document (all but its ``signature``) under the checkpoint key."""
    signed = {name: value for name, value in document.items() if name != "signature"}
    return _hmac(settings.MRV_AUDIT_CHECKPOINT_KEY if key is None else key, signed)


@transaction.atomic
def _checkpoint_create() -> tuple[AuditCheckpoint, bool]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHECKPOINT_LOCK])
    last = AuditCheckpoint.objects.order_by("-number").first()
    heads = [
        [chain, sequence, hash_]
        for chain, sequence, hash_ in AuditChainHead.objects.filter(sequence__gt=0)
        .order_by("chain")
        .values_list("chain", "sequence", "hash")
    ]
    if last is not None and last.heads == heads:
        return last, False
    checkpoint = AuditCheckpoint(
        number=last.number + 1 if last else 1,
        at=timezone.now(),
        heads=heads,
        previous_signature=last.signature if last else GENESIS,
    )
    checkpoint.signature = checkpoint_signature(checkpoint_document(checkpoint))
    checkpoint.save(force_insert=True)
    return checkpoint, True


def checkpoint_path(directory: Path, number: int) -> Path:
    return directory / f"checkpoint-{number:012d}.json"


def checkpoint_write(*, checkpoint: AuditCheckpoint, directory: Path) -> Path:
    """Write the checkpoint's document to ``directory`` (atomically: a reader never sees half a file)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = checkpoint_path(directory, checkpoint.number)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(checkpoint_document(checkpoint), indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def audit_checkpoint(*, directory: Path | None = None) -> tuple[AuditCheckpoint, bool]:
    """Sign every chain's head (unless nothing was appended since the last checkpoint), store the
    checkpoint and write it to ``directory`` (``MRV_AUDIT_CHECKPOINT_DIR``) after the commit.
    Returns the checkpoint and whether it is new; the last one is written again if its file is missing."""
    checkpoint, new = _checkpoint_create()
    folder = Path(settings.MRV_AUDIT_CHECKPOINT_DIR) if directory is None else directory
    if new or not checkpoint_path(folder, checkpoint.number).exists():
        checkpoint_write(checkpoint=checkpoint, directory=folder)
    return checkpoint, new


# -- verification ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainFault:
    chain: str  # a chain, or "checkpoints" (then ``sequence`` is the checkpoint's number)
    sequence: int
    problem: str


CHECKPOINTS = "checkpoints"


def _checkpoint_faults(
    documents: list[dict[str, Any]], outside: dict[int, dict[str, Any]]
) -> Iterator[ChainFault]:
    """Signatures and links of the stored checkpoints; the files outside agree with them."""
    previous, expected = GENESIS, 1
    for document in documents:
        number = document["number"]
        if number != expected:
            yield ChainFault(CHECKPOINTS, number, f"checkpoint {expected} is missing")
        if document["previous_signature"] != previous:
            yield ChainFault(CHECKPOINTS, number, "previous_signature is not the signature of the one before")
        if not hmac.compare_digest(checkpoint_signature(document), document["signature"]):
            yield ChainFault(CHECKPOINTS, number, "the signature does not match (forged or altered)")
        previous, expected = document["signature"], number + 1
    stored = {document["number"]: document for document in documents}
    for number, document in sorted(outside.items()):
        if not hmac.compare_digest(checkpoint_signature(document), str(document.get("signature", ""))):
            yield ChainFault(
                CHECKPOINTS, number, "the file's signature does not match (not ours, or altered)"
            )
        elif number not in stored:
            yield ChainFault(
                CHECKPOINTS, number, "written outside the database but missing from it (removed)"
            )
        elif stored[number]["signature"] != document["signature"]:
            yield ChainFault(CHECKPOINTS, number, "differs from the file written outside the database")


def _read_outside(directory: Path | None) -> tuple[dict[int, dict[str, Any]], list[ChainFault]]:
    """The checkpoint files in ``directory`` by number, and a fault for each that cannot be read."""
    documents: dict[int, dict[str, Any]] = {}
    faults = []
    if directory is None or not directory.is_dir():
        return documents, faults
    for path in sorted(directory.glob("checkpoint-*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            number = int(document["number"])
            heads = [(str(chain), int(sequence), str(hash_)) for chain, sequence, hash_ in document["heads"]]
        except (ValueError, KeyError, TypeError) as error:
            faults.append(ChainFault(CHECKPOINTS, 0, f"{path.name} cannot be read as a checkpoint: {error}"))
            continue
        documents[number] = {**document, "heads": [list(head) for head in heads]}
    return documents, faults


def audit_chain_verify(*, checkpoint_dir: Path | None = None) -> Iterator[ChainFault]:
    """Check every chain (each event's keyed hash, its place and link), the chain heads, every
    checkpoint (signature, link) and that every head named by a checkpoint, stored or written to
    ``checkpoint_dir``, is still in its chain. Yields every fault found (none when all is intact)."""
    documents = [checkpoint_document(checkpoint) for checkpoint in AuditCheckpoint.objects.order_by("number")]
    outside, unreadable = _read_outside(checkpoint_dir)
    yield from unreadable
    yield from _checkpoint_faults(documents, outside)
    # (chain, sequence) -> [(hash, checkpoint number)] for every head a checkpoint names (a file outside
    # counts when its signature is right: the database may have lost its copy)
    signed_outside = [
        document
        for document in outside.values()
        if hmac.compare_digest(checkpoint_signature(document), str(document.get("signature", "")))
    ]
    named: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    for document in [*documents, *signed_outside]:
        for chain, sequence, hash_ in document["heads"]:
            named[(chain, sequence)].append((hash_, document["number"]))
    heads = {head.chain: head for head in AuditChainHead.objects.all()}
    ends: dict[str, int] = {}

    def end_of_chain(chain: str, last_sequence: int, last_hash: str) -> Iterator[ChainFault]:
        ends[chain] = last_sequence
        head = heads.get(chain)
        if head is None:
            yield ChainFault(chain, last_sequence, "the chain has no head")
        elif (head.sequence, head.hash) != (last_sequence, last_hash):
            yield ChainFault(chain, head.sequence, "the chain head does not match the chain's last event")

    chain, previous, expected = None, GENESIS, 1
    for event in AuditEvent.objects.order_by("chain", "sequence").iterator(chunk_size=2000):
        if event.chain != chain:
            if chain is not None:
                yield from end_of_chain(chain, expected - 1, previous)
            chain, previous, expected = event.chain, GENESIS, 1
        if event.sequence != expected:
            yield ChainFault(chain, event.sequence, f"sequence {expected} is missing (or out of order)")
        if event.previous_hash != previous:
            yield ChainFault(chain, event.sequence, "previous_hash is not the hash of the event before it")
        if not hmac.compare_digest(event_hash(event_fields(event)), event.hash):
            yield ChainFault(chain, event.sequence, "the event does not match its keyed hash (altered)")
        for hash_, number in named.get((chain, event.sequence), ()):
            if hash_ != event.hash:
                yield ChainFault(chain, event.sequence, f"checkpoint {number} names another hash here")
        previous, expected = event.hash, event.sequence + 1
    if chain is not None:
        yield from end_of_chain(chain, expected - 1, previous)
    for head in heads.values():
        if head.chain not in ends and head.sequence:
            yield ChainFault(head.chain, head.sequence, "the chain head names events the chain does not have")
    for (chain_name, sequence), namings in sorted(named.items()):
        if sequence > ends.get(chain_name, 0):
            for _, number in namings:
                yield ChainFault(
                    chain_name,
                    sequence,
                    f"checkpoint {number} names event {sequence}, the chain ends at {ends.get(chain_name, 0)} "
                    "(events removed)",
                )

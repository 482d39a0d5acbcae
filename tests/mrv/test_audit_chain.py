"""The audit chain as it is appended: each event's hash is the SHA-256 of its canonical fields and the
previous hash, also when appends wait on each other or the chain head is missing."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from mrv.models import AuditChainHead, AuditEvent
from mrv.services.audit import GENESIS, _event_hash, _fields, audit_record

pytestmark = pytest.mark.postgres


def _record(action: str, **data: Any) -> AuditEvent:
    return audit_record(actor=None, action=action, object_type="test", object_id=action, data=data)


@pytest.mark.django_db
def test_a_stored_event_hashes_its_canonical_fields_and_the_previous_hash() -> None:
    first = _record("test.first")
    # Text that canonical JSON must write exactly: non-ASCII, quotes, a backslash, a control character.
    second = _record("test.second", note='备注 "quoted" \\ ✓\n', amount=Decimal("0.10"), revision=2)
    stored = AuditEvent.objects.get(pk=second.pk)
    assert stored.previous_hash == first.hash == AuditEvent.objects.get(pk=first.pk).hash
    assert stored.sequence == first.sequence + 1
    assert stored.hash == second.hash == _event_hash(_fields(stored))
    assert stored.data == {"note": '备注 "quoted" \\ ✓\n', "amount": "0.10", "revision": 2}
    head = AuditChainHead.objects.get(pk=1)
    assert (head.sequence, head.hash) == (stored.sequence, stored.hash)
    call_command("verify_audit_chain")


@pytest.mark.django_db
def test_an_append_without_a_chain_head_creates_it_and_starts_the_chain() -> None:
    assert not AuditEvent.objects.exists()
    AuditChainHead.objects.all().delete()
    event = _record("test.genesis")
    assert (event.sequence, event.previous_hash) == (1, GENESIS)
    assert AuditChainHead.objects.get(pk=1).hash == event.hash == _event_hash(_fields(event))


def _wait_until_waiting_on_a_lock(pid: int) -> None:
    """Return once the backend ``pid`` waits for a lock (it cannot run until we commit)."""
    deadline = time.monotonic() + 60
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    pytest.fail("the second append never waited for the chain head")


@pytest.mark.django_db(transaction=True)
def test_an_append_that_waited_for_the_head_chains_to_the_event_committed_before_it() -> None:
    _record("test.before")
    started, pid, appended = threading.Event(), [0], []

    def second_writer() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid[0] = cursor.fetchone()[0]
            started.set()
            appended.append(_record("test.waited"))
        finally:
            connections.close_all()

    thread = threading.Thread(target=second_writer)
    with transaction.atomic():
        holding = _record("test.holding")  # holds the chain head until this transaction commits
        thread.start()
        assert started.wait(60)
        _wait_until_waiting_on_a_lock(pid[0])
    thread.join()

    waited = AuditEvent.objects.get(pk=appended[0].pk)
    assert waited.sequence == holding.sequence + 1
    assert waited.previous_hash == holding.hash
    assert waited.hash == _event_hash(_fields(waited))
    assert AuditChainHead.objects.get(pk=1).hash == waited.hash
    call_command("verify_audit_chain")

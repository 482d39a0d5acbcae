"""The audit chains as they are appended: one chain per facility (organisation, system), each event's
hash an HMAC under MRV_AUDIT_KEY over its canonical fields and the previous hash, also when appends wait
on each other or a chain is new."""

from __future__ import annotations

import itertools
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from mrv.models import AuditChainHead, AuditEvent, Facility, Organisation
from mrv.services.audit import GENESIS, audit_record, event_fields, event_hash
from mrv.services.facilities import facility_create
from tests.mrv import factories

pytestmark = pytest.mark.postgres

_plants = itertools.count(1)


def _record(action: str, **data: Any) -> AuditEvent:
    return audit_record(actor=None, action=action, object_type="test", object_id=action, data=data)


def _facility(operator: Organisation) -> Facility:
    regulator = factories.api_user(role="regulator").user
    name = f"Plant {next(_plants)}"
    return facility_create(by=regulator, name=name, operator=operator, sector="cement", province="CN-JS")


@pytest.mark.django_db
def test_a_stored_event_hashes_its_canonical_fields_and_the_previous_hash() -> None:
    first = _record("test.first")
    # Text that canonical JSON must write exactly: non-ASCII, quotes, a backslash, a control character.
    second = _record("test.second", note='备注 "quoted" \\ ✓\n', amount=Decimal("0.10"), revision=2)
    stored = AuditEvent.objects.get(pk=second.pk)
    assert stored.chain == first.chain == "system"
    assert stored.previous_hash == first.hash == AuditEvent.objects.get(pk=first.pk).hash
    assert stored.sequence == first.sequence + 1
    assert stored.hash == second.hash == event_hash(event_fields(stored))
    assert stored.data == {"note": '备注 "quoted" \\ ✓\n', "amount": "0.10", "revision": 2}
    head = AuditChainHead.objects.get(chain="system")
    assert (head.sequence, head.hash) == (stored.sequence, stored.hash)
    call_command("verify_audit_chain")


@pytest.mark.django_db
def test_the_hash_is_keyed(settings: Any) -> None:
    event = _record("test.keyed")
    assert event_hash(event_fields(event), key="another key") != event.hash
    settings.MRV_AUDIT_KEY = "another key"
    assert event_hash(event_fields(event)) != event.hash


@pytest.mark.django_db
def test_events_go_to_the_chain_of_their_facility_else_organisation_else_system() -> None:
    operator = factories.organisation(kind="operator")
    facility = _facility(operator)
    other = _facility(operator)
    on_facility = audit_record(actor=None, action="t.f", object_type="t", object_id=1, facility=facility)
    on_other = audit_record(actor=None, action="t.g", object_type="t", object_id=2, facility=other)
    on_operator = audit_record(actor=None, action="t.o", object_type="t", object_id=3, organisation=operator)
    assert on_facility.chain == f"facility:{facility.pk}"
    assert on_facility.organisation_id == operator.pk  # still read by the operator
    assert on_other.chain == f"facility:{other.pk}"
    assert on_operator.chain == f"organisation:{operator.pk}"
    # each chain numbers its own events from where it stands
    assert on_facility.sequence == on_other.sequence
    again = audit_record(actor=None, action="t.f2", object_type="t", object_id=1, facility=facility)
    assert (again.sequence, again.previous_hash) == (on_facility.sequence + 1, on_facility.hash)
    call_command("verify_audit_chain")


@pytest.mark.django_db
def test_the_first_event_of_a_new_chain_creates_its_head() -> None:
    fresh = factories.organisation(kind="operator")
    created = AuditEvent.objects.get(action="organisation.create", object_id=str(fresh.pk))
    assert (created.chain, created.sequence, created.previous_hash) == (
        f"organisation:{fresh.pk}",
        1,
        GENESIS,
    )
    head = AuditChainHead.objects.get(chain=created.chain)
    assert (head.sequence, head.hash) == (1, created.hash)


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
        holding = _record("test.holding")  # holds the system chain's head until this transaction commits
        thread.start()
        assert started.wait(60)
        _wait_until_waiting_on_a_lock(pid[0])
    thread.join()

    waited = AuditEvent.objects.get(pk=appended[0].pk)
    assert waited.sequence == holding.sequence + 1
    assert waited.previous_hash == holding.hash
    assert waited.hash == event_hash(event_fields(waited))
    assert AuditChainHead.objects.get(chain="system").hash == waited.hash
    call_command("verify_audit_chain")


@pytest.mark.django_db(transaction=True)
def test_appends_to_two_facilities_do_not_wait_on_each_other() -> None:
    """The old single head serialised every write of every tenant: now a transaction holding one
    facility's chain leaves another facility's chain free (the other append commits meanwhile)."""
    operator = factories.organisation(kind="operator")
    first, second = _facility(operator), _facility(operator)
    done = []

    def other_facility() -> None:
        try:
            done.append(audit_record(actor=None, action="t.b", object_type="t", object_id=2, facility=second))
        finally:
            connections.close_all()

    with transaction.atomic():
        audit_record(actor=None, action="t.a", object_type="t", object_id=1, facility=first)
        thread = threading.Thread(target=other_facility)
        thread.start()
        thread.join(60)  # returns while we still hold the first facility's head
        assert not thread.is_alive() and done
    assert AuditEvent.objects.filter(pk=done[0].pk).exists()
    call_command("verify_audit_chain")

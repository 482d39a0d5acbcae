"""An audit trail that the database owner cannot silently rewrite (issue 18), without one row that every
write locks (issue 17): keyed hashes, signed checkpoints also written outside the database, TRUNCATE
refused, an application role that owns nothing, an admin that writes nothing unaudited.

The forgeries run as the database owner would run them: SQL with the triggers turned off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from mrv.models import AuditChainHead, AuditCheckpoint, AuditEvent, Facility, Membership, Organisation
from mrv.services.audit import audit_checkpoint, event_fields, event_hash
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body

pytestmark = pytest.mark.postgres

ROOT = Path(django_settings.BASE_DIR)


def _submitted(world: World) -> dict[str, Any]:
    client = world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()
    assert (
        client.post(f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    return report


def _chain(world: World) -> str:
    return f"facility:{world.facility_a.pk}"


def _verify_faults(**options: Any) -> str:
    """The faults verify_audit_chain prints (it must fail)."""
    errors = StringIO()
    with pytest.raises(CommandError, match="audit chain broken"):
        call_command("verify_audit_chain", stderr=errors, **options)
    return errors.getvalue()


def _as_owner(*statements: tuple[str, list[Any]]) -> None:
    """Run SQL as the database owner who turns the guards off first (and on again after)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SET CONSTRAINTS ALL IMMEDIATE"
        )  # no pending foreign-key checks in this test's transaction
        for table in ("mrv_auditevent", "mrv_auditchainhead", "mrv_auditcheckpoint"):
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement, params in statements:
            cursor.execute(statement, params)
        for table in ("mrv_auditevent", "mrv_auditchainhead", "mrv_auditcheckpoint"):
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def _rewrite_and_rehash(chain: str, action: str, data: dict[str, Any], *, key: str) -> None:
    """The forgery of issue 18: rewrite one event, recompute the hash of it and of every later event of
    its chain (under ``key``: the forger knows the algorithm, not MRV_AUDIT_KEY), move the head."""
    events = list(AuditEvent.objects.filter(chain=chain).order_by("sequence"))
    start = next(index for index, event in enumerate(events) if event.action == action)
    statements = []
    previous = events[start].previous_hash
    for index, event in enumerate(events[start:]):
        if index == 0:
            event.data = data
        event.previous_hash = previous
        event.hash = event_hash(event_fields(event), key=key)
        statements.append(
            (
                "UPDATE mrv_auditevent SET data = %s::jsonb, previous_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(event.data), event.previous_hash, event.hash, event.pk],
            )
        )
        previous = event.hash
    statements.append(("UPDATE mrv_auditchainhead SET hash = %s WHERE chain = %s", [previous, chain]))
    _as_owner(*statements)


@pytest.mark.django_db
def test_a_rewritten_event_with_every_later_hash_recomputed_is_detected(world: World) -> None:
    _submitted(world)
    create = AuditEvent.objects.get(action="report.create")
    assert create.chain == _chain(world)
    call_command("verify_audit_chain")
    forged = {**create.data, "year": 1999}
    _rewrite_and_rehash(_chain(world), "report.create", forged, key="the forger's best guess")
    assert AuditEvent.objects.get(pk=create.pk).data == forged
    faults = _verify_faults()
    assert f"{_chain(world)} #{create.sequence}: the event does not match its keyed hash" in faults
    # every link is consistent: only the key gives the forgery away
    assert "previous_hash" not in faults and "head" not in faults


@pytest.mark.django_db
def test_the_same_forgery_with_the_key_would_pass_so_the_key_is_what_detects_it(world: World) -> None:
    """The control of the test above: its forgery is complete; made with MRV_AUDIT_KEY it verifies."""
    _submitted(world)
    create = AuditEvent.objects.get(action="report.create")
    _rewrite_and_rehash(_chain(world), "report.create", {**create.data, "year": 1999}, key=settings_key())
    call_command("verify_audit_chain")


def settings_key() -> str:
    return str(django_settings.MRV_AUDIT_KEY)


def _cut_tail(chain: str, keep: int) -> None:
    """Delete the chain's events after ``keep`` and move its head back onto event ``keep``."""
    last = AuditEvent.objects.get(chain=chain, sequence=keep)
    _as_owner(
        ("DELETE FROM mrv_auditevent WHERE chain = %s AND sequence > %s", [chain, keep]),
        ("UPDATE mrv_auditchainhead SET sequence = %s, hash = %s WHERE chain = %s", [keep, last.hash, chain]),
    )


@pytest.mark.django_db
def test_a_deleted_tail_with_the_head_moved_back_is_detected_by_the_last_checkpoint(world: World) -> None:
    _submitted(world)
    chain = _chain(world)
    end = AuditChainHead.objects.get(chain=chain).sequence
    call_command("audit_checkpoint")
    _cut_tail(chain, end - 2)
    faults = _verify_faults()
    assert (
        f"{chain} #{end}: checkpoint 1 names event {end}, the chain ends at {end - 2} (events removed)"
        in faults
    )


@pytest.mark.django_db
def test_without_a_checkpoint_a_cut_tail_is_a_valid_shorter_chain(world: World) -> None:
    """Why checkpoints exist: the same cut made before any checkpoint leaves nothing to detect."""
    _submitted(world)
    chain = _chain(world)
    _cut_tail(chain, AuditChainHead.objects.get(chain=chain).sequence - 2)
    call_command("verify_audit_chain")


@pytest.mark.django_db
def test_a_cut_tail_is_detected_by_the_file_outside_when_the_stored_checkpoints_are_deleted_too(
    world: World, settings: Any
) -> None:
    _submitted(world)
    chain = _chain(world)
    end = AuditChainHead.objects.get(chain=chain).sequence
    call_command("audit_checkpoint")
    written = Path(settings.MRV_AUDIT_CHECKPOINT_DIR) / "checkpoint-000000000001.json"
    assert json.loads(written.read_text())["heads"]
    _cut_tail(chain, end - 2)
    _as_owner(("DELETE FROM mrv_auditcheckpoint", []))
    faults = _verify_faults()
    assert "checkpoints #1: written outside the database but missing from it (removed)" in faults
    assert f"{chain} #{end}: checkpoint 1 names event {end}, the chain ends at {end - 2}" in faults


@pytest.mark.django_db
def test_a_gap_in_a_chain_is_detected(world: World) -> None:
    _submitted(world)
    chain = _chain(world)
    create = AuditEvent.objects.get(action="report.create")
    _as_owner(("DELETE FROM mrv_auditevent WHERE id = %s", [create.pk]))
    faults = _verify_faults()
    assert f"{chain} #{create.sequence + 1}: sequence {create.sequence} is missing" in faults


@pytest.mark.django_db
def test_two_events_swapped_in_a_chain_are_detected(world: World) -> None:
    _submitted(world)
    chain = _chain(world)
    first, second = AuditEvent.objects.filter(chain=chain).order_by("-sequence")[:2][::-1]
    swap = "UPDATE mrv_auditevent SET sequence = %s WHERE id = %s"
    _as_owner((swap, [0, first.pk]), (swap, [first.sequence, second.pk]), (swap, [second.sequence, first.pk]))
    faults = _verify_faults()
    assert f"{chain} #{first.sequence}: previous_hash is not the hash of the event before it" in faults
    assert f"{chain} #{first.sequence}: the event does not match its keyed hash" in faults


@pytest.mark.django_db
def test_an_event_moved_to_another_chain_is_detected(world: World) -> None:
    _submitted(world)
    create = AuditEvent.objects.get(action="report.create")
    other = f"facility:{world.facility_b.pk}"
    _as_owner(("UPDATE mrv_auditevent SET chain = %s, sequence = 999 WHERE id = %s", [other, create.pk]))
    faults = _verify_faults()
    assert f"{_chain(world)} #{create.sequence + 1}: sequence {create.sequence} is missing" in faults
    assert f"{other} #999: the event does not match its keyed hash" in faults


# -- checkpoints ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_checkpoint_signs_every_chain_head_is_written_outside_and_printed(
    world: World, settings: Any
) -> None:
    _submitted(world)
    printed = StringIO()
    call_command("audit_checkpoint", stdout=printed, stderr=StringIO())
    document = json.loads(printed.getvalue())
    heads = {chain: (sequence, hash_) for chain, sequence, hash_ in document["heads"]}
    assert heads == {head.chain: (head.sequence, head.hash) for head in AuditChainHead.objects.all()}
    assert {_chain(world), f"facility:{world.facility_b.pk}"} <= set(heads)
    assert document["number"] == 1 and document["previous_signature"] == "0" * 64
    written = json.loads(
        (Path(settings.MRV_AUDIT_CHECKPOINT_DIR) / "checkpoint-000000000001.json").read_text()
    )
    assert written == document
    stored = AuditCheckpoint.objects.get(number=1)
    assert stored.signature == document["signature"]
    # nothing appended since: no new checkpoint; then one more event: checkpoint 2, linked to 1
    assert audit_checkpoint()[1] is False
    world.client("operator_a").post(
        "/api/v1/reports/", report_body(world.facility_a, year=2023), format="json"
    )
    second, new = audit_checkpoint()
    assert new and second.number == 2 and second.previous_signature == stored.signature
    call_command("verify_audit_chain")


@pytest.mark.django_db
def test_the_beat_task_makes_a_checkpoint(world: World, settings: Any) -> None:
    from mrv.tasks import audit_checkpoint as task

    assert "mrv.audit_checkpoint" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    _submitted(world)
    assert task() == 1
    assert (Path(settings.MRV_AUDIT_CHECKPOINT_DIR) / "checkpoint-000000000001.json").exists()


@pytest.mark.django_db
def test_a_forged_or_altered_checkpoint_is_detected(world: World, settings: Any) -> None:
    _submitted(world)
    checkpoint, _ = audit_checkpoint()
    path = Path(settings.MRV_AUDIT_CHECKPOINT_DIR) / "checkpoint-000000000001.json"
    document = json.loads(path.read_text())
    document["heads"] = document["heads"][1:]
    path.write_text(json.dumps(document))
    assert "checkpoints #1: the file's signature does not match" in _verify_faults()
    path.unlink()
    _as_owner(("UPDATE mrv_auditcheckpoint SET heads = '[]'::jsonb WHERE id = %s", [checkpoint.pk]))
    assert "checkpoints #1: the signature does not match (forged or altered)" in _verify_faults()


@pytest.mark.django_db
def test_a_removed_checkpoint_breaks_the_checkpoint_chain(world: World) -> None:
    _submitted(world)
    first, _ = audit_checkpoint()
    world.client("operator_a").post(
        "/api/v1/reports/", report_body(world.facility_a, year=2023), format="json"
    )
    audit_checkpoint()
    _as_owner(("DELETE FROM mrv_auditcheckpoint WHERE id = %s", [first.pk]))
    faults = _verify_faults(checkpoints=Path("/nonexistent-folder"))
    assert "checkpoints #2: checkpoint 1 is missing" in faults


# -- the database refuses: checkpoints and heads, TRUNCATE ------------------------------------------------


@pytest.mark.django_db
def test_checkpoints_are_append_only_and_heads_only_move_forward(world: World) -> None:
    _submitted(world)
    checkpoint, _ = audit_checkpoint()
    head = AuditChainHead.objects.get(chain=_chain(world))
    for statement, params, message in (
        ("UPDATE mrv_auditcheckpoint SET heads = '[]'::jsonb WHERE id = %s", [checkpoint.pk], "append-only"),
        ("DELETE FROM mrv_auditcheckpoint WHERE id = %s", [checkpoint.pk], "append-only"),
        ("UPDATE mrv_auditchainhead SET sequence = sequence - 1 WHERE id = %s", [head.pk], "forward"),
        ("UPDATE mrv_auditchainhead SET hash = 'x' WHERE id = %s", [head.pk], "forward"),
        ("DELETE FROM mrv_auditchainhead WHERE id = %s", [head.pk], "never deleted"),
    ):
        with pytest.raises(DatabaseError, match=message), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)


PROTECTED = [
    "mrv_auditevent",
    "mrv_auditchainhead",
    "mrv_auditcheckpoint",
    "mrv_reportrevision",
    "mrv_activityline",
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement", [f"TRUNCATE {table} CASCADE" for table in PROTECTED] + ["TRUNCATE mrv_report CASCADE"]
)
def test_truncate_is_refused_on_the_protected_tables(world: World, statement: str) -> None:
    _submitted(world)
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        # the test database allows TRUNCATE for Django's flush between tests: not in this transaction
        cursor.execute(f"ALTER DATABASE {name} RESET mrv.allow_truncate")
        cursor.execute("SET LOCAL mrv.allow_truncate = on")  # a session's own setting does not count
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks in this transaction
    with (
        pytest.raises(DatabaseError, match="cannot be truncated"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.exists() and AuditChainHead.objects.exists()


# -- the application's role owns nothing ------------------------------------------------------------------


@pytest.fixture
def app_role(transactional_db: None) -> Iterator[str]:
    """A role made by create_app_role in this cluster, dropped after the test."""
    name = f"mrv_app_test_{uuid.uuid4().hex[:10]}"
    call_command("create_app_role", name, stdout=StringIO())
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute(f"DROP OWNED BY {name}")
            cursor.execute(f"DROP ROLE {name}")


def _connect_as(role: str) -> psycopg.Connection[Any]:
    database = connection.settings_dict
    return psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        dbname=database["NAME"],
        user=role,
        autocommit=True,
    )


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE mrv_auditevent DISABLE TRIGGER ALL",
        "ALTER TABLE mrv_auditevent DISABLE TRIGGER mrv_audit_append_only",
        "TRUNCATE mrv_auditevent",
        "TRUNCATE mrv_reportrevision CASCADE",
        "UPDATE mrv_auditevent SET actor_name = 'mallory'",
        "DELETE FROM mrv_auditevent",
        "DELETE FROM mrv_auditcheckpoint",
        "DELETE FROM mrv_auditchainhead",
        "DROP TABLE mrv_auditevent",
        "CREATE TRIGGER x BEFORE INSERT ON mrv_auditevent FOR EACH ROW EXECUTE FUNCTION mrv_append_only()",
    ],
)
def test_the_application_role_cannot_disable_triggers_truncate_or_rewrite(
    app_role: str, statement: str
) -> None:
    with _connect_as(app_role) as runtime:
        assert runtime.execute("SELECT current_user").fetchone() == (app_role,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            runtime.execute(statement)
        owned = runtime.execute(
            "SELECT count(*) FROM pg_class JOIN pg_roles ON pg_roles.oid = relowner WHERE rolname = current_user"
        ).fetchone()
        assert owned == (0,)


def test_the_application_runs_as_that_role(app_role: str) -> None:
    """Everything the service does on a report's way (API create and submit: lines, audit chains,
    idempotency, verification job, rollup) needs no more than the role's rights."""
    from tests.mrv import factories

    world = factories.world()  # set up by the owner
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {app_role}")
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (app_role,)
    report = _submitted(world)
    audit_checkpoint()
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    assert AuditEvent.objects.filter(action="revision.submit", object_id=str(report["id"])).exists()
    call_command("verify_audit_chain")


def test_create_app_role_is_idempotent_and_refuses_the_owner(app_role: str) -> None:
    call_command("create_app_role", app_role, stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="the application needs another"):
        call_command("create_app_role", owner)


# -- the admin writes nothing unaudited -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_shows_audited_models_and_changes_none_of_them(world: World, client: Any) -> None:
    staff = get_user_model().objects.create_superuser("staff", "staff@example.org", "pw-123456789")
    client.force_login(staff)
    facility = world.facility_a
    organisation = Organisation.objects.get(pk=facility.operator_id)
    events = AuditEvent.objects.count()
    # (a membership's capability, facilities and validity are changed in the admin through the audited
    # services since issue 16: tests/mrv/test_authority.py)
    for model, obj in (("facility", facility), ("organisation", organisation)):
        assert client.get(f"/admin/mrv/{model}/").status_code == 200
        page = client.get(f"/admin/mrv/{model}/{obj.pk}/change/")
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert client.post(f"/admin/mrv/{model}/{obj.pk}/change/", {}).status_code == 403
        assert client.post(f"/admin/mrv/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
        assert client.get(f"/admin/mrv/{model}/add/").status_code == 403
    # moving a facility to another verification body through the admin is refused
    other_body = Membership.objects.get(user=world.verifier_b.user).organisation_id
    moved = client.post(
        f"/admin/mrv/facility/{facility.pk}/change/",
        {
            "name": facility.name,
            "operator": facility.operator_id,
            "sector": facility.sector,
            "province": facility.province,
            "verification_body": other_body,
        },
    )
    assert moved.status_code == 403
    assert Facility.objects.get(pk=facility.pk).verification_body_id == facility.verification_body_id
    assert AuditEvent.objects.count() == events
    assert client.get("/admin/mrv/auditcheckpoint/").status_code == 200


# -- the key in production ----------------------------------------------------------------------------------


def _production(tmp_path: Path, **extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MRV_")}
    environment.update(
        {
            "MRV_ENV": "production",
            "MRV_SECRET_KEY": "a-real-secret-Zq7!kP2#vN9@wL4$xR8%tY3^mB6&cH1*" + "x" * 10,
            "MRV_VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "memory://",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **extra,
        }
    )
    return environment


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"MRV_AUDIT_KEY": "dev-only-insecure-audit-key-do-not-use-in-production"},
        {"MRV_AUDIT_KEY": "too-short"},
        {"MRV_AUDIT_KEY": "a-real-secret-Zq7!kP2#vN9@wL4$xR8%tY3^mB6&cH1*" + "x" * 10},  # the secret key
        {"MRV_AUDIT_KEY": "k" * 40, "MRV_AUDIT_CHECKPOINT_KEY": "short"},
    ],
    ids=["unset", "development-key", "short", "secret-key", "short-checkpoint-key"],
)
def test_production_refuses_a_missing_or_weak_audit_key(tmp_path: Path, keys: dict[str, str]) -> None:
    script = "import django; django.setup()"
    refused = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_production(tmp_path, **keys),
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "must be set when MRV_ENV=production" in refused.stderr


def test_production_starts_with_its_own_audit_keys(tmp_path: Path) -> None:
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.MRV_AUDIT_KEY == 'a' * 40, s.MRV_AUDIT_CHECKPOINT_KEY == 'a' * 40)"
    )
    started = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_production(tmp_path, MRV_AUDIT_KEY="a" * 40),
        capture_output=True,
        text=True,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "True True"

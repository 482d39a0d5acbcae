"""The audit trail without a global write lock, and keyed so that the database owner cannot forge it.

- One hash chain per facility, per organisation (events of no facility) and ``system`` (events of
  neither), each with its own head row (``AuditChainHead.chain``): writers of different facilities never
  lock the same row. ``AuditEvent.sequence`` counts within the event's chain.
- Each event's hash becomes an HMAC-SHA256 under ``MRV_AUDIT_KEY`` (a secret outside the database).
  Existing events are checked against the old SHA-256 chain first (a broken chain stops the migration),
  then re-chained under the key, in their old order; an ``audit.rechain`` event in the ``system`` chain
  keeps the old chain's last sequence and hash.
- ``AuditCheckpoint``: signed checkpoints of every chain's head (mrv/services/audit.py).
- PostgreSQL: checkpoints are append-only; a chain head only moves forward one event at a time and is
  never deleted; ``TRUNCATE`` of the audit tables, report revisions and activity lines is refused by
  statement-level triggers (TRUNCATE skips row triggers). The one exception: a database whose own
  setting says ``ALTER DATABASE <name> SET mrv.allow_truncate = on`` (the test suite's throw-away
  database, which Django empties with TRUNCATE between tests); a session's ``SET`` does not count.
"""

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone



def _canonical_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not canonical JSON")


def canonical_json(value: Any) -> bytes:
    """A frozen copy of mrv.domain.canonical.canonical_json as it was at this migration: a later change
    there must not make an intact history look broken to this migration."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical_default
    ).encode("utf-8")

GENESIS = "0" * 64

# -- the re-chaining (a frozen copy of the hashing rules of mrv/services/audit.py at this migration) --


def _chain(event: Any) -> str:
    if event.facility_id is not None:
        return f"facility:{event.facility_id}"
    if event.organisation_id is not None:
        return f"organisation:{event.organisation_id}"
    return "system"


def _fields(event: Any, *, with_chain: bool) -> dict[str, Any]:
    fields = {
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
    if with_chain:
        fields["chain"] = event.chain
    return fields


def _keyed(fields: dict[str, Any]) -> str:
    return hmac.new(settings.MRV_AUDIT_KEY.encode(), canonical_json(fields), hashlib.sha256).hexdigest()


_GUARDS_OFF = {
    "postgresql": ["ALTER TABLE mrv_auditevent DISABLE TRIGGER mrv_audit_append_only"],
    "sqlite": ["DROP TRIGGER IF EXISTS mrv_audit_no_update"],
}
_GUARDS_ON = {
    "postgresql": [
        # the updates' foreign-key checks now, not at the commit: the schema changes below refuse to
        # run on a table with pending trigger events
        "SET CONSTRAINTS ALL IMMEDIATE",
        "ALTER TABLE mrv_auditevent ENABLE TRIGGER mrv_audit_append_only",
    ],
    "sqlite": [],  # install() puts them back (SQLite drops a table's triggers when Django rebuilds it)
}


def rechain(apps, schema_editor):  # type: ignore[no-untyped-def]
    AuditEvent = apps.get_model("mrv", "AuditEvent")
    AuditChainHead = apps.get_model("mrv", "AuditChainHead")
    events = list(AuditEvent.objects.order_by("sequence"))
    previous = GENESIS
    for number, event in enumerate(events, start=1):
        expected = hashlib.sha256(canonical_json(_fields(event, with_chain=False))).hexdigest()
        if event.sequence != number or event.previous_hash != previous or event.hash != expected:
            raise RuntimeError(
                f"the audit chain is broken at event {event.sequence}: it is not re-chained under the key. "
                "Investigate (manage.py verify_audit_chain at the previous release), then migrate again."
            )
        previous = event.hash
    legacy = (events[-1].sequence, events[-1].hash) if events else (0, GENESIS)
    vendor = schema_editor.connection.vendor
    for statement in _GUARDS_OFF.get(vendor, []):
        schema_editor.execute(statement)
    heads: dict[str, tuple[int, str]] = {}
    for event in events:
        event.chain = _chain(event)
        sequence, event.previous_hash = heads.get(event.chain, (0, GENESIS))
        event.sequence = sequence + 1
        event.hash = _keyed(_fields(event, with_chain=True))
        event.save(update_fields=["chain", "sequence", "previous_hash", "hash"])
        heads[event.chain] = (event.sequence, event.hash)
    for statement in _GUARDS_ON.get(vendor, []):
        schema_editor.execute(statement)
    AuditChainHead.objects.all().delete()
    if events:
        sequence, previous = heads.get("system", (0, GENESIS))
        note = AuditEvent(
            chain="system",
            sequence=sequence + 1,
            at=timezone.now(),
            actor_id=None,
            actor_name="",
            organisation_id=None,
            facility_id=None,
            action="audit.rechain",
            object_type="audit_chain",
            object_id="system",
            before_digest="",
            after_digest="",
            data={"legacy_sequence": legacy[0], "legacy_hash": legacy[1]},
            previous_hash=previous,
        )
        note.hash = _keyed(_fields(note, with_chain=True))
        note.save()
        heads["system"] = (note.sequence, note.hash)
    AuditChainHead.objects.bulk_create(
        [
            AuditChainHead(chain=chain, sequence=sequence, hash=hash_)
            for chain, (sequence, hash_) in heads.items()
        ]
    )


# -- PostgreSQL guards --------------------------------------------------------------------------------

_PROTECTED_FROM_TRUNCATE = (
    "mrv_auditevent",
    "mrv_auditchainhead",
    "mrv_auditcheckpoint",
    "mrv_reportrevision",
    "mrv_activityline",
)

POSTGRES = """
CREATE FUNCTION mrv_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_db_role_setting AS setting JOIN pg_database AS db ON db.oid = setting.setdatabase
               WHERE db.datname = current_database() AND setting.setrole = 0
                 AND 'mrv.allow_truncate=on' = ANY (setting.setconfig)) THEN
        RETURN NULL;  -- a throw-away database that says so itself (the test suite's)
    END IF;
    RAISE EXCEPTION '% cannot be truncated', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION mrv_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON mrv_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION mrv_append_only();

CREATE FUNCTION mrv_audit_head_forward() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit chain heads are never deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.chain IS DISTINCT FROM OLD.chain OR NEW.sequence IS DISTINCT FROM OLD.sequence + 1 THEN
        RAISE EXCEPTION 'audit chain % moves forward one event at a time (from % to %)',
            OLD.chain, OLD.sequence, NEW.sequence USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_audit_head_forward BEFORE UPDATE OR DELETE ON mrv_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION mrv_audit_head_forward();
""" + "".join(
    f"CREATE TRIGGER mrv_refuse_truncate BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION mrv_refuse_truncate();\n"
    for table in _PROTECTED_FROM_TRUNCATE
)

POSTGRES_REVERSE = (
    "".join(f"DROP TRIGGER IF EXISTS mrv_refuse_truncate ON {table};\n" for table in _PROTECTED_FROM_TRUNCATE)
    + """
DROP TRIGGER IF EXISTS mrv_audit_checkpoint_append_only ON mrv_auditcheckpoint;
DROP TRIGGER IF EXISTS mrv_audit_head_forward ON mrv_auditchainhead;
DROP FUNCTION IF EXISTS mrv_refuse_truncate(), mrv_append_only(), mrv_audit_head_forward();
"""
)

SQLITE = [
    # 0003's guards again: altering mrv_auditevent here rebuilt the table, which dropped them
    """CREATE TRIGGER IF NOT EXISTS mrv_audit_no_update BEFORE UPDATE ON mrv_auditevent
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS mrv_audit_no_delete BEFORE DELETE ON mrv_auditevent
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER mrv_audit_checkpoint_no_update BEFORE UPDATE ON mrv_auditcheckpoint
        BEGIN SELECT RAISE(ABORT, 'mrv_auditcheckpoint is append-only'); END""",
    """CREATE TRIGGER mrv_audit_checkpoint_no_delete BEFORE DELETE ON mrv_auditcheckpoint
        BEGIN SELECT RAISE(ABORT, 'mrv_auditcheckpoint is append-only'); END""",
    """CREATE TRIGGER mrv_audit_head_forward BEFORE UPDATE ON mrv_auditchainhead
        WHEN NEW.chain IS NOT OLD.chain OR NEW.sequence IS NOT OLD.sequence + 1
        BEGIN SELECT RAISE(ABORT, 'an audit chain moves forward one event at a time'); END""",
    """CREATE TRIGGER mrv_audit_head_no_delete BEFORE DELETE ON mrv_auditchainhead
        BEGIN SELECT RAISE(ABORT, 'audit chain heads are never deleted'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "mrv_audit_checkpoint_no_update",
        "mrv_audit_checkpoint_no_delete",
        "mrv_audit_head_forward",
        "mrv_audit_head_no_delete",
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
    dependencies = [("mrv", "0012_import_job_attempts")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.CharField(
                default="system",
                help_text="the hash chain of the event: facility:<id>, organisation:<id> or system",
                max_length=40,
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(help_text="the event's place in its chain, from 1"),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(help_text="HMAC-SHA256 under MRV_AUDIT_KEY", max_length=64, unique=True),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="chain",
            field=models.CharField(default="system", max_length=40, unique=True),
            preserve_default=False,
        ),
        migrations.RunPython(rechain),  # irreversible: the old chains are not restored
        migrations.AlterModelOptions(name="auditevent", options={"ordering": ["id"]}),
        migrations.RemoveIndex(model_name="auditevent", name="mrv_auditev_organis_7f37ef_idx"),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["organisation", "id"], name="mrv_auditev_organis_9f393f_idx"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("chain", "sequence"), name="audit_event_chain_sequence_unique"
            ),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveBigIntegerField(unique=True)),
                ("at", models.DateTimeField()),
                ("heads", models.JSONField(help_text="[[chain, sequence, hash], ...] sorted by chain")),
                (
                    "previous_signature",
                    models.CharField(help_text="the signature of checkpoint number - 1", max_length=64),
                ),
                (
                    "signature",
                    models.CharField(
                        help_text="HMAC-SHA256 under the checkpoint key", max_length=64, unique=True
                    ),
                ),
            ],
            options={"ordering": ["number"]},
        ),
        migrations.RunPython(install, uninstall),
    ]

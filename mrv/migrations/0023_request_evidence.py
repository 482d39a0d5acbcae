"""Evidence for requests for information (issue 13, SPEC §10): the operator answers with files.

A file uploaded for a request (``Evidence.request`` set) is attached to the revision under verification
(submitted), but it is not one of that revision's own files: the submit digest does not cover it. The
guard of migration 0016 is replaced, on PostgreSQL and SQLite alike, by one that keeps every guarantee it
gave the revision's own evidence (none inserted, changed or removed once the revision left draft) and
allows only this on a submitted revision:

* inserting a file of a request that is ``open`` or ``answered``, on the revision of the request's job;
* removing such a file while its request is not closed and no answer names it.

A request's file is never changed (nor moved to another request); an answer's list of files
(``AnswerEvidence``) is append-only, and a file any answer names is never removed, whatever writes the
database. ``TRUNCATE`` of the link table is refused as for the evidence.
"""

import django.db.models.deletion
from django.db import migrations, models


POSTGRES = """
CREATE OR REPLACE FUNCTION mrv_evidence_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM mrv_answerevidence WHERE evidence_id = OLD.id) THEN
        RAISE EXCEPTION 'evidence file % is named by an answer to a request for information: it is never removed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.request_id IS NOT NULL OR NEW.request_id IS NOT NULL) THEN
        RAISE EXCEPTION 'evidence for a request for information is never changed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (TG_OP = 'INSERT' AND NEW.request_id IS NOT NULL) OR (TG_OP = 'DELETE' AND OLD.request_id IS NOT NULL) THEN
        IF NOT EXISTS (SELECT 1 FROM mrv_informationrequest r JOIN mrv_verificationjob j ON j.id = r.job_id
                        WHERE r.status IN ('open', 'answered')
                          AND r.id = CASE WHEN TG_OP = 'INSERT' THEN NEW.request_id ELSE OLD.request_id END
                          AND j.revision_id = CASE WHEN TG_OP = 'INSERT' THEN NEW.revision_id ELSE OLD.revision_id END) THEN
            RAISE EXCEPTION 'evidence for a request for information is added or removed only while the request is open or answered, on the revision of its job'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM mrv_reportrevision
                WHERE status <> 'draft'
                  AND id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.revision_id END,
                             CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.revision_id END)) THEN
        RAISE EXCEPTION 'evidence of a submitted report revision cannot be added, changed or removed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE FUNCTION mrv_answer_evidence_guard() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the files an answer names are never changed nor removed'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mrv_answer_evidence_guard BEFORE UPDATE OR DELETE ON mrv_answerevidence
    FOR EACH ROW EXECUTE FUNCTION mrv_answer_evidence_guard();
CREATE TRIGGER mrv_refuse_truncate BEFORE TRUNCATE ON mrv_answerevidence
    FOR EACH STATEMENT EXECUTE FUNCTION mrv_refuse_truncate();
"""
#: The guard of migration 0016, as it was.
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS mrv_refuse_truncate ON mrv_answerevidence;
DROP TRIGGER IF EXISTS mrv_answer_evidence_guard ON mrv_answerevidence;
DROP FUNCTION IF EXISTS mrv_answer_evidence_guard();
CREATE OR REPLACE FUNCTION mrv_evidence_guard() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM mrv_reportrevision
                WHERE status <> 'draft'
                  AND id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.revision_id END,
                             CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.revision_id END)) THEN
        RAISE EXCEPTION 'evidence of a submitted report revision cannot be added, changed or removed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""
_FROZEN = "(SELECT status FROM mrv_reportrevision WHERE id = {row}.revision_id) <> 'draft'"
_REQUEST_OPEN = (
    "EXISTS (SELECT 1 FROM mrv_informationrequest r JOIN mrv_verificationjob j ON j.id = r.job_id "
    "WHERE r.status IN ('open', 'answered') AND r.id = {row}.request_id AND j.revision_id = {row}.revision_id)"
)
_NAMED = "EXISTS (SELECT 1 FROM mrv_answerevidence WHERE evidence_id = OLD.id)"
_REFUSE = "BEGIN SELECT RAISE(ABORT, 'evidence of a submitted report revision cannot be added, changed or removed'); END"
_REFUSE_REQUEST = (
    "BEGIN SELECT RAISE(ABORT, 'evidence for a request for information is added or removed only while the "
    "request is open or answered, and never removed once an answer names it'); END"
)
_OLD_TRIGGERS = ("mrv_evidence_insert_frozen", "mrv_evidence_update_frozen", "mrv_evidence_delete_frozen")
SQLITE = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in _OLD_TRIGGERS),
    f"CREATE TRIGGER mrv_evidence_insert_frozen BEFORE INSERT ON mrv_evidence "
    f"WHEN NEW.request_id IS NULL AND {_FROZEN.format(row='NEW')} {_REFUSE}",
    f"CREATE TRIGGER mrv_evidence_update_frozen BEFORE UPDATE ON mrv_evidence "
    f"WHEN {_FROZEN.format(row='OLD')} OR {_FROZEN.format(row='NEW')} "
    f"OR OLD.request_id IS NOT NULL OR NEW.request_id IS NOT NULL {_REFUSE}",
    f"CREATE TRIGGER mrv_evidence_delete_frozen BEFORE DELETE ON mrv_evidence "
    f"WHEN OLD.request_id IS NULL AND {_FROZEN.format(row='OLD')} {_REFUSE}",
    f"CREATE TRIGGER mrv_request_evidence_insert BEFORE INSERT ON mrv_evidence "
    f"WHEN NEW.request_id IS NOT NULL AND NOT {_REQUEST_OPEN.format(row='NEW')} {_REFUSE_REQUEST}",
    f"CREATE TRIGGER mrv_request_evidence_delete BEFORE DELETE ON mrv_evidence "
    f"WHEN {_NAMED} OR (OLD.request_id IS NOT NULL AND NOT {_REQUEST_OPEN.format(row='OLD')}) {_REFUSE_REQUEST}",
    """CREATE TRIGGER mrv_answer_evidence_unchanged BEFORE UPDATE ON mrv_answerevidence
        BEGIN SELECT RAISE(ABORT, 'the files an answer names are never changed'); END""",
    """CREATE TRIGGER mrv_answer_evidence_kept BEFORE DELETE ON mrv_answerevidence
        BEGIN SELECT RAISE(ABORT, 'the files an answer names are never removed'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        *_OLD_TRIGGERS,
        "mrv_request_evidence_insert",
        "mrv_request_evidence_delete",
        "mrv_answer_evidence_unchanged",
        "mrv_answer_evidence_kept",
    )
] + [
    f"CREATE TRIGGER mrv_evidence_insert_frozen BEFORE INSERT ON mrv_evidence WHEN {_FROZEN.format(row='NEW')} {_REFUSE}",
    f"CREATE TRIGGER mrv_evidence_update_frozen BEFORE UPDATE ON mrv_evidence "
    f"WHEN {_FROZEN.format(row='OLD')} OR {_FROZEN.format(row='NEW')} {_REFUSE}",
    f"CREATE TRIGGER mrv_evidence_delete_frozen BEFORE DELETE ON mrv_evidence WHEN {_FROZEN.format(row='OLD')} {_REFUSE}",
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

    dependencies = [
        ('mrv', '0022_allocation'),
    ]

    operations = [
        migrations.AddField(
            model_name='evidence',
            name='request',
            field=models.ForeignKey(blank=True, help_text="set on a file uploaded for a request for information (not part of the revision's digest)", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='evidence', to='mrv.informationrequest'),
        ),
        migrations.CreateModel(
            name='AnswerEvidence',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('answer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='mrv.requestanswer')),
                ('evidence', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='mrv.evidence')),
            ],
            options={
                'ordering': ['answer_id', 'id'],
            },
        ),
        migrations.AddField(
            model_name='requestanswer',
            name='evidence',
            field=models.ManyToManyField(blank=True, help_text='files it names', related_name='answers', through='mrv.AnswerEvidence', to='mrv.evidence'),
        ),
        migrations.AddConstraint(
            model_name='answerevidence',
            constraint=models.UniqueConstraint(fields=('answer', 'evidence'), name='answer_evidence_once'),
        ),
        migrations.RunPython(install, uninstall),
    ]

"""Writes on evidence files: upload onto a draft revision, delete from it, carry over to a new revision,
and read back a file only after its bytes were checked against the hash recorded at upload.

Files go through Django's storage API, storage alias ``evidence`` (``STORAGES["evidence"]``: the
filesystem under ``var/evidence`` in embedded mode, S3-compatible object storage through django-storages
when ``MRV_EVIDENCE_S3_BUCKET`` is set). A stored file is named by the service (random, with the extension
of its detected type), never by the client.

Upload order: the file is checked (size, type by content) and stored first, outside any transaction, so
that no row lock is held while bytes travel to the object store (the filesystem storage moves the
upload's temporary file into place: no copy); then one transaction locks the report and its draft
revision (the lock order of mrv/services/reports.py), inserts the row and audits it. If that transaction
fails, the stored file is removed again (after a transient conflict it is kept for the retried request).
Deleting a row removes its file once the transaction has committed, unless another revision's evidence
names the same file (``revise`` carries evidence over).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
import unicodedata
import uuid
from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import Storage, storages
from django.db import OperationalError, transaction
from django.http import Http404

from mrv.domain import evidence as kinds
from mrv.errors import (
    EvidenceFrozen,
    EvidenceIntegrityFailed,
    EvidenceTooLarge,
    EvidenceTypeNotAllowed,
    InvalidRequest,
)
from mrv.models import Evidence, Report, ReportRevision
from mrv.services.audit import audit_record

logger = logging.getLogger(__name__)

#: Bytes read at a time when hashing or copying a file (memory does not grow with the file).
CHUNK = 1024 * 1024
DRAFT = ReportRevision.Status.DRAFT


def evidence_storage() -> Storage:
    return storages["evidence"]


def sha256_of(file: IO[bytes]) -> tuple[str, int]:
    """SHA-256 (hex) and size of a binary file read from its start in chunks (left at its start)."""
    hasher, size = hashlib.sha256(), 0
    file.seek(0)
    while chunk := file.read(CHUNK):
        hasher.update(chunk)
        size += len(chunk)
    file.seek(0)
    return hasher.hexdigest(), size


def too_large(size: int | None = None) -> EvidenceTooLarge:
    limit = settings.MRV_MAX_EVIDENCE_BYTES
    detail = f"an evidence file may have at most {limit} bytes (MRV_MAX_EVIDENCE_BYTES); split or compress it"
    return EvidenceTooLarge(detail, [{"pointer": "/file", "code": "too_large", "detail": detail}])


def display_name(name: str) -> str:
    """The client's file name as shown: its last path segment, without control characters, at most
    255 characters (the extension kept). Never used to store the file."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if unicodedata.category(character)[0] != "C").strip()
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = stem[: 254 - len(extension)] + dot + extension if dot and len(extension) < 20 else name[:255]
    return name or "evidence"


def _no_draft(report: Report, revision: ReportRevision) -> EvidenceFrozen:
    return EvidenceFrozen(
        f"revision {revision.number} of report {report.pk} is {revision.status}: its evidence is frozen "
        "(covered by its digest); open a new revision (revise) to add or remove evidence"
    )


def _locked_draft(report: Report) -> ReportRevision:
    """The report's draft revision, locked (report row first, then the revision); 409 when none."""
    Report.objects.select_for_update(no_key=True).filter(pk=report.pk).values_list("pk").first()
    revision = (
        ReportRevision.objects.select_for_update(no_key=True)
        .filter(report=report)
        .order_by("-number")
        .first()
    )
    assert revision is not None  # a report always has a revision
    if revision.status != DRAFT:
        raise _no_draft(report, revision)
    return revision


def _check_line_ref(revision: ReportRevision, line_ref: str) -> None:
    refs = list(revision.activity_lines.order_by("index").values_list("ref", flat=True))
    if line_ref not in refs:
        known = ", ".join(refs[:20]) + (", ..." if len(refs) > 20 else "")
        detail = f"the draft has no line {line_ref}; its lines are: {known or '-'}"
        raise InvalidRequest(
            "line_ref names no line of the draft",
            [{"pointer": "/line_ref", "code": "unknown_line", "detail": detail}],
        )


def evidence_upload(
    *,
    by: AbstractBaseUser,
    report: Report,
    file: IO[bytes],
    filename: str,
    kind: str,
    line_ref: str = "",
    parameter: str = "",
    description: str = "",
    sha256: str | None = None,
    size: int | None = None,
) -> Evidence:
    """Store ``file`` as evidence of the report's draft revision.

    ``sha256`` and ``size`` are those computed while the file was received (the API's upload handler);
    without them the file is hashed here, in chunks. The content type is judged from the bytes.
    """
    checked = checked_file(file, filename=filename, sha256=sha256, size=size)
    latest = report.revisions.order_by("-number").first()
    assert latest is not None
    if latest.status != DRAFT:  # refused before storing anything (the transaction checks again, locked)
        raise _no_draft(report, latest)
    if line_ref:
        _check_line_ref(latest, line_ref)

    def insert(stored: str) -> Evidence:
        revision = _locked_draft(report)
        if line_ref:
            _check_line_ref(revision, line_ref)
        evidence = Evidence.objects.create(
            revision=revision,
            kind=kind,
            line_ref=line_ref,
            parameter=parameter,
            description=description,
            storage_name=stored,
            uploaded_by=by,
            **checked,
        )
        audit_record(
            actor=by,
            action="evidence.upload",
            object_type="report",
            object_id=report.pk,
            facility=report.facility,
            after_digest=checked["sha256"],
            data={"revision": revision.number, **described(evidence)},
        )
        return evidence

    return stored_then_inserted(file, content_type=checked["content_type"], insert=insert)


def checked_file(
    file: IO[bytes], *, filename: str, sha256: str | None = None, size: int | None = None
) -> dict[str, Any]:
    """The checks of every evidence upload (size, not empty, type judged from the bytes): the row's
    ``filename`` (as shown), ``size``, ``sha256`` and ``content_type``; 413/400/415 otherwise."""
    if sha256 is None or size is None:
        sha256, size = sha256_of(file)
    if size > settings.MRV_MAX_EVIDENCE_BYTES:
        raise too_large(size)
    if size == 0:
        raise InvalidRequest(
            "the file is empty", [{"pointer": "/file", "code": "empty", "detail": "the file has no bytes"}]
        )
    filename = display_name(filename)
    content_type = kinds.detect(file, name=filename)
    if content_type is None:
        detail = f"the file's content is not an accepted type: send {kinds.ALLOWED} (judged by content, not by name)"
        raise EvidenceTypeNotAllowed(
            detail, [{"pointer": "/file", "code": "type_not_allowed", "detail": detail}]
        )
    return {"filename": filename, "size": size, "sha256": sha256, "content_type": content_type}


def stored_then_inserted(
    file: IO[bytes], *, content_type: str, insert: Callable[[str], Evidence]
) -> Evidence:
    """Store the checked ``file`` (outside any transaction), then run ``insert(stored name)`` in one
    transaction (it locks, inserts the row and audits it); the stored file is removed again when that
    fails, except after a transient conflict (the retried request finds it stored)."""
    storage = evidence_storage()
    stored = getattr(file, "mrv_stored_name", None)  # stored by an earlier run of this (retried) request
    if stored is None:
        generated = uuid.uuid4().hex
        name = f"{generated[:2]}/{generated}{kinds.EXTENSIONS[kinds.base_type(content_type)]}"
        file.seek(0)
        # an upload spooled to a temporary file is moved into a filesystem storage (no copy; its open
        # file still reads the same bytes), streamed to an object store
        stored = storage.save(name, file)
        _remember(file, stored)
    try:
        with transaction.atomic():
            return insert(stored)
    except OperationalError:
        # a transient conflict (deadlock, lock timeout): the view runs the request again
        # (mrv/api/retry.py), which finds the file stored; a file left by a request that gave up is an
        # orphan the storage keeps, never a row without its file
        raise
    except BaseException:
        _remove(storage, stored)
        _remember(file, None)
        raise


def _remember(file: IO[bytes], stored: str | None) -> None:
    """Note on an upload where its bytes were stored (a retried request finds them there)."""
    with contextlib.suppress(AttributeError):  # a plain file object (not an upload) is never retried
        file.mrv_stored_name = stored  # type: ignore[attr-defined]


def described(evidence: Evidence) -> dict[str, Any]:
    """What the audit trail records of an evidence file."""
    return {
        "evidence": evidence.pk,
        "sha256": evidence.sha256,
        "size": evidence.size,
        "kind": evidence.kind,
        "filename": evidence.filename,
        "line_ref": evidence.line_ref or None,
        "parameter": evidence.parameter or None,
    }


def _remove(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # the row is gone or was never written: an orphan file is logged, not an error
        logger.warning("evidence file %s could not be removed from storage", name, exc_info=True)


def remove_unless_named(names: set[str]) -> None:
    """After the commit: remove each stored file that no evidence row names any more."""
    if not names:
        return

    def remove() -> None:
        storage = evidence_storage()
        still_named = set(
            Evidence.objects.filter(storage_name__in=names).values_list("storage_name", flat=True)
        )
        for name in names - still_named:
            _remove(storage, name)

    transaction.on_commit(remove)


@transaction.atomic
def evidence_delete(*, by: AbstractBaseUser, evidence: Evidence) -> None:
    """Remove an evidence file from the draft revision it belongs to (409 once that revision is submitted)."""
    report = evidence.revision.report
    if evidence.revision.status != DRAFT:
        raise _no_draft(report, evidence.revision)
    revision = _locked_draft(report)
    if revision.pk != evidence.revision_id:
        raise _no_draft(report, evidence.revision)
    before = described(evidence)
    deleted, _ = Evidence.objects.filter(pk=evidence.pk).delete()
    if not deleted:  # removed by a request that was waiting for the same lock
        raise Http404("no such evidence file")
    audit_record(
        actor=by,
        action="evidence.delete",
        object_type="report",
        object_id=report.pk,
        facility=report.facility,
        before_digest=evidence.sha256,
        data={"revision": revision.number, **before},
    )
    remove_unless_named({evidence.storage_name})


def evidence_carry_over(*, source: ReportRevision, target: ReportRevision) -> int:
    """Give the new draft ``target`` the evidence of the revision it corrects (rows of its own naming the
    same stored files, hashes and all); called by ``report_revise`` in its transaction. The count."""
    rows = [
        Evidence(
            revision=target,
            kind=item.kind,
            line_ref=item.line_ref,
            parameter=item.parameter,
            description=item.description,
            filename=item.filename,
            storage_name=item.storage_name,
            size=item.size,
            sha256=item.sha256,
            content_type=item.content_type,
            uploaded_by_id=item.uploaded_by_id,
            uploaded_at=item.uploaded_at,
        )
        for item in Evidence.objects.filter(revision=source, request__isnull=True).order_by("id")
    ]
    Evidence.objects.bulk_create(rows)
    return len(rows)


def evidence_discard(*, revision: ReportRevision) -> None:
    """The draft ``revision`` is being deleted: remove its evidence rows now and, after the commit, the
    files no other revision names (called by ``report_delete`` in its transaction)."""
    names = set(Evidence.objects.filter(revision=revision).values_list("storage_name", flat=True))
    Evidence.objects.filter(revision=revision).delete()
    remove_unless_named(names)


def evidence_read_verified(*, by: AbstractBaseUser, evidence: Evidence) -> IO[bytes]:
    """The stored file's bytes, checked: read once from storage into a temporary file (spilled to disk
    past FILE_UPLOAD_MAX_MEMORY_SIZE) while hashing, and handed back only when their SHA-256 and size are
    those recorded at upload, so that exactly the checked bytes are served.

    A missing file or other bytes: an ``evidence.integrity_failed`` audit event (committed) and a 409.
    """
    hasher, size = hashlib.sha256(), 0
    copy = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    try:
        with evidence_storage().open(evidence.storage_name, "rb") as stored:
            while chunk := stored.read(CHUNK):
                hasher.update(chunk)
                copy.write(chunk)
                size += len(chunk)
        found = hasher.hexdigest()
    except FileNotFoundError:
        found = None
    if found == evidence.sha256 and size == evidence.size:
        copy.seek(0)
        return copy
    copy.close()
    report = evidence.revision.report
    audit_record(
        actor=by,
        action="evidence.integrity_failed",
        object_type="report",
        object_id=report.pk,
        facility=report.facility,
        before_digest=evidence.sha256,
        after_digest=found or "",
        data={
            "revision": evidence.revision.number,
            **described(evidence),
            "found_sha256": found,
            "found_size": size if found is not None else None,
        },
    )
    if found is None:
        detail = (
            f"evidence file {evidence.pk} ({evidence.filename}) is missing from storage; the SHA-256 recorded at "
            f"upload is {evidence.sha256}. It is not served; the event is in the audit trail: restore the file "
            "from a backup"
        )
    else:
        detail = (
            f"evidence file {evidence.pk} ({evidence.filename}) no longer matches the SHA-256 recorded at upload "
            f"({evidence.sha256}): its bytes now hash to {found}. It is not served; the event is in the audit "
            "trail: restore the file from a backup"
        )
    raise EvidenceIntegrityFailed(detail)

"""Writes on reports: create, edit and delete drafts, submit (freeze), revise, import lines.

Every function is a transaction. A revision's lines are calculated by the engine on every write of
a draft, so a draft always carries its results; submitting freezes the revision (digest of its
canonical inputs, status) and from then on the database refuses any change to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import accounting
from accounting.engine import Calculation
from accounting.numbers import plain
from mrv.domain import certification, linefiles, workflow
from mrv.domain.canonical import digest, jsonable
from mrv.errors import Conflict, InvalidRequest
from mrv.models import ActivityLine, Certification, Facility, Membership, Report, ReportRevision
from mrv.selectors import deposits
from mrv.selectors import evidence as evidence_selectors
from mrv.selectors.checks import draft_findings
from mrv.selectors.reports import calculation_of
from mrv.services import events
from mrv.services.audit import audit_record
from mrv.services.cbam import cbam_checked
from mrv.services.evidence import evidence_carry_over, evidence_discard
from mrv.services.rollup import rollup_replace
from mrv.services.rows import insert_parts, mark_saved

Status = ReportRevision.Status
ZERO = Decimal(0)
#: ``report_update(cbam=UNCHANGED)``: the draft keeps its CBAM data.
UNCHANGED: Any = object()


@dataclass(frozen=True)
class Draft:
    """A written draft revision with the calculation of its lines (so callers need not recalculate)."""

    report: Report
    revision: ReportRevision
    calculation: Calculation


def _calculate(
    *, sector: str, year: int, methodology: str | None, lines: Any, methodology_version: str | None = None
) -> Calculation:
    """The engine's calculation under ``methodology`` at ``methodology_version`` (None: the latest version).

    ``sector`` is the report's (the facility's when the report was created), never the facility's now.
    """
    return calculation_of(
        sector=sector,
        year=year,
        methodology=methodology,
        methodology_version=methodology_version,
        lines=lines,
    )


def _inputs_digest(
    *,
    report: Report,
    revision: ReportRevision,
    lines: Sequence[Any],
    evidence: Sequence[Any] = (),
    certification: dict[str, Any] | None = None,
) -> str:
    """SHA-256 of the canonical JSON of the revision's inputs; with its CBAM data, its evidence files'
    hashes (``{sha256, size, kind, line_ref, parameter}``, sorted) and the submitter's certification
    only when it has them, so that the digests of revisions without them stay what they were."""
    inputs: dict[str, Any] = {
        "facility": report.facility_id,
        "year": report.year,
        "month": report.month,
        "methodology": revision.methodology,
        "methodology_version": revision.methodology_version,
        "lines": list(lines),
    }
    if revision.cbam is not None:
        inputs["cbam"] = revision.cbam
    if evidence:
        inputs["evidence"] = list(evidence)
    if certification is not None:
        inputs["certification"] = certification
    return digest(inputs)


def _apply_totals(*, revision: ReportRevision, calculation: Calculation) -> None:
    summary = calculation.as_summary()
    revision.totals = jsonable(
        {"totals": summary["totals"], "intensity": summary["intensity"], "units": summary["units"]}
    )
    revision.line_count = len(calculation.lines)
    revision.methodology = calculation.methodology.code
    revision.methodology_version = calculation.methodology.version


_LINE_COLUMNS = (
    "revision_id",
    "index",
    "ref",
    "source",
    "month",
    "category",
    "co2e",
    "co2",
    "cf4",
    "c2f6",
    "biogenic_co2",
    "uses_defaults",
    "inputs",
)


def _line_rows(
    revision: ReportRevision, lines: Sequence[Any], calculation: Calculation
) -> Iterator[tuple[Any, ...]]:
    for index, (line, result) in enumerate(zip(lines, calculation.lines, strict=True)):
        gases = result.gases
        yield (
            revision.pk,
            index,
            result.ref,
            result.source,
            result.month,
            result.category or "",
            result.co2e,
            gases.get("CO2", ZERO),
            gases.get("CF4", ZERO),
            gases.get("C2F6", ZERO),
            result.biogenic_co2,
            result.uses_defaults,
            line,
        )


def _insert_lines(*, revision: ReportRevision, lines: Sequence[Any], calculation: Calculation) -> None:
    """Write the revision's activity lines: inputs exactly as given, exact figures.

    On PostgreSQL through ``COPY`` (an order of magnitude faster than INSERTs for thousands of rows;
    the immutability trigger still fires for every row), elsewhere through ``bulk_create``.
    """
    rows = _line_rows(revision, lines, calculation)
    if connection.vendor == "postgresql":
        statement = f"COPY mrv_activityline ({', '.join(_LINE_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row((*row[:-1], orjson.dumps(row[-1], default=plain).decode()))
        return
    ActivityLine.objects.bulk_create(
        [
            ActivityLine(**dict(zip(_LINE_COLUMNS, (*row[:-1], jsonable(row[-1])), strict=True)))
            for row in rows
        ],
        batch_size=2000,
    )


def _replace_lines(*, revision: ReportRevision, lines: Sequence[Any], calculation: Calculation) -> None:
    revision.activity_lines.all().delete()
    _insert_lines(revision=revision, lines=lines, calculation=calculation)
    _apply_totals(revision=revision, calculation=calculation)
    revision.save(update_fields=["totals", "line_count", "methodology", "methodology_version"])


def _latest(report: Report, *, lock: bool = False) -> ReportRevision:
    """The report's latest revision; with ``lock``, the report row is locked first, then the revision.

    Lock order (every write follows it, so two writers never wait on each other in a circle):
    verification job → report → revision → audit chain heads (the last locks: the facility's chain,
    then an organisation's, then ``system``; mrv/services/audit.py). Locking the report row first
    serialises the writers of one report, so two parallel ``revise`` calls cannot both read revision n
    and both insert n + 1: the second waits, then sees n + 1. The locks are FOR NO KEY UPDATE: they
    serialise writers all the same, but never hold up another transaction's foreign-key check (FOR KEY
    SHARE, taken at COMMIT on the rows an insert refers to).
    """
    revisions = ReportRevision.objects.filter(report=report)
    if lock:
        Report.objects.select_for_update(no_key=True).filter(pk=report.pk).values_list("pk").first()
        revisions = revisions.select_for_update(no_key=True)
    return revisions.order_by("-number")[0]


def _sync(report: Report, revision: ReportRevision) -> None:
    report.revision, report.status = revision.number, revision.status
    report.save(update_fields=["revision", "status"])


def report_create(
    *,
    by: AbstractBaseUser,
    facility: Facility,
    year: int,
    month: int | None,
    methodology: str | None,
    lines: Any = None,
    methodology_version: str | None = None,
    cbam: Any = None,
) -> Draft:
    """A new report with its first revision as a calculated draft (409 when the period has a report).

    With no ``lines`` the draft is empty (zero totals), to be filled by an import.

    The draft is calculated under the latest published version of the methodology unless
    ``methodology_version`` names another one; it keeps that version until its methodology is changed.
    """
    lines = [] if lines is None else lines
    calculation = _calculate(
        sector=facility.sector,
        year=year,
        methodology=methodology,
        methodology_version=methodology_version,
        lines=lines,
    )
    cbam = cbam_checked(facility=facility, year=year, month=month, data=cbam, lines=lines)
    try:
        with transaction.atomic():
            report = Report(
                facility=facility,
                sector=facility.sector,
                province=facility.province,
                year=year,
                month=month,
                created_by=by,
            )
            revision = ReportRevision(report=report, number=1, created_by=by, cbam=cbam)
            _apply_totals(revision=revision, calculation=calculation)
            _insert_report(report=report, revision=revision)
            _insert_lines(revision=revision, lines=lines, calculation=calculation)
            audit_record(
                actor=by,
                action="report.create",
                object_type="report",
                object_id=report.pk,
                facility=facility,
                data={"revision": 1, "lines": revision.line_count},
            )
    except IntegrityError:
        if not Report.objects.filter(facility=facility, year=year, month=month).exists():
            raise
        period = f"{year}-{month:02d}" if month else str(year)
        raise Conflict(
            f"{facility} already has a report for {period}; edit or revise it",
            [{"pointer": "/year", "code": "duplicate", "detail": "a report exists for this period"}],
        ) from None
    return Draft(report, revision, calculation)


def _insert_report(*, report: Report, revision: ReportRevision) -> None:
    """Insert a new report with its first revision: one statement on PostgreSQL."""
    if connection.vendor != "postgresql":
        report.save(force_insert=True)
        revision.report = report
        revision.save(force_insert=True)
        return
    report_columns, report_placeholders, report_values = insert_parts(report)
    columns, placeholders, values = insert_parts(revision, omit=("report",))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH report AS (INSERT INTO {Report._meta.db_table} ({report_columns}) "
            f"VALUES ({report_placeholders}) RETURNING id) "
            f"INSERT INTO {ReportRevision._meta.db_table} (report_id, {columns}) "
            f"VALUES ((SELECT id FROM report), {placeholders}) RETURNING report_id, id",
            [*report_values, *values],
        )
        report_id, revision_id = cursor.fetchone()
    mark_saved(report, report_id)
    mark_saved(revision, revision_id)
    revision.report = report


def _new_revision(
    *,
    report: Report,
    number: int,
    by: AbstractBaseUser,
    lines: Sequence[Any],
    calculation: Calculation,
    cbam: Any = None,
) -> ReportRevision:
    revision = ReportRevision(report=report, number=number, created_by=by, cbam=cbam)
    _apply_totals(revision=revision, calculation=calculation)
    revision.save(force_insert=True)
    _insert_lines(revision=revision, lines=lines, calculation=calculation)
    return revision


def _refused(revision: ReportRevision, error: workflow.IllegalMove) -> Conflict:
    """An illegal workflow move as a 409, refused before the database trigger would."""
    return Conflict(f"revision {revision.number} is {revision.status}: {error.detail}")


def _draft(report: Report, *, action: str = "edit") -> ReportRevision:
    revision = _latest(report, lock=True)
    try:
        workflow.require(action, revision.status)
    except workflow.IllegalMove as error:
        raise _refused(revision, error) from None
    return revision


@transaction.atomic
def report_update(
    *,
    by: AbstractBaseUser,
    report: Report,
    methodology: str | None = None,
    lines: Any = None,
    methodology_version: str | None = None,
    cbam: Any = UNCHANGED,
) -> Draft:
    """Replace the draft's lines and/or methodology and recalculate; ``cbam`` replaces its CBAM data
    (None removes it; :data:`UNCHANGED` keeps it).

    The draft keeps its methodology version unless the request names a methodology (then its latest
    version) or a ``methodology_version``.
    """
    revision = _draft(report)
    lines_given = lines is not None
    if lines is None:
        lines = list(revision.activity_lines.order_by("index").values_list("inputs", flat=True))
    if methodology is None and methodology_version is None:
        methodology_version = revision.methodology_version
    calculation = _calculate(
        sector=report.sector,
        year=report.year,
        methodology=methodology or revision.methodology,
        methodology_version=methodology_version,
        lines=lines,
    )
    if cbam is not UNCHANGED:
        revision.cbam = cbam_checked(
            facility=report.facility, year=report.year, month=report.month, data=cbam, lines=lines
        )
        revision.save(update_fields=["cbam"])
    elif lines_given:  # the CBAM data may name lines by their refs: it must still hold with the new lines
        cbam_checked(
            facility=report.facility, year=report.year, month=report.month, data=revision.cbam, lines=lines
        )
    _replace_lines(revision=revision, lines=lines, calculation=calculation)
    audit_record(
        actor=by,
        action="report.update",
        object_type="report",
        object_id=report.pk,
        facility=report.facility,
        data={"revision": revision.number, "lines": revision.line_count, "cbam": revision.cbam is not None},
    )
    return Draft(report, revision, calculation)


@transaction.atomic
def report_delete(*, by: AbstractBaseUser, report: Report) -> None:
    """Delete a draft: the whole report when it has never been submitted, else only the draft revision."""
    revision = _draft(report, action="delete")
    facility, report_id, number = report.facility, report.pk, revision.number
    evidence_discard(revision=revision)
    if number == 1:
        revision.activity_lines.all().delete()
        revision.delete()
        report.delete()
    else:
        revision.activity_lines.all().delete()
        revision.delete()
        _sync(report, _latest(report))
    audit_record(
        actor=by,
        action="report.delete" if number == 1 else "revision.discard",
        object_type="report",
        object_id=report_id,
        facility=facility,
        data={"revision": number},
    )


@transaction.atomic
def report_submit(
    *, by: AbstractBaseUser, report: Report, certified_for: Membership | None = None
) -> ReportRevision:
    """Freeze the draft revision: digest of its canonical inputs, status ``submitted``; create its
    verification job, queued when the transaction commits.

    ``certified_for``: the submitter's membership when they confirmed the certification statement
    (``mrv.domain.certification``): stored with the revision (statement, name, organisation, time),
    covered by its digest and audited. The API requires it; None submits without a sign-off record."""
    revision = _draft(report, action="submit")
    lines = list(revision.activity_lines.order_by("index").values_list("inputs", flat=True))
    if not lines:
        raise Conflict("a report without activity lines cannot be submitted")
    now = timezone.now()
    signed: dict[str, Any] | None = None
    if certified_for is not None:
        name = by.get_full_name() or by.get_username()  # type: ignore[attr-defined]
        signed = certification.digest_part(
            statement=certification.STATEMENT, name=name, organisation=certified_for.organisation_id, at=now
        )
        Certification.objects.create(
            revision=revision,
            statement=certification.STATEMENT,
            certified_by=by,
            name=name,
            organisation_id=certified_for.organisation_id,
            capability=certified_for.capability,
            at=now,
        )
    revision.digest = _inputs_digest(
        report=report,
        revision=revision,
        lines=lines,
        evidence=evidence_selectors.digest_items(revision=revision),
        certification=signed,
    )
    revision.status, revision.submitted_by, revision.submitted_at, revision.status_changed_at = (
        Status.SUBMITTED,
        by,
        now,
        now,
    )
    revision.save(update_fields=["digest", "status", "submitted_by", "submitted_at", "status_changed_at"])
    _sync(report, revision)
    audit_record(
        actor=by,
        action="revision.submit",
        object_type="report",
        object_id=report.pk,
        facility=report.facility,
        after_digest=revision.digest,
        data={
            "revision": revision.number,
            "totals": revision.totals.get("totals", {}).get("reported"),
            **({"certification": signed} if signed is not None else {}),
        },
    )
    from mrv.services.verification import job_create_for_submission

    job_create_for_submission(revision=revision)
    _publish_submission(report=report, revision=revision)
    return revision


def _publish_submission(*, report: Report, revision: ReportRevision) -> None:
    """The webhook events of a submission: ``report.submitted``, ``report.status_changed`` and, for a
    monthly report's first submission after its due date, ``deposit.late`` (one look-up of webhooks)."""
    data = events.report_data(report, revision)
    items: list[tuple[str, dict[str, Any]]] = [
        ("report.submitted", data),
        ("report.status_changed", {**data, "from": Status.DRAFT}),
    ]
    if report.month is not None and revision.number == 1 and revision.submitted_at is not None:
        rule = deposits.due_rule(revision.methodology, revision.methodology_version)
        due = deposits.due_date(report.year, report.month, rule)
        deposited = deposits.deposit_day(revision.submitted_at)
        if deposited > due:
            late = {
                "due_date": due,
                "deposited_at": revision.submitted_at,
                "days_late": (deposited - due).days,
            }
            items.append(("deposit.late", {**data, **late}))
    events.publish_all(items, organisation_ids=events.facility_parties(report.facility))


@transaction.atomic
def report_revise(*, by: AbstractBaseUser, report: Report) -> ReportRevision:
    """Open a new draft revision copying the lines of a returned or verified one.

    The new revision is calculated under the latest published version of the methodology (a corrected
    default applies to a corrected report); the revision it replaces keeps its own version and figures.
    """
    latest = _latest(report, lock=True)
    try:
        workflow.require("revise", latest.status)
    except workflow.IllegalMove as error:
        raise _refused(latest, error) from None
    lines = list(latest.activity_lines.order_by("index").values_list("inputs", flat=True))
    calculation = _calculate(
        sector=report.sector, year=report.year, methodology=latest.methodology, lines=lines
    )
    revision = _new_revision(
        report=report, number=latest.number + 1, by=by, lines=lines, calculation=calculation, cbam=latest.cbam
    )
    carried = evidence_carry_over(source=latest, target=revision)
    _sync(report, revision)
    audit_record(
        actor=by,
        action="report.revise",
        object_type="report",
        object_id=report.pk,
        facility=report.facility,
        before_digest=latest.digest,
        data={"revision": revision.number, "from_revision": latest.number, "evidence": carried},
    )
    return revision


def revision_transition(
    *,
    revision: ReportRevision,
    status: str,
    by: AbstractBaseUser | None = None,
    data: dict[str, Any] | None = None,
) -> ReportRevision:
    """Move a submitted revision along the workflow (verification uses this); audited."""
    with transaction.atomic():
        # the lock order of _latest: the report row, then the revision
        Report.objects.select_for_update(no_key=True).filter(pk=revision.report_id).values_list("pk").first()
        locked = (
            ReportRevision.objects.select_for_update(of=("self",), no_key=True)
            .select_related("report__facility")
            .get(pk=revision.pk)
        )
        before = locked.status
        try:
            workflow.move(before, status)
        except workflow.IllegalMove as error:
            raise _refused(locked, error) from None
        locked.status, locked.status_changed_at = status, timezone.now()
        locked.save(update_fields=["status", "status_changed_at"])
        if status == Status.VERIFIED:
            rollup_replace(revision=locked)
        report = locked.report
        if _latest(report).pk == locked.pk:
            _sync(report, locked)
        audit_record(
            actor=by,
            action=f"revision.{status}",
            object_type="report",
            object_id=report.pk,
            facility=report.facility,
            before_digest=locked.digest,
            after_digest=locked.digest,
            data={"revision": locked.number, "from": before, **(data or {})},
        )
        events.publish(
            "report.status_changed",
            organisation_ids=events.facility_parties(report.facility),
            data={**events.report_data(report, locked), "from": before},
        )
    return locked


# -- line files --------------------------------------------------------------------------------------
def lines_from_file(*, content: bytes, file_format: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    try:
        rows = linefiles.read_rows(content, file_format)
    except linefiles.LineFileError as error:
        raise InvalidRequest(
            str(error), [{"pointer": "/file", "code": "unreadable_file", "detail": str(error)}]
        ) from error
    if not rows:
        raise InvalidRequest(
            "the file has no activity lines",
            [{"pointer": "/file", "code": "empty_file", "detail": "no data rows"}],
        )
    return [linefiles.row_to_line(row) for row in rows], rows


def _cell_errors(
    error: accounting.InvalidInput, rows: list[dict[str, str]], offset: int
) -> list[dict[str, Any]]:
    """The engine's pointers (/lines/i/field) as rows and columns of the file (header is row 1)."""
    found = []
    for field_error in error.errors:
        index, column = linefiles.column_for(field_error.pointer, rows[0] if rows else {})
        line_index = index - offset
        found.append(
            {
                "pointer": field_error.pointer.replace(f"/lines/{index}", f"/rows/{line_index}", 1)
                if index >= 0
                else field_error.pointer,
                "row": line_index + 2 if index >= 0 else None,
                "column": column,
                "code": field_error.code,
                "detail": field_error.detail,
            }
        )
    return found


@transaction.atomic
def lines_import(
    *, by: AbstractBaseUser, report: Report, content: bytes, file_format: str, dry_run: bool, append: bool
) -> dict[str, Any]:
    """Validate a CSV/XLSX file of activity lines and, unless ``dry_run``, store them in the draft.

    All or nothing: when any cell is invalid, every bad cell is reported (row, column) and nothing
    is stored. A dry run's summary carries the draft checks' ``findings`` on the lines the draft would
    then hold (a missing production line, a unit slip...).
    """
    revision = _draft(report)
    new_lines, rows = lines_from_file(content=content, file_format=file_format)
    existing = (
        list(revision.activity_lines.order_by("index").values_list("inputs", flat=True)) if append else []
    )
    lines = existing + new_lines
    try:
        calculation = _calculate(
            sector=report.sector,
            year=report.year,
            methodology=revision.methodology,
            methodology_version=revision.methodology_version,
            lines=lines,
        )
    except accounting.InvalidInput as error:
        raise InvalidRequest(
            f"{len(error.errors)} invalid cell(s); nothing was stored",
            _cell_errors(error, rows, len(existing)),
        ) from error
    # the draft's CBAM data may name lines by their refs: it must still hold with the imported lines
    cbam_checked(
        facility=report.facility, year=report.year, month=report.month, data=revision.cbam, lines=lines
    )
    summary = {
        "dry_run": dry_run,
        "rows": len(rows),
        "lines": len(lines),
        "totals": calculation.as_summary()["totals"],
    }
    if dry_run:  # what the draft checks would say of the draft once imported
        summary["findings"] = draft_findings(report=report, lines=lines, calculation=calculation)
    else:
        _replace_lines(revision=revision, lines=lines, calculation=calculation)
        audit_record(
            actor=by,
            action="report.import",
            object_type="report",
            object_id=report.pk,
            facility=report.facility,
            data={"revision": revision.number, "rows": len(rows), "format": file_format, "append": append},
        )
    return summary

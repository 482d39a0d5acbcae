"""What a copy of record says about a submitted revision, read from what was frozen when it was submitted.

A submitted revision never changes (the PostgreSQL guard refuses any write to it or its lines), nor does
a published methodology version; so everything here is the same each time it is read:

* the report's period, sector and province (frozen on the report), the revision's methodology and
  version, totals (exact and as reported), digest, line count, submission time and submitter;
* each line as given (``ActivityLine.inputs``) with its stored figures, and its parameters with their
  origins: the engine's result for those inputs under the revision's methodology version (the same
  calculation the verification job checks against the stored figures);
* the facility's name as registered when the revision was submitted (the last ``facility.create`` or
  ``facility.update`` audit event before then; the audit trail is append-only), else its name;
* the operator's name and unified social credit code, the facility and report ids;
* the verifier's opinion and statement, once given (the completed verification job of the revision);
* evidence: each file of the revision (frozen with it) with its name as given, kind, size and SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mrv.models import AuditEvent, ReportRevision, VerificationJob
from mrv.selectors.evidence import evidence_of
from mrv.selectors.reports import revision_calculation, revision_lines


@dataclass(frozen=True)
class RecordLine:
    index: int
    ref: str
    source: str
    month: int | None
    category: str
    co2e: str  #: the stored figure, exact (tonnes CO2e)
    inputs: dict[str, Any]  #: the line as given
    parameters: dict[str, Any]  #: name → {value, unit, origin[, source, table]}
    product: str | None = None
    quantity: str | None = None


@dataclass(frozen=True)
class Opinion:
    opinion: str
    statement: str
    given_at: datetime | None
    verifier: str
    body: str
    materiality: dict[str, Any] | None


@dataclass(frozen=True)
class Record:
    report: int
    revision: int
    status: str
    facility_id: int
    facility: str
    operator: str
    credit_code: str
    sector: str
    province: str
    year: int
    month: int | None
    methodology: str
    methodology_version: str
    gwp: str
    submitted_at: datetime
    submitted_by: str
    digest: str
    totals: dict[str, Any]
    intensity: dict[str, Any] | None
    lines: list[RecordLine]
    opinion: Opinion | None
    evidence: list[dict[str, str]] = field(default_factory=list)


def _facility_name_at(revision: ReportRevision, moment: datetime) -> str:
    facility = revision.report.facility
    event = (
        AuditEvent.objects.filter(
            object_type="facility",
            object_id=str(facility.pk),
            action__in=("facility.create", "facility.update"),
            at__lte=moment,
        )
        .order_by("-at", "-id")
        .only("data")
        .first()
    )
    data = event.data if event is not None else {}
    snapshot = data.get("after", data) if isinstance(data, dict) else {}
    name = snapshot.get("name") if isinstance(snapshot, dict) else None
    return name if isinstance(name, str) and name else facility.name


def _opinion(revision: ReportRevision) -> Opinion | None:
    job = (
        VerificationJob.objects.filter(
            revision=revision, kind=VerificationJob.Kind.VERIFICATION, status=VerificationJob.Status.COMPLETED
        )
        .exclude(opinion="")
        .select_related("claimed_by", "verification_body")
        .order_by("-completed_at", "-id")
        .first()
    )
    if job is None:
        return None
    return Opinion(
        opinion=job.opinion,
        statement=job.statement,
        given_at=job.completed_at,
        verifier=job.claimed_by.get_username() if job.claimed_by else "",
        body=job.verification_body.name if job.verification_body else "",
        materiality=job.materiality,
    )


def copy_of_record(*, revision: ReportRevision) -> Record:
    """The content of the copy of record of a submitted ``revision`` (its report and facility loaded)."""
    assert revision.submitted_at is not None, "a draft has no copy of record"
    report = revision.report
    facility = report.facility
    inputs = revision_lines(revision=revision)
    calculation = revision_calculation(report=report, revision=revision, lines=inputs)
    stored = list(revision.activity_lines.order_by("index").values_list("index", "co2e"))
    lines = []
    for (index, co2e), given, result in zip(stored, inputs, calculation.lines, strict=True):
        body = result.as_json()
        lines.append(
            RecordLine(
                index=index,
                ref=result.ref,
                source=result.source,
                month=result.month,
                category=result.category or "",
                co2e=format(co2e.normalize(), "f"),  # exact, in plain notation (0, not 0E-12)
                inputs=given,
                parameters=body["parameters"],
                product=body.get("product"),
                quantity=format(body["quantity"], "f") if "quantity" in body else None,
            )
        )
    stored_totals = revision.totals or {}
    return Record(
        report=report.pk,
        revision=revision.number,
        status=revision.status,
        facility_id=facility.pk,
        facility=_facility_name_at(revision, revision.submitted_at),
        operator=facility.operator.name,
        credit_code=facility.operator.credit_code,
        sector=report.sector,
        province=report.province,
        year=report.year,
        month=report.month,
        methodology=revision.methodology,
        methodology_version=revision.methodology_version,
        gwp=calculation.methodology.gwp_set,
        submitted_at=revision.submitted_at,
        submitted_by=revision.submitted_by.get_username() if revision.submitted_by else "",
        digest=revision.digest,
        totals=stored_totals.get("totals") or {},
        intensity=stored_totals.get("intensity"),
        lines=lines,
        opinion=_opinion(revision),
        evidence=[
            {"name": item.filename, "kind": item.kind, "size": str(item.size), "sha256": item.sha256}
            for item in evidence_of(revision=revision)
        ],
    )

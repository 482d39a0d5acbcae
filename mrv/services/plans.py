"""Writes on monitoring plans: the operator drafts, edits, deletes and submits a version; the regulator
approves or returns it. Every write is a transaction and is audited in the facility's chain.

Versions are numbered per facility (1, 2, ...). Once submitted, a version's content is frozen; once
approved, the whole row is (PostgreSQL/SQLite triggers, migration 0015): a change is a new version,
which takes over from its ``valid_from`` once approved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounting import methodologies
from accounting.errors import AccountingError
from mrv.domain import linefiles, plans
from mrv.domain.canonical import digest
from mrv.domain.linefiles import SECTOR_KINDS
from mrv.errors import Conflict, InvalidRequest
from mrv.models import Facility, MonitoringPlan
from mrv.services.audit import audit_record

Status = MonitoringPlan.Status


def _validated(*, facility: Facility, methodology: str, sources: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, str]] = []
    try:
        methodologies.latest(methodology)
    except (AccountingError, KeyError, LookupError):
        errors.append(
            {
                "pointer": "/methodology",
                "code": "invalid_choice",
                "detail": f"unknown methodology {methodology!r}",
            }
        )
    clean, source_errors = plans.validate_sources(sources, line_kinds=SECTOR_KINDS[facility.sector])
    errors.extend(source_errors)
    if errors:
        raise InvalidRequest("the monitoring plan is not valid", errors)
    return clean


def _content(plan: MonitoringPlan) -> dict[str, Any]:
    return {
        "facility": plan.facility_id,
        "version": plan.version,
        "valid_from": plan.valid_from.isoformat(),
        "methodology": plan.methodology,
        "sources": plan.sources,
        "quality_assurance": plan.quality_assurance,
    }


def _locked(plan: MonitoringPlan) -> MonitoringPlan:
    return MonitoringPlan.objects.select_for_update(of=("self",)).select_related("facility").get(pk=plan.pk)


def _require(plan: MonitoringPlan, *statuses: str, doing: str) -> None:
    if plan.status not in statuses:
        raise Conflict(
            f"monitoring plan v{plan.version} is {plan.status}: it cannot be {doing}"
            + ("; an approved plan is changed by a new version" if plan.status == Status.APPROVED else "")
        )


def _audit(
    *,
    by: AbstractBaseUser,
    action: str,
    plan: MonitoringPlan,
    data: dict[str, Any] | None = None,
    **extra: Any,
) -> None:
    audit_record(
        actor=by,
        action=action,
        object_type="monitoring_plan",
        object_id=plan.pk,
        facility=plan.facility,
        data={"version": plan.version, "status": plan.status, **(data or {})},
        **extra,
    )


@transaction.atomic
def plan_create(
    *,
    by: AbstractBaseUser,
    facility: Facility,
    valid_from: date,
    methodology: str,
    sources: Any,
    quality_assurance: str = "",
) -> MonitoringPlan:
    """A new draft version of ``facility``'s plan (the next number)."""
    clean = _validated(facility=facility, methodology=methodology, sources=sources)
    # versions are numbered under the facility's row lock (no two drafts get the same number)
    Facility.objects.select_for_update(no_key=True).filter(pk=facility.pk).values_list("pk").first()
    latest = MonitoringPlan.objects.filter(facility=facility).aggregate(n=Max("version"))["n"] or 0
    plan = MonitoringPlan.objects.create(
        facility=facility,
        version=latest + 1,
        valid_from=valid_from,
        methodology=methodology,
        sources=clean,
        quality_assurance=quality_assurance,
        created_by=by,
    )
    _audit(
        by=by,
        action="plan.create",
        plan=plan,
        data={"valid_from": valid_from.isoformat(), "sources": len(clean)},
    )
    return plan


@transaction.atomic
def plan_update(*, by: AbstractBaseUser, plan: MonitoringPlan, **changes: Any) -> MonitoringPlan:
    """Change a draft's ``valid_from``, ``methodology``, ``sources`` or ``quality_assurance``."""
    plan = _locked(plan)
    _require(plan, Status.DRAFT, doing="changed")
    methodology = changes.get("methodology", plan.methodology)
    sources = changes.get("sources", plan.sources)
    plan.sources = _validated(facility=plan.facility, methodology=methodology, sources=sources)
    plan.methodology = methodology
    plan.valid_from = changes.get("valid_from", plan.valid_from)
    plan.quality_assurance = changes.get("quality_assurance", plan.quality_assurance)
    plan.save(update_fields=["sources", "methodology", "valid_from", "quality_assurance"])
    _audit(by=by, action="plan.update", plan=plan, data={"fields": sorted(changes)})
    return plan


@transaction.atomic
def plan_delete(*, by: AbstractBaseUser, plan: MonitoringPlan) -> None:
    plan = _locked(plan)
    _require(plan, Status.DRAFT, doing="deleted")
    _audit(by=by, action="plan.delete", plan=plan)
    plan.delete()


@transaction.atomic
def plan_submit(*, by: AbstractBaseUser, plan: MonitoringPlan) -> MonitoringPlan:
    """Freeze a draft (digest of its canonical content) for the regulator's decision."""
    plan = _locked(plan)
    _require(plan, Status.DRAFT, doing="submitted")
    if not plan.sources:
        raise Conflict("a monitoring plan without emission sources cannot be submitted")
    plan.digest = digest(_content(plan))
    plan.status, plan.submitted_by, plan.submitted_at = Status.SUBMITTED, by, timezone.now()
    plan.save(update_fields=["digest", "status", "submitted_by", "submitted_at"])
    _audit(by=by, action="plan.submit", plan=plan, after_digest=plan.digest)
    return plan


@transaction.atomic
def plan_decide(
    *, by: AbstractBaseUser, plan: MonitoringPlan, approve: bool, comment: str = ""
) -> MonitoringPlan:
    """The regulator approves a submitted version (from then on immutable and, from its
    ``valid_from``, in force) or returns it with a comment (the operator drafts a new version)."""
    plan = _locked(plan)
    _require(plan, Status.SUBMITTED, doing="approved" if approve else "returned")
    if not approve and not comment.strip():
        raise InvalidRequest(
            "a returned plan needs a comment",
            [{"pointer": "/comment", "code": "required", "detail": "say what the operator must change"}],
        )
    plan.status = Status.APPROVED if approve else Status.RETURNED
    plan.decided_by, plan.decided_at, plan.comment = by, timezone.now(), comment
    plan.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    _audit(
        by=by,
        action="plan.approve" if approve else "plan.return",
        plan=plan,
        data={"comment": comment},
        before_digest=plan.digest,
        after_digest=plan.digest,
    )
    return plan


@transaction.atomic
def plan_parameters_import(
    *, by: AbstractBaseUser, plan: MonitoringPlan, content: bytes, file_format: str, dry_run: bool = False
) -> dict[str, Any]:
    """Replace a draft's sources with a parameter table (CSV or XLSX, :data:`mrv.domain.plans.TABLE_COLUMNS`).

    All or nothing: every bad cell is reported at its row and column (a 400 problem) and nothing is
    stored; an approved (or submitted) version is refused with a 409 (a change is a new version).
    Audited as ``plan.update`` (draft work, shown to others once the version is submitted)."""
    plan = _locked(plan)
    _require(plan, Status.DRAFT, doing="changed")
    try:
        rows = linefiles.read_rows(content, file_format)
    except linefiles.LineFileError as error:
        raise InvalidRequest(
            str(error), [{"pointer": "/file", "code": "unreadable_file", "detail": str(error)}]
        ) from error
    if not rows:
        raise InvalidRequest(
            "the file has no parameter rows",
            [{"pointer": "/file", "code": "empty_file", "detail": "no data rows"}],
        )
    table = plans.sources_from_table(rows)
    clean, errors = plans.validate_sources(table.sources, line_kinds=SECTOR_KINDS[plan.facility.sector])
    cell_errors = table.errors + [plans.table_error(error, table) for error in errors]
    if cell_errors:
        cell_errors.sort(key=lambda e: (e["row"] or 0, e["column"] or ""))
        raise InvalidRequest(f"{len(cell_errors)} invalid cell(s); nothing was stored", cell_errors)
    summary = {
        "dry_run": dry_run,
        "rows": len(rows),
        "sources": len(clean),
        "parameters": sum(len(source["parameters"]) for source in clean),
    }
    if not dry_run:
        plan.sources = clean
        plan.save(update_fields=["sources"])
        _audit(
            by=by,
            action="plan.update",
            plan=plan,
            data={"fields": ["sources"], "import": file_format, "rows": len(rows)},
        )
    return summary

"""Writes for allocation and compliance (SPEC §11): allocation plans, their pre-allocation and
finalisation runs (Celery), surrenders and the recorded compliance status. Every write is audited.

A plan is a draft until published; published, it is immutable (409 here, a trigger in the database:
migration 0022) and is the one plan of its year. A run goes over the facilities in its requester's scope
(:func:`mrv.selectors.scoping.allocation_facilities_in_scope`) in batches of :data:`BATCH` facilities,
each batch a task of its own (in parallel on as many workers as there are). Runs are idempotent: a
row changes only when its figures do, and an unchanged row writes nothing and audits nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from mrv.domain import allocation as rules
from mrv.domain.canonical import digest
from mrv.errors import Conflict, InvalidRequest
from mrv.models import Allocation, AllocationPlan, AllocationRun, ComplianceStatus, Facility, Surrender
from mrv.selectors import allocation as selectors
from mrv.selectors.scoping import allocation_facilities_in_scope, membership
from mrv.services import background
from mrv.services.audit import audit_record, audit_record_many

Status = AllocationPlan.Status
RunStatus = AllocationRun.Status
#: Facilities per batch task of a run.
BATCH = 250


# -- plans ------------------------------------------------------------------------------------------------
def _organisation(by: AbstractBaseUser) -> Any:
    found = membership(by)
    return found.organisation if found else None


def _content(plan: AllocationPlan) -> dict[str, Any]:
    return {
        "code": plan.code,
        "year": plan.year,
        "rules": plan.rules,
        "preallocation_share": str(plan.preallocation_share),
        "offset_limit_share": str(plan.offset_limit_share),
        "surrender_due": plan.surrender_due.isoformat(),
        "illustrative": plan.illustrative,
    }


def _audit_plan(*, by: AbstractBaseUser, action: str, plan: AllocationPlan, **data: Any) -> None:
    audit_record(
        actor=by,
        action=action,
        object_type="allocation_plan",
        object_id=plan.pk,
        organisation=_organisation(by),
        data={"code": plan.code, "year": plan.year, "status": plan.status, **data},
    )


def _clean_rules(rules_: Any) -> dict[str, Any]:
    clean, errors = rules.validate_rules(rules_)
    if errors:
        raise InvalidRequest("the allocation plan is not valid", errors)
    return clean


def _check_due(year: int, surrender_due: date) -> None:
    if surrender_due.year <= year:
        raise InvalidRequest(
            "the allocation plan is not valid",
            [
                {
                    "pointer": "/surrender_due",
                    "code": "out_of_range",
                    "detail": "surrender_due must fall after the compliance year it closes",
                }
            ],
        )


@transaction.atomic
def plan_create(
    *,
    by: AbstractBaseUser,
    code: str,
    year: int,
    rules: Any,
    preallocation_share: Decimal,
    offset_limit_share: Decimal,
    surrender_due: date,
    illustrative: bool = False,
) -> AllocationPlan:
    clean = _clean_rules(rules)
    _check_due(year, surrender_due)
    if AllocationPlan.objects.filter(code=code).exists():
        raise InvalidRequest(
            "the allocation plan is not valid",
            [{"pointer": "/code", "code": "unique", "detail": "another allocation plan has this code"}],
        )
    plan = AllocationPlan.objects.create(
        code=code,
        year=year,
        rules=clean,
        preallocation_share=preallocation_share,
        offset_limit_share=offset_limit_share,
        surrender_due=surrender_due,
        illustrative=illustrative,
        created_by=by,
    )
    _audit_plan(by=by, action="allocation_plan.create", plan=plan, content=_content(plan))
    return plan


def _locked(plan: AllocationPlan) -> AllocationPlan:
    return AllocationPlan.objects.select_for_update().get(pk=plan.pk)


def _require_draft(plan: AllocationPlan) -> None:
    if plan.status != Status.DRAFT:
        raise Conflict(f"allocation plan {plan.code} is published and immutable: a change is a new plan")


@transaction.atomic
def plan_update(*, by: AbstractBaseUser, plan: AllocationPlan, **changes: Any) -> AllocationPlan:
    plan = _locked(plan)
    _require_draft(plan)
    if "rules" in changes:
        changes["rules"] = _clean_rules(changes["rules"])
    if "code" in changes and AllocationPlan.objects.filter(code=changes["code"]).exclude(pk=plan.pk).exists():
        raise InvalidRequest(
            "the allocation plan is not valid",
            [{"pointer": "/code", "code": "unique", "detail": "another allocation plan has this code"}],
        )
    for name, value in changes.items():
        setattr(plan, name, value)
    _check_due(plan.year, plan.surrender_due)
    plan.save()
    _audit_plan(by=by, action="allocation_plan.update", plan=plan, changed=sorted(changes))
    return plan


@transaction.atomic
def plan_delete(*, by: AbstractBaseUser, plan: AllocationPlan) -> None:
    plan = _locked(plan)
    _require_draft(plan)
    _audit_plan(by=by, action="allocation_plan.delete", plan=plan)
    plan.delete()


@transaction.atomic
def plan_publish(*, by: AbstractBaseUser, plan: AllocationPlan) -> AllocationPlan:
    plan = _locked(plan)
    _require_draft(plan)
    if AllocationPlan.objects.filter(year=plan.year, status=Status.PUBLISHED).exists():
        raise Conflict(f"an allocation plan for {plan.year} is already published: one plan per year")
    plan.status = Status.PUBLISHED
    plan.digest = digest(_content(plan))
    plan.published_by = by
    plan.published_at = timezone.now()
    plan.save()
    _audit_plan(by=by, action="allocation_plan.publish", plan=plan, digest=plan.digest)
    return plan


# -- runs -------------------------------------------------------------------------------------------------
def _scope(run: AllocationRun) -> Any:
    sectors = [rules.PRODUCT_SECTORS[product] for product in run.plan.rules]
    return allocation_facilities_in_scope(run.requested_by).filter(sector__in=sectors)


@transaction.atomic
def run_create(
    *, by: AbstractBaseUser, plan: AllocationPlan, kind: str, enqueue: bool = True
) -> AllocationRun:
    """A pre-allocation or finalisation of ``plan`` over the facilities in ``by``'s scope, enqueued
    (``enqueue=False``: the caller runs it, :func:`run_inline`)."""
    if plan.status != Status.PUBLISHED:
        raise Conflict(f"allocation plan {plan.code} is a draft: publish it before allocating under it")
    run = AllocationRun.objects.create(plan=plan, kind=kind, requested_by=by)
    audit_record(
        actor=by,
        action=f"allocation.{kind}.request",
        object_type="allocation_run",
        object_id=run.pk,
        organisation=_organisation(by),
        data={"plan": plan.code, "year": plan.year},
    )
    if enqueue:
        background.enqueue_on_commit(background.RUN_ALLOCATION, run.pk)
    return run


def run_inline(*, run_id: int) -> AllocationRun:
    """Do run ``run_id`` here, batch after batch (demo data, tests, the embedded mode without workers)."""
    run_start(run_id=run_id, publish=False)
    for index in range(len(AllocationRun.objects.get(pk=run_id).ranges)):
        batch_run(run_id=run_id, index=index)
    return AllocationRun.objects.get(pk=run_id)


def run_start(*, run_id: int, publish: bool = True) -> str:
    """Split the run's facilities into batches and publish one task per batch (idempotent: a run
    delivered again publishes again only the batches not done)."""
    with transaction.atomic():
        run = AllocationRun.objects.select_for_update().select_related("plan", "requested_by").get(pk=run_id)
        if run.status in (RunStatus.COMPLETED, RunStatus.FAILED):
            return run.status
        if run.status == RunStatus.QUEUED:
            ids = list(_scope(run).order_by("id").values_list("id", flat=True))
            run.facilities = len(ids)
            run.ranges = [
                [chunk[0], chunk[-1]] for chunk in (ids[i : i + BATCH] for i in range(0, len(ids), BATCH))
            ]
            run.status = RunStatus.RUNNING
            if not ids:
                run.status, run.completed_at = RunStatus.COMPLETED, timezone.now()
            run.save()
        pending = [index for index in range(len(run.ranges)) if index not in run.done]
    for index in pending if publish else ():
        background.publish(background.ALLOCATE_BATCH, run.pk, index)
    return f"{len(pending)} batch(es)"


def _wanted(
    run: AllocationRun, facility: Facility, totals: dict[str, Any], revision: int
) -> dict[str, tuple[str, str, Decimal, dict[str, Any]]]:
    """Unit → (product, method, whole allowances, basis) computed for ``facility`` from ``totals``."""
    plan = run.plan
    product = rules.SECTOR_PRODUCTS[facility.sector]
    rule = plan.rules[product]
    year = plan.year - 1 if run.kind == AllocationRun.Kind.PREALLOCATE else plan.year
    found = {}
    for basis in rules.bases(totals, product):
        exact = rules.entitlement(rule, basis)
        if run.kind == AllocationRun.Kind.PREALLOCATE:
            exact *= plan.preallocation_share
        found[basis.unit] = (
            product,
            rule["method"],
            rules.whole(exact),
            rules.basis_json(rule, basis, year=year, revision=revision, exact=exact),
        )
    return found


def _figures(row: Allocation) -> dict[str, Any]:
    adjustment = None if row.final is None else row.final - (row.preallocated or 0)
    return {"preallocated": row.preallocated, "final": row.final, "adjustment": adjustment}


def _allocate(run: AllocationRun, facilities: list[Facility]) -> int:
    """Write the facilities' allocations under the run; how many rows were created or changed."""
    plan, finalising = run.plan, run.kind == AllocationRun.Kind.FINALISE
    year = plan.year if finalising else plan.year - 1
    ids = [facility.pk for facility in facilities]
    verified = selectors.verified_revisions(ids, year)
    existing: dict[int, dict[str, Allocation]] = {}
    for row in Allocation.objects.filter(plan=plan, facility_id__in=ids):
        existing.setdefault(row.facility_id, {})[row.unit] = row
    changed = 0
    field, basis_field = ("final", "final_basis") if finalising else ("preallocated", "preallocation_basis")
    created: list[Allocation] = []
    updated: list[Allocation] = []
    events: list[tuple[Facility, dict[str, dict[str, Any]]]] = []
    for facility in facilities:
        if facility.pk not in verified:
            continue  # no verified report of the year: nothing to allocate from (yet)
        revision, totals = verified[facility.pk]
        wanted = _wanted(run, facility, totals, revision)
        rows = existing.get(facility.pk, {})
        if finalising:  # a unit pre-allocated but absent from the verified report gets a final 0
            for unit in rows.keys() - wanted.keys():
                wanted[unit] = (
                    rows[unit].product,
                    rows[unit].method,
                    Decimal(0),
                    {"year": year, "revision": revision, "absent": True},
                )
        touched: dict[str, dict[str, Any]] = {}
        for unit, (product, method, value, basis) in wanted.items():
            row = rows.get(unit)
            if row is None:
                row = Allocation(plan=plan, facility=facility, unit=unit, product=product, method=method)
                created.append(row)
            elif getattr(row, field) == value and getattr(row, basis_field) == basis:
                continue
            else:
                updated.append(row)
            setattr(row, field, value)
            setattr(row, basis_field, basis)
            touched[unit] = _figures(row)
        if touched:
            changed += len(touched)
            events.append((facility, touched))
    # the batch's rows in two statements, then an audit event per facility whose allocation changed
    Allocation.objects.bulk_create(created)
    now = timezone.now()
    for row in updated:
        row.updated_at = now
    Allocation.objects.bulk_update(updated, [field, basis_field, "updated_at"])
    audit_record_many(
        [
            {
                "actor": run.requested_by,
                "action": "allocation.finalise" if finalising else "allocation.preallocate",
                "object_type": "allocation_plan",
                "object_id": plan.pk,
                "facility": facility,
                "data": {"plan": plan.code, "year": plan.year, "run": run.pk, "units": touched},
            }
            for facility, touched in events
        ]
    )
    if finalising:
        compliance_refresh(by=run.requested_by, facilities=facilities, year=plan.year)
    return changed


def batch_run(*, run_id: int, index: int) -> str:
    """Allocate batch ``index`` of run ``run_id``: one transaction, counted once however often delivered."""
    run = AllocationRun.objects.select_related("plan", "requested_by").get(pk=run_id)
    if index in run.done or run.status != RunStatus.RUNNING:
        return "done"
    low, high = run.ranges[index]
    with transaction.atomic():
        facilities = list(_scope(run).filter(id__gte=low, id__lte=high).order_by("id"))
        changed = _allocate(run, facilities)
        locked = AllocationRun.objects.select_for_update().get(pk=run_id)
        if index in locked.done:
            transaction.set_rollback(True)  # another delivery of this batch got there first
            return "done"
        locked.done = [*locked.done, index]
        locked.changed += changed
        if len(locked.done) == len(locked.ranges):
            locked.status, locked.completed_at = RunStatus.COMPLETED, timezone.now()
            audit_record(
                actor=run.requested_by,
                action=f"allocation.{run.kind}.complete",
                object_type="allocation_run",
                object_id=run.pk,
                organisation=_organisation(run.requested_by),
                data={"plan": run.plan.code, "facilities": locked.facilities, "changed": locked.changed},
            )
        locked.save(update_fields=["done", "changed", "status", "completed_at"])
    return f"{changed} changed"


def run_fail(*, run_id: int, reason: str) -> bool:
    """End run ``run_id`` failed (from outside its tasks); whether this call ended it."""
    return bool(
        AllocationRun.objects.filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(
            status=RunStatus.FAILED, failure_reason=reason[:2000], completed_at=timezone.now()
        )
    )


# -- compliance -------------------------------------------------------------------------------------------
def compliance_refresh(*, by: AbstractBaseUser | None, facilities: list[Facility], year: int) -> int:
    """Record each facility's compliance status for ``year`` and audit every change; how many changed."""
    rows = selectors.compliance_rows(facilities=facilities, year=year, today=timezone.localdate())
    known = dict(
        ComplianceStatus.objects.filter(facility__in=facilities, year=year).values_list(
            "facility_id", "status"
        )
    )
    by_id = {facility.pk: facility for facility in facilities}
    new: list[ComplianceStatus] = []
    moved: list[ComplianceStatus] = []
    events = []
    for row in rows:
        before = known.get(row["facility"])
        if before == row["status"]:
            continue
        target = new if before is None else moved
        target.append(ComplianceStatus(facility_id=row["facility"], year=year, status=row["status"]))
        events.append((row, before))
    ComplianceStatus.objects.bulk_create(new)
    for record in moved:
        ComplianceStatus.objects.filter(facility_id=record.facility_id, year=year).update(
            status=record.status, changed_at=timezone.now()
        )
    audit_record_many(
        [
            {
                "actor": by,
                "action": "compliance.status",
                "object_type": "compliance",
                "object_id": f"{row['facility']}:{year}",
                "facility": by_id[row["facility"]],
                "data": {"year": year, "from": before, "to": row["status"], "balance": row["balance"]},
            }
            for row, before in events
        ]
    )
    return len(events)


@transaction.atomic
def surrender_record(
    *, by: AbstractBaseUser, facility: Facility, year: int, allowances: Decimal, offsets: Decimal
) -> Surrender:
    """Record allowances and offsets surrendered for ``facility``'s ``year`` (offsets limited to the
    plan's ``offset_limit_share`` of the obligation, in total for the year)."""
    plan = selectors.published_plan(year)
    if plan is None:
        raise Conflict(f"no allocation plan is published for {year}: there is nothing to surrender for yet")
    # surrenders of one facility are recorded one at a time (the offset limit holds over all of them)
    Facility.objects.select_for_update(no_key=True).filter(pk=facility.pk).values_list("pk").first()
    verified = selectors.verified_revisions([facility.pk], year)
    if facility.pk not in verified:
        raise Conflict(
            f"the facility has no verified report for {year} yet: its obligation is its verified direct emissions"
        )
    if allowances + offsets <= 0:
        raise InvalidRequest(
            "nothing to surrender",
            [
                {
                    "pointer": "/allowances",
                    "code": "out_of_range",
                    "detail": "surrender at least one allowance or offset",
                }
            ],
        )
    obligation = rules.obligation(selectors.verified_direct(verified[facility.pk][1]))
    assert obligation is not None
    before = sum(
        Surrender.objects.filter(facility=facility, year=year).values_list("offsets", flat=True), Decimal(0)
    )
    limit = rules.offsets_allowed(obligation, plan.offset_limit_share)
    if before + offsets > limit:
        raise InvalidRequest(
            "the offsets exceed the limit",
            [
                {
                    "pointer": "/offsets",
                    "code": "offset_limit",
                    "detail": f"offsets may cover at most {limit.normalize():f} allowances of this year's "
                    f"obligation of {obligation} in total; {before} are already surrendered",
                }
            ],
        )
    late = timezone.localdate() > plan.surrender_due
    surrender = Surrender.objects.create(
        facility=facility,
        year=year,
        plan=plan,
        allowances=allowances,
        offsets=offsets,
        late=late,
        recorded_by=by,
    )
    audit_record(
        actor=by,
        action="compliance.surrender",
        object_type="surrender",
        object_id=surrender.pk,
        facility=facility,
        data={"year": year, "allowances": allowances, "offsets": offsets, "late": late, "plan": plan.code},
    )
    compliance_refresh(by=by, facilities=[facility], year=year)
    return surrender

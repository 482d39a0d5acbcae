"""Reads for allocation and compliance (SPEC §11): the verified figures allocation starts from, and each
facility's compliance balance. Who sees what is decided in :mod:`mrv.selectors.scoping`.

"Verified" is the revision of a facility's annual report whose verification job completed with a
positive opinion (``verified`` or ``verified_with_comments``); of several, the latest revision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from mrv.domain import allocation as rules
from mrv.models import Allocation, AllocationPlan, Facility, Surrender, VerificationJob

POSITIVE = (VerificationJob.Opinion.VERIFIED, VerificationJob.Opinion.VERIFIED_WITH_COMMENTS)


def verified_revisions(facility_ids: Iterable[int], year: int) -> dict[int, tuple[int, dict[str, Any]]]:
    """Facility id → (revision id, stored figures) of its verified annual report of ``year``."""
    rows = (
        VerificationJob.objects.filter(
            kind=VerificationJob.Kind.VERIFICATION,
            status=VerificationJob.Status.COMPLETED,
            opinion__in=POSITIVE,
            revision__report__year=year,
            revision__report__month__isnull=True,
            revision__report__facility_id__in=list(facility_ids),
        )
        .order_by("revision__number")
        .values_list("revision__report__facility_id", "revision_id", "revision__totals")
    )
    return {facility: (revision, totals or {}) for facility, revision, totals in rows}


def verified_direct(totals: dict[str, Any]) -> Decimal:
    return Decimal(str((totals.get("totals") or {}).get("direct", "0")))


def published_plan(year: int) -> AllocationPlan | None:
    return AllocationPlan.objects.filter(year=year, status=AllocationPlan.Status.PUBLISHED).first()


def allocated_by_facility(plan: AllocationPlan | None, facility_ids: Sequence[int]) -> dict[int, Decimal]:
    """Whole allowances allocated to each facility under ``plan``: the final allocation once finalised,
    else the pre-allocation."""
    if plan is None:
        return {}
    rows = (
        Allocation.objects.filter(plan=plan, facility_id__in=facility_ids)
        .values("facility_id")
        .annotate(final_sum=Sum("final"), pre_sum=Sum("preallocated"), finals=Count("final"))
    )
    return {
        row["facility_id"]: (row["final_sum"] if row["finals"] else row["pre_sum"]) or Decimal(0)
        for row in rows
    }


def obligations_met_at(facility_ids: Sequence[int], year: int) -> dict[int, datetime]:
    """When each facility's surrenders for ``year`` first covered its obligation (its verified direct
    emissions in whole allowances; :func:`mrv.domain.allocation.first_covering`): the time the covering
    surrender was recorded. Facilities with no verified report, or not covered yet, are absent."""
    verified = verified_revisions(facility_ids, year)
    recorded: dict[int, list[tuple[datetime, Decimal]]] = defaultdict(list)
    for facility_id, allowances, offsets, at in (
        Surrender.objects.filter(facility_id__in=list(verified), year=year)
        .order_by("recorded_at", "id")
        .values_list("facility_id", "allowances", "offsets", "recorded_at")
    ):
        recorded[facility_id].append((at, allowances + offsets))
    met = {
        pk: rules.first_covering(rules.obligation(verified_direct(totals)), recorded[pk])
        for pk, (_, totals) in verified.items()
    }
    return {pk: at for pk, at in met.items() if at is not None}


def compliance_rows(*, facilities: Sequence[Facility], year: int, today: date) -> list[dict[str, Any]]:
    """Each facility's compliance for ``year`` (see :mod:`mrv.domain.allocation` for the status rule)."""
    ids = [facility.pk for facility in facilities]
    plan = published_plan(year)
    allocated = allocated_by_facility(plan, ids)
    verified = verified_revisions(ids, year)
    surrendered: dict[int, list[rules.Surrendered]] = defaultdict(list)
    for facility_id, allowances, offsets, at in Surrender.objects.filter(
        facility_id__in=ids, year=year
    ).values_list("facility_id", "allowances", "offsets", "recorded_at"):
        surrendered[facility_id].append(rules.Surrendered(allowances, offsets, timezone.localtime(at).date()))
    rows = []
    for facility in facilities:
        direct = verified_direct(verified[facility.pk][1]) if facility.pk in verified else None
        obligation = rules.obligation(direct)
        if plan is None:
            status, allowances, offsets = rules.OPEN, Decimal(0), Decimal(0)
        else:
            status, allowances, offsets = rules.status(
                obligation_=obligation,
                surrenders=surrendered[facility.pk],
                due=plan.surrender_due,
                today=today,
            )
        rows.append(
            {
                "facility": facility.pk,
                "name": facility.name,
                "sector": facility.sector,
                "province": facility.province,
                "year": year,
                "plan": plan.code if plan else None,
                "surrender_due": plan.surrender_due if plan else None,
                "allocated": allocated.get(facility.pk, Decimal(0)),
                "verified_direct": direct,
                "obligation": obligation,
                "surrendered_allowances": allowances,
                "surrendered_offsets": offsets,
                "balance": None if obligation is None else allowances + offsets - obligation,
                "status": status,
            }
        )
    return rows


def allocation_aggregates(*, facilities: Any, year: int, today: date) -> dict[str, Any]:
    """Allocated against verified direct emissions by sector and province, and the facilities in deficit,
    over ``facilities`` (the regulator's scope)."""
    rows = compliance_rows(facilities=list(facilities.order_by("id")), year=year, today=today)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            (row["sector"], row["province"]),
            {
                "sector": row["sector"],
                "province": row["province"],
                "facilities": 0,
                "allocated": Decimal(0),
                "verified_direct": Decimal(0),
                "obligation": Decimal(0),
                "surrendered": Decimal(0),
                "deficit": 0,
            },
        )
        group["facilities"] += 1
        group["allocated"] += row["allocated"]
        group["verified_direct"] += row["verified_direct"] or Decimal(0)
        group["obligation"] += row["obligation"] or Decimal(0)
        group["surrendered"] += row["surrendered_allowances"] + row["surrendered_offsets"]
        group["deficit"] += row["status"] == rules.DEFICIT
    for group in groups.values():
        group["difference"] = group["allocated"] - group["verified_direct"]
    return {
        "year": year,
        "results": [groups[key] for key in sorted(groups)],
        "deficit": [row for row in rows if row["status"] == rules.DEFICIT],
    }


def allocation_panel(*, facilities: Any, year: int) -> dict[str, Any] | None:
    """The dashboard's allocation panel for ``year`` (None when no plan is published for it): the
    aggregates of :func:`allocation_aggregates` with whole-allowance figures for display."""
    from mrv.selectors.dashboard import province_label

    plan = published_plan(year)
    if plan is None:
        return None
    answer = allocation_aggregates(facilities=facilities, year=year, today=timezone.localdate())

    def shown(value: Decimal | None) -> str:
        return "" if value is None else f"{rules.whole(value):,}"

    return {
        "plan": plan.code,
        "illustrative": plan.illustrative,
        "surrender_due": plan.surrender_due,
        "groups": [
            {
                **group,
                "province_label": province_label(group["province"]),
                **{
                    f"{name}_shown": shown(group[name])
                    for name in ("allocated", "verified_direct", "difference")
                },
            }
            for group in answer["results"]
        ],
        "deficit": [
            {**row, "province_label": province_label(row["province"]), "balance_shown": shown(row["balance"])}
            for row in answer["deficit"]
        ],
    }

"""The rollup of verified totals: maintained incrementally, rebuildable from scratch.

When a revision is verified, its report's rollup rows are replaced (in that transaction) by the
revision's figures, summed from its activity lines once. A report therefore counts with its latest
verified revision only; a returned revision never reaches the rollup; a revised and re-verified report
replaces its earlier figures.

Each row carries the sector and province the report was filed under (``Report.sector``,
``Report.province``), so moving or reclassifying a facility later changes neither the rows nor a
rebuild of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Sum

import accounting
from accounting.registry import CATEGORIES
from mrv.models import ActivityLine, EmissionRollup, EmissionRollupMonthly, ReportRevision

FIGURES = (*CATEGORIES, "co2", "cf4", "c2f6", "co2e_cf4", "co2e_c2f6", "lines")
ZERO = Decimal(0)
STORED = Decimal("1e-12")
SQLITE_TOLERANCE = Decimal("0.000001")


_SUMS = {"co2e": Sum("co2e"), "co2": Sum("co2"), "cf4": Sum("cf4"), "c2f6": Sum("c2f6"), "n": Count("id")}


def _fold(revision: ReportRevision, grouped: Iterable[dict[str, Any]]) -> dict[int | None, dict[str, Any]]:
    """Figures of a revision per month bucket (the line's month, else the report's month) from its lines
    grouped by month and category."""
    report = revision.report
    gwp = accounting.get(revision.methodology).gwp
    buckets: dict[int | None, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(FIGURES, ZERO))
    for row in grouped:
        bucket = buckets[row["month"] if row["month"] is not None else report.month]
        bucket[row["category"]] += row["co2e"]
        bucket["co2"] += row["co2"]
        bucket["cf4"] += row["cf4"]
        bucket["c2f6"] += row["c2f6"]
        bucket["co2e_cf4"] += row["cf4"] * gwp["CF4"]
        bucket["co2e_c2f6"] += row["c2f6"] * gwp["C2F6"]
        bucket["lines"] += row["n"]
    return dict(buckets)


def _grouped_lines(revision_ids: Iterable[int]) -> Any:
    return (
        ActivityLine.objects.filter(revision_id__in=revision_ids)
        .exclude(category="")
        .values("revision_id", "month", "category")
        .annotate(**_SUMS)
        .order_by("revision_id")
    )


def _rows(
    revision: ReportRevision, grouped: Iterable[dict[str, Any]] | None = None
) -> tuple[EmissionRollup, list[EmissionRollupMonthly]]:
    report = revision.report
    common = {
        "report_id": report.pk,
        "revision_id": revision.pk,
        "facility_id": report.facility_id,
        # filed under: the report's own sector and province, never the facility's current ones
        "sector": report.sector,
        "province": report.province,
        "year": report.year,
        "annual": report.month is None,
    }
    buckets = _fold(revision, _grouped_lines([revision.pk]) if grouped is None else grouped)
    total = dict.fromkeys(FIGURES, ZERO)
    for figures in buckets.values():
        for name in FIGURES:
            total[name] += figures[name]
    monthly = [EmissionRollupMonthly(**common, month=month, **figures) for month, figures in buckets.items()]
    return EmissionRollup(**common, month=report.month, **total), monthly


@transaction.atomic
def rollup_replace(*, revision: ReportRevision) -> None:
    """Make ``revision`` (just verified) the one its report counts with."""
    row, monthly = _rows(revision)
    EmissionRollup.objects.filter(report_id=revision.report_id).delete()
    EmissionRollupMonthly.objects.filter(report_id=revision.report_id).delete()
    row.save(force_insert=True)
    EmissionRollupMonthly.objects.bulk_create(monthly)


def latest_verified_revisions() -> Iterable[ReportRevision]:
    """The latest verified revision of every report that has one."""
    seen: set[int] = set()
    revisions = (
        ReportRevision.objects.filter(status=ReportRevision.Status.VERIFIED)
        .select_related("report")
        .order_by("report_id", "-number")
    )
    for revision in revisions.iterator(chunk_size=2000):
        if revision.report_id not in seen:
            seen.add(revision.report_id)
            yield revision


@dataclass
class RebuildResult:
    reports: int
    differences: list[str]


def _key(row: Any) -> tuple[Any, ...]:
    return (
        row.report_id,
        row.revision_id,
        row.facility_id,
        row.sector,
        row.province,
        row.year,
        row.month,
        row.annual,
    )


def _figures_of(row: Any) -> tuple[Decimal, ...]:
    return tuple(Decimal(getattr(row, name)) for name in FIGURES)


def _equal(a: tuple[Decimal, ...], b: tuple[Decimal, ...]) -> bool:
    """Equal at the stored precision (12 decimal places). SQLite, the embedded mode, keeps decimals as
    binary floats (about 15 significant digits): there figures agree within 0.000001 t."""
    if connection.vendor == "postgresql":
        return all(x.quantize(STORED) == y.quantize(STORED) for x, y in zip(a, b, strict=True))
    return all(abs(x - y) <= SQLITE_TOLERANCE for x, y in zip(a, b, strict=True))


@transaction.atomic
def rollup_rebuild(*, apply: bool) -> RebuildResult:
    """Recompute the rollup from the activity lines and compare it with the incremental state.

    With ``apply`` the tables are replaced by the recomputed rows (the comparison is made first).
    """
    expected_rows: list[EmissionRollup] = []
    expected_monthly: list[EmissionRollupMonthly] = []
    revisions = {revision.pk: revision for revision in latest_verified_revisions()}
    # One pass over the verified lines, grouped in the database, instead of a query per revision.
    by_revision: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _grouped_lines(list(revisions)).iterator(chunk_size=20_000):
        by_revision[row["revision_id"]].append(row)
    for revision_id, revision in revisions.items():
        row, monthly = _rows(revision, by_revision.get(revision_id, []))
        expected_rows.append(row)
        expected_monthly.extend(monthly)
    differences = _compare("report", expected_rows, EmissionRollup.objects.all())
    differences += _compare("monthly", expected_monthly, EmissionRollupMonthly.objects.all())
    if apply:
        EmissionRollup.objects.all().delete()
        EmissionRollupMonthly.objects.all().delete()
        EmissionRollup.objects.bulk_create(expected_rows, batch_size=2000)
        EmissionRollupMonthly.objects.bulk_create(expected_monthly, batch_size=2000)
    return RebuildResult(len(expected_rows), differences)


def _compare(name: str, expected: list[Any], stored: Iterable[Any]) -> list[str]:
    want = {_key(r): _figures_of(r) for r in expected}
    have = {_key(r): _figures_of(r) for r in stored}
    missing = [key for key in want if key not in have]
    unexpected = [key for key in have if key not in want]
    different = [key for key in want if key in have and not _equal(want[key], have[key])]
    if not (missing or unexpected or different):
        return []
    return [
        f"{name}: {len(missing)} row(s) missing, {len(unexpected)} unexpected, {len(different)} different"
        + (f" (first: report {(missing or unexpected or different)[0][0]})")
    ]

"""Aggregated totals for regulators, from the rollup of verified reports (never the activity lines).

``aggregate_totals(group_by=[...], filters={...})`` answers rows keyed by any of ``sector``,
``province``, ``year``, ``month``, ``facility``, ``gas`` and ``category``, each with the number of
facilities and reports, direct / indirect / total tonnes CO2e and the tonnes of each gas. ``gas`` and
``category`` are columns of the rollup, unpivoted here; ``month`` reads the monthly rollup.
``filters["jurisdiction"]`` (a provincial authority's provinces, from ``scoping.jurisdiction_of``)
keeps the facilities of those provinces only; None: national.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet, Sum

from accounting import methodologies
from accounting.methodologies import GASES
from accounting.numbers import present
from accounting.registry import CATEGORIES, DIRECT_CATEGORIES
from mrv.domain.provinces import PROVINCES
from mrv.models import EmissionRollup, EmissionRollupMonthly, Facility

GROUPS = ("sector", "province", "year", "month", "facility", "gas", "category")
COLUMNS = ("sector", "province", "year", "month", "facility")
FILTERS = ("year", "sector", "province")
DIRECT = tuple(c for c in CATEGORIES if c in DIRECT_CATEGORIES)
SUMS = (*CATEGORIES, "co2", "cf4", "c2f6", "co2e_cf4", "co2e_c2f6")
ZERO = Decimal(0)


def _base(group_by: Iterable[str], filters: Mapping[str, Any]) -> QuerySet[Any]:
    model = EmissionRollupMonthly if "month" in group_by else EmissionRollup
    # Annual reports are what a facility is settled on; monthly reports of the same year are monitoring
    # data: adding both would count the year twice, so a query takes one period or the other.
    rows = model.objects.filter(annual=filters.get("period", "annual") == "annual")
    within = filters.get("jurisdiction")
    if within is not None:  # a provincial authority: its provinces' facilities only (one subquery)
        rows = rows.filter(facility_id__in=Facility.objects.filter(province__in=within).values("id"))
    for name in FILTERS:
        value = filters.get(name)
        if value not in (None, "", []):
            rows = rows.filter(**{f"{name}__in": value} if isinstance(value, list) else {name: value})
    return rows


def _parts(figures: Mapping[str, Decimal], gas: str | None, category: str | None) -> dict[str, Any]:
    """direct / indirect CO2e and gas tonnes of one slice of the figures (a gas, a category, or all)."""
    pfc = figures["co2e_cf4"] + figures["co2e_c2f6"]
    categories = [category] if category else list(CATEGORIES)
    direct = sum((figures[c] for c in categories if c in DIRECT), ZERO)
    indirect = sum((figures[c] for c in categories if c not in DIRECT), ZERO)
    has_pfc = category in (None, "process")
    # PFCs arise only in the process category; the rest of every category is CO2.
    co2_direct = direct - (pfc if has_pfc else ZERO)
    gases = {
        "CO2": co2_direct + indirect,
        "CF4": figures["cf4"] if has_pfc else ZERO,
        "C2F6": figures["c2f6"] if has_pfc else ZERO,
    }
    if gas == "CO2":
        direct, gases = co2_direct, {"CO2": gases["CO2"], "CF4": ZERO, "C2F6": ZERO}
    elif gas in ("CF4", "C2F6"):
        direct = (figures["co2e_cf4"] if gas == "CF4" else figures["co2e_c2f6"]) if has_pfc else ZERO
        indirect = ZERO
        gases = {g: (gases[g] if g == gas else ZERO) for g in GASES}
    return {"direct": direct, "indirect": indirect, "total": direct + indirect, "gases": gases}


def aggregate_totals(*, group_by: list[str], filters: Mapping[str, Any]) -> dict[str, Any]:
    """Rows per group and a totals row over everything selected; exact Decimals."""
    columns = [name for name in COLUMNS if name in group_by]
    rows = _base(group_by, filters)
    sums = {name: Sum(name) for name in SUMS}
    monthly = "month" in group_by
    # The report-level rollup has one row per report, so counting rows counts reports. A facility has
    # one annual report a year: grouped by year, annual rows count facilities too; otherwise distinct
    # facilities per group come from a hashed DISTINCT (never a sort of the whole table).
    reports = Count("report_id", distinct=True) if monthly else Count("id")
    one_row_per_facility = not monthly and "year" in columns and filters.get("period", "annual") == "annual"
    if columns:
        grouped: list[dict[str, Any]] = list(
            rows.values(*columns).annotate(**sums, reports=reports).order_by()
        )
        facilities_per_group = (
            {tuple(r[c] for c in columns): r["reports"] for r in grouped}
            if one_row_per_facility
            else _distinct_facilities(rows, columns)
        )
        grouped.sort(key=lambda r: tuple((r[c] is None, r[c]) for c in columns))
    else:
        grouped = [rows.aggregate(**sums, reports=reports)]
        grouped = grouped if grouped[0]["reports"] else []
        facilities_per_group = {(): rows.values("facility_id").distinct().count()}
    counts = {
        key: (facilities_per_group.get(key, 0), r["reports"])
        for r in grouped
        for key in [tuple(r[c] for c in columns)]
    }
    gas_slices = list(GASES) if "gas" in group_by else [None]
    category_slices = list(CATEGORIES) if "category" in group_by else [None]
    names = _facility_names(grouped) if "facility" in columns else {}
    results = []
    for group in grouped:
        key = tuple(group[c] for c in columns)
        figures = {name: group[name] or ZERO for name in SUMS}
        for category in category_slices:
            for gas in gas_slices:
                row: dict[str, Any] = {c: group[c] for c in columns}
                if "facility" in columns:
                    row["facility_name"] = names.get(group["facility"], "")
                if category:
                    row["category"] = category
                if gas:
                    row["gas"] = gas
                facility_count, report_count = counts[key]
                results.append(
                    {
                        **row,
                        "facilities": facility_count,
                        "reports": report_count,
                        **_parts(figures, gas, category),
                    }
                )
    overall = {
        "facilities": rows.values("facility_id").distinct().count() if columns else facilities_per_group[()],
        "reports": sum(r["reports"] for r in grouped),
    }
    totals_figures = {name: sum((r[name] or ZERO for r in grouped), ZERO) for name in SUMS}
    totals = {**overall, **_parts(totals_figures, None, None)}
    return {
        "group_by": group_by,
        "filters": dict(filters),
        "results": [_presented(row) for row in results],
        "totals": _presented(totals),
    }


def _presented(row: dict[str, Any]) -> dict[str, Any]:
    """Tonnes as presented everywhere (6 decimals, no trailing zeros), summed exactly before."""
    figures = {name: present(row[name]) for name in ("direct", "indirect", "total")}
    return {**row, **figures, "gases": {gas: present(value) for gas, value in row["gases"].items()}}


def _distinct_facilities(rows: QuerySet[Any], columns: list[str]) -> dict[tuple[Any, ...], int]:
    """Distinct facilities per group, counted in the database with a hashed DISTINCT:
    ``SELECT keys, count(*) FROM (SELECT DISTINCT keys, facility_id ...) GROUP BY keys``."""
    db_columns = ["facility_id" if c == "facility" else c for c in columns]
    inner, params = rows.values(*columns, "facility_id").distinct().order_by().query.sql_with_params()
    keys = ", ".join(f'"{c}"' for c in db_columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {keys}, count(*) FROM ({inner}) AS pairs GROUP BY {keys}", params)
        return {tuple(row[:-1]): row[-1] for row in cursor.fetchall()}


def _facility_names(grouped: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    ids = {row["facility"] for row in grouped}
    return dict(Facility.objects.filter(pk__in=ids).values_list("pk", "name"))


def methodologies_of(*, group_by: Iterable[str], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The methodology versions of the revisions an aggregate adds up, each with its report count and
    its reporting rule (decimal places and rounding mode of reported tonnes)."""
    rows = (
        _base(group_by, filters)
        .values("revision__methodology", "revision__methodology_version")
        .annotate(reports=Count("report_id", distinct=True))
        .order_by("revision__methodology", "revision__methodology_version")
    )
    found = []
    for row in rows:
        code, version = row["revision__methodology"], row["revision__methodology_version"]
        methodology = methodologies.get(code, version)
        found.append(
            {
                "methodology": code,
                "methodology_version": version,
                "reports": row["reports"],
                "rounding": {"places": methodology.rounding_places, "mode": methodology.rounding_mode},
            }
        )
    return found


def reporting_rule(versions: Iterable[Mapping[str, Any]]) -> tuple[int, str]:
    """The finest reporting rule among ``versions`` (places, mode): whole tonnes, half up, when none."""
    rules = sorted((v["rounding"]["places"], v["rounding"]["mode"]) for v in versions)
    return rules[-1] if rules else (0, "half_up")


#: Units of the exported figures, in the column headers and the sheet names.
CO2E, GAS_TONNES = "tCO2e", "t"
SHEET_CO2E, SHEET_GASES, SHEET_QUERY = "Emissions (tCO2e)", "Gases (t of gas)", "Query"


def _table_keys(answer: Mapping[str, Any]) -> list[str]:
    keys = [k for k in GROUPS if k in answer["group_by"]]
    if "facility" in keys:
        keys.insert(keys.index("facility") + 1, "facility_name")
    if "province" in keys:
        keys.insert(keys.index("province") + 1, "province_name")
    return keys


def _keyed(row: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    cells = {k: row.get(k) for k in keys}
    if "province_name" in keys:
        cells["province_name"] = PROVINCES.get(row.get("province") or "", "")
    return cells


def as_table(
    answer: Mapping[str, Any],
    *,
    versions: list[dict[str, Any]] | None = None,
    generated_at: str = "",
) -> dict[str, Any]:
    """The aggregate as a flat table for CSV export (the JSON's figures as exact decimal strings, one
    column each, a TOTAL row last), and as a workbook for XLSX (``sheets``): the tonnes CO2e, the
    tonnes of each gas, and the query that produced them with the methodology versions it added up."""
    keys = _table_keys(answer)
    csv_keys = [k for k in keys if k != "province_name"]  # the CSV keeps the JSON's keys
    columns = [*csv_keys, "facilities", "reports", "direct", "indirect", "total", *GASES]
    totals = answer["totals"]
    label = {keys[0]: "TOTAL"} if keys else {}
    figure_rows = [*answer["results"], {**dict.fromkeys(keys, ""), **totals, **label}]
    rows = [
        {
            **{k: row.get(k) for k in csv_keys},
            "facilities": row["facilities"],
            "reports": row["reports"],
            "direct": row["direct"],
            "indirect": row["indirect"],
            "total": row["total"],
            **row["gases"],
        }
        for row in figure_rows
    ]
    versions = versions or []
    places, _mode = reporting_rule(versions)
    tonnes_format = "#,##0" + ("." + "0" * places if places else "")
    co2e_columns = [
        "facilities",
        "reports",
        *(f"{name} ({CO2E})" for name in ("direct", "indirect", "total")),
    ]
    gas_columns = [f"{gas} ({GAS_TONNES})" for gas in GASES]
    co2e_sheet = {
        "title": SHEET_CO2E,
        "columns": [*keys, *co2e_columns],
        "formats": dict.fromkeys(co2e_columns[2:], tonnes_format),
        "rows": [
            {
                **_keyed(row, keys),
                "facilities": row["facilities"],
                "reports": row["reports"],
                **{f"{name} ({CO2E})": row[name] for name in ("direct", "indirect", "total")},
            }
            for row in figure_rows
        ],
    }
    gas_sheet = {
        "title": SHEET_GASES,
        "columns": [*keys, *gas_columns],
        "formats": dict.fromkeys(gas_columns, "#,##0.000"),
        "rows": [
            {**_keyed(row, keys), **{f"{gas} ({GAS_TONNES})": row["gases"][gas] for gas in GASES}}
            for row in figure_rows
        ],
    }
    return {
        "columns": columns,
        "rows": rows,
        "filename": "mrv-aggregates",
        "sheets": [co2e_sheet, gas_sheet, _query_sheet(answer, versions, generated_at)],
    }


def _query_sheet(
    answer: Mapping[str, Any], versions: list[dict[str, Any]], generated_at: str
) -> dict[str, Any]:
    filters = answer["filters"]

    def listed(name: str, names: Mapping[str, str] | None = None) -> str:
        values = filters.get(name) or []
        if not values:
            return "all"
        return ", ".join(f"{names[v]} ({v})" if names and v in names else str(v) for v in values)

    places, mode = reporting_rule(versions)
    rows: list[tuple[str, str]] = [
        ("source", "GET /api/v1/aggregates/ (the same figures as its JSON and CSV)"),
        ("generated at", generated_at),
        ("counted", "the latest verified revision of each report"),
        ("group_by", ", ".join(answer["group_by"]) or "(none: one row)"),
        ("period", f"{filters.get('period', 'annual')} reports"),
        ("year", listed("year")),
        ("sector", listed("sector")),
        ("province", listed("province", PROVINCES)),
        ("reports", str(answer["totals"]["reports"])),
        ("facilities", str(answer["totals"]["facilities"])),
        (
            f"units: {CO2E}",
            f"tonnes of CO2 equivalent, each report under its methodology's GWP values (sheet {SHEET_CO2E!r})",
        ),
        (f"units: {GAS_TONNES}", f"tonnes of each gas, not CO2e (sheet {SHEET_GASES!r})"),
        (
            "figures",
            "cells hold the exact sums to 6 decimals (as the JSON and CSV give them); tonnes CO2e are "
            f"displayed at the reporting precision ({places} decimal places, {mode.replace('_', ' ')})",
        ),
    ]
    rows.extend(
        (
            "methodology",
            f"{v['methodology']}@{v['methodology_version']}: {v['reports']} report(s), reported tonnes "
            f"rounded to {v['rounding']['places']} decimal places ({v['rounding']['mode'].replace('_', ' ')})",
        )
        for v in versions
    )
    if not versions:
        rows.append(("methodology", "none: no verified report matches the query"))
    return {
        "title": SHEET_QUERY,
        "columns": ["item", "value"],
        "formats": {},
        "rows": [{"item": item, "value": value} for item, value in rows],
    }

"""What the regulator's dashboard shows: the same figures as the aggregates API, shaped for charts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounting.engine import SECTORS
from accounting.numbers import plain
from mrv.models import EmissionRollup
from mrv.selectors.aggregates import aggregate_totals
from mrv.selectors.comparison import facility_comparison

BAR_WIDTH = 480
ROW_HEIGHT = 22


def _bars(rows: list[dict[str, Any]], label: Any) -> list[dict[str, Any]]:
    largest = max((row["total"] for row in rows), default=Decimal(0))
    return [
        {
            "label": label(row),
            "total": plain(row["total"]),
            "direct": plain(row["direct"]),
            "width": int(row["total"] / largest * BAR_WIDTH) if largest > 0 else 0,
            "y": index * ROW_HEIGHT,
        }
        for index, row in enumerate(rows)
    ]


def _height(bars: list[dict[str, Any]]) -> int:
    return len(bars) * ROW_HEIGHT + 20


def dashboard(*, year: int | None) -> dict[str, Any]:
    years = sorted(set(EmissionRollup.objects.values_list("year", flat=True)))
    if year is None and years:
        year = years[-1]
    by_sector_year = aggregate_totals(group_by=["sector", "year"], filters={})
    by_province = aggregate_totals(group_by=["province"], filters={"year": [year]} if year else {})
    latest_reports = {
        row.facility_id: row.report_id
        for row in EmissionRollup.objects.filter(year=year, month__isnull=True).order_by("report_id")
    }
    sector_year = _bars(by_sector_year["results"], lambda r: f"{r['sector']} {r['year']}")
    provinces = _bars(by_province["results"], lambda r: r["province"])
    facilities = [
        {
            "id": row["facility"],
            "name": row["facility_name"],
            "sector": row["sector"],
            "province": row["province"],
            "intensity": plain(row["direct_intensity"]),
            "percentile": plain(row["percentile"]),
            "report": latest_reports.get(row["facility"]),
        }
        for row in (facility_comparison(sectors=list(SECTORS), year=year) if year else [])
    ]
    return {
        "year": year,
        "years": years,
        "totals": {
            key: plain(value) if isinstance(value, Decimal) else value
            for key, value in by_sector_year["totals"].items()
            if key != "gases"
        },
        "sector_year": sector_year,
        "sector_year_height": _height(sector_year),
        "provinces": provinces,
        "provinces_height": _height(provinces),
        "facilities": facilities,
    }

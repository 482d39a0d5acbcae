"""What the regulator's dashboard shows for one year: the aggregates API's figures, shaped for charts.

Every figure on the page has one format: thousands separators, tonnes CO2e rounded by the reporting
rule of the methodology versions the year's reports were verified under (whole tonnes, half up, for
cn-mee-2024), intensities to :data:`INTENSITY_PLACES` decimals. The exact figures are kept in each
element's ``data-exact`` attribute, as the API gives them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext

from accounting.engine import SECTORS
from accounting.numbers import plain, round_to
from mrv.domain.provinces import PROVINCES
from mrv.models import SECTOR_LABELS, EmissionRollup, Facility
from mrv.selectors.aggregates import aggregate_totals, methodologies_of, reporting_rule
from mrv.selectors.comparison import facility_comparison
from mrv.selectors.deposits import deposit_compliance

BAR_WIDTH = 480
ROW_HEIGHT = 22
#: Decimals shown for intensities (t CO2e per t of product) and percentiles.
INTENSITY_PLACES, PERCENTILE_PLACES = 3, 1


def figure(value: Decimal | str, places: int, mode: str = "half_up") -> str:
    """``value`` as the dashboard shows it: rounded to ``places`` by ``mode``, thousands separated."""
    return format(round_to(Decimal(value), places, mode), f",.{places}f")


def province_label(code: str) -> str:
    """A province's name beside its ISO 3166-2:CN code: ``Jiangsu (CN-JS)``."""
    name = PROVINCES.get(code)
    return f"{gettext(name)} ({code})" if name else code  # the name in the request's language


def _bars(rows: list[dict[str, Any]], key: str, label: Any, places: int, mode: str) -> list[dict[str, Any]]:
    largest = max((row["total"] for row in rows), default=Decimal(0))
    return [
        {
            "key": row[key],
            "label": label(row[key]),
            "exact": plain(row["total"]),
            "total": figure(row["total"], places, mode),
            "width": int(row["total"] / largest * BAR_WIDTH) if largest > 0 else 0,
            "y": index * ROW_HEIGHT,
        }
        for index, row in enumerate(rows)
    ]


def _height(bars: list[dict[str, Any]]) -> int:
    return len(bars) * ROW_HEIGHT + 20


def _rollup(provinces: list[str] | None) -> Any:
    rows = EmissionRollup.objects.all()
    if provinces is not None:
        rows = rows.filter(facility_id__in=Facility.objects.filter(province__in=provinces).values("id"))
    return rows


def verified_years(provinces: list[str] | None = None) -> list[int]:
    """The years with a verified annual report (in ``provinces``: None for all), oldest first."""
    return sorted(set(_rollup(provinces).filter(annual=True).values_list("year", flat=True)))


def dashboard(*, year: int | None, provinces: list[str] | None = None) -> dict[str, Any]:
    """The page's context for ``year`` (the latest verified year when None): the cards are the totals of
    ``GET /api/v1/aggregates/?year=<year>``, the charts its rows by sector and by province. ``provinces``:
    a provincial authority's jurisdiction (its facilities only); None: national."""
    years = verified_years(provinces)
    if year is None and years:
        year = years[-1]
    if year is None:
        return {"year": None, "years": [], "totals": None, "sectors": [], "provinces": [], "facilities": []}
    filters: dict[str, Any] = {"year": [year], "jurisdiction": provinces}
    versions = methodologies_of(group_by=[], filters=filters)
    places, mode = reporting_rule(versions)
    totals = aggregate_totals(group_by=[], filters=filters)["totals"]
    by_sector = aggregate_totals(group_by=["sector"], filters=filters)["results"]
    by_province = aggregate_totals(group_by=["province"], filters=filters)["results"]
    latest_reports = {
        row.facility_id: row.report_id
        for row in _rollup(provinces).filter(year=year, annual=True, month__isnull=True).order_by("report_id")
    }
    sectors = _bars(by_sector, "sector", str, places, mode)
    province_bars = _bars(by_province, "province", province_label, places, mode)
    facilities = [
        {
            "id": row["facility"],
            "name": row["facility_name"],
            "sector": row["sector"],
            "province": province_label(row["province"]),
            "intensity": figure(row["direct_intensity"], INTENSITY_PLACES),
            "intensity_exact": plain(row["direct_intensity"]),
            "percentile": figure(row["percentile"], PERCENTILE_PLACES),
            "report": latest_reports.get(row["facility"]),
        }
        for row in facility_comparison(sectors=list(SECTORS), year=year, provinces=provinces)
    ]
    return {
        "year": year,
        "years": sorted({*years, year}),
        "precision": _precision(places, mode),
        "methodologies": [f"{v['methodology']}@{v['methodology_version']}" for v in versions],
        "totals": {
            **{
                name: {"shown": figure(totals[name], places, mode), "exact": plain(totals[name])}
                for name in ("total", "direct", "indirect")
            },
            "facilities": {"shown": f"{totals['facilities']:,}", "exact": str(totals["facilities"])},
            "reports": {"shown": f"{totals['reports']:,}", "exact": str(totals["reports"])},
        },
        "sectors": sectors,
        "sectors_height": _height(sectors),
        "provinces": province_bars,
        "provinces_height": _height(province_bars),
        "facilities": facilities,
    }


def _precision(places: int, mode: str) -> str:
    unit = "whole tonnes" if places == 0 else f"tonnes to {places} decimal place{'s' if places > 1 else ''}"
    return f"{unit}, rounded {mode.replace('_', ' ')}"


def deposit_panel(*, user: AbstractBaseUser, year: int) -> dict[str, Any]:
    """The deposit compliance panel for ``year``: the rows of ``GET /api/v1/aggregates/deposits/``
    grouped by province and by sector (as of today, over the facilities ``user`` may see), and its totals."""
    by_province = deposit_compliance(user=user, year=year, group_by=["province"])
    by_sector = deposit_compliance(user=user, year=year, group_by=["sector"])
    return {
        "as_of": by_province["as_of"],
        "provinces": [
            {**row, "key": row["province"], "label": province_label(row["province"])}
            for row in by_province["results"]
        ],
        "sectors": [
            {**row, "key": row["sector"], "label": gettext(SECTOR_LABELS.get(row["sector"], row["sector"]))}
            for row in by_sector["results"]
        ],
        "totals": by_province["totals"],
    }

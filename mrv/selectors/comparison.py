"""Facility comparison: each facility's direct intensity against its sector's distribution.

Intensities come from the latest verified revision of each facility's annual report (its stored
totals), so a comparison never scans activity lines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Subquery

from accounting.numbers import present
from mrv.models import Facility, Report, ReportRevision

#: Fewest peers for a band to mean anything.
MIN_PEERS = 5
#: The band spans these percentiles of the peers' intensities.
LOW_PERCENTILE, HIGH_PERCENTILE = Decimal(5), Decimal(95)


def verified_intensities(*, sector: str, year: int) -> dict[int, Decimal]:
    """facility id → direct intensity of its latest verified annual revision for ``year``."""
    latest = (
        ReportRevision.objects.filter(report=OuterRef("pk"), status=ReportRevision.Status.VERIFIED)
        .order_by("-number")
        .values("totals")[:1]
    )
    rows = (
        Report.objects.filter(sector=sector, year=year, month__isnull=True)  # the sector filed under
        .annotate(verified_totals=Subquery(latest))
        .exclude(verified_totals=None)
        .values_list("facility_id", "verified_totals")
    )
    found: dict[int, Decimal] = {}
    for facility_id, totals in rows:
        value = ((totals or {}).get("intensity") or {}).get("direct")
        if value:
            found[facility_id] = Decimal(str(value))
    return found


def percentile(values: list[Decimal], rank: Decimal) -> Decimal:
    """Linear-interpolation percentile (``rank`` in 0-100) of sorted ``values``."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * rank / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percentile_rank(values: list[Decimal], value: Decimal) -> Decimal:
    """Share (0-100) of ``values`` at or below ``value``."""
    if not values:
        return Decimal(0)
    return Decimal(sum(1 for v in values if v <= value)) * 100 / len(values)


def peer_band(*, sector: str, year: int, exclude_facility: int) -> tuple[Decimal, Decimal] | None:
    """The 5th-95th percentile range of the other facilities' verified intensities (None below 5 peers)."""
    peers = [
        v
        for facility, v in verified_intensities(sector=sector, year=year).items()
        if facility != exclude_facility
    ]
    if len(peers) < MIN_PEERS:
        return None
    return percentile(peers, LOW_PERCENTILE), percentile(peers, HIGH_PERCENTILE)


def sector_comparison(*, sector: str, year: int) -> list[dict[str, Any]]:
    """Every facility of the sector with a verified report: intensity and its percentile within the sector."""
    intensities = verified_intensities(sector=sector, year=year)
    values = list(intensities.values())
    return [
        {"facility": facility, "direct_intensity": value, "percentile": percentile_rank(values, value)}
        for facility, value in sorted(intensities.items(), key=lambda item: item[1])
    ]


def facility_comparison(
    *, sectors: list[str], year: int, provinces: list[str] | None = None
) -> list[dict[str, Any]]:
    """The comparison as the API and the dashboard show it: figures presented (6 decimals). ``provinces``
    (a provincial authority's jurisdiction) lists only their facilities, each still placed among all the
    sector's facilities (the benchmark is national); None lists all."""
    by_sector = {sector: sector_comparison(sector=sector, year=year) for sector in sectors}
    compared = {entry["facility"] for entries in by_sector.values() for entry in entries}
    facilities = {f.pk: f for f in Facility.objects.filter(pk__in=compared)}  # only those compared
    rows = []
    for sector in sectors:
        entries = by_sector[sector]
        values = [e["direct_intensity"] for e in entries]
        band = (percentile(values, LOW_PERCENTILE), percentile(values, HIGH_PERCENTILE)) if values else None
        for entry in entries:
            facility = facilities[entry["facility"]]
            if provinces is not None and facility.province not in provinces:
                continue
            rows.append(
                {
                    "facility": facility.pk,
                    "facility_name": facility.name,
                    "sector": sector,
                    "province": facility.province,
                    "direct_intensity": present(entry["direct_intensity"], 6),
                    "percentile": present(entry["percentile"], 1),
                    "peers": len(values),
                    "sector_band": {"p5": present(band[0], 6), "p95": present(band[1], 6)} if band else None,
                }
            )
    return rows

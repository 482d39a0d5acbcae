"""Reads on reports: a revision's lines and their per-line results."""

from __future__ import annotations

from typing import Any

import accounting
from accounting.engine import Calculation
from mrv.errors import ServiceError
from mrv.models import Report, ReportRevision


def revision_lines(*, revision: ReportRevision) -> list[Any]:
    """The revision's activity lines exactly as given, in order."""
    return list(revision.activity_lines.order_by("index").values_list("inputs", flat=True))


def calculation_of(*, sector: str, year: int, methodology: str | None, lines: Any) -> Calculation:
    """The engine's calculation of a facility's lines for a year (the one place the payload is built)."""
    return accounting.calculate(
        {
            "methodology": methodology or accounting.methodologies.DEFAULT_CODE,
            "sector": sector,
            "year": year,
            "lines": lines,
        }
    )


def revision_calculation(*, report: Report, revision: ReportRevision, lines: list[Any]) -> Calculation:
    """The engine's result for the revision's lines under its methodology version.

    Methodology versions never change, so this is the calculation that was stored; the verification
    job checks that its figures equal the stored ones.
    """
    methodology = accounting.get(revision.methodology)
    if methodology.version != revision.methodology_version:  # pragma: no cover - a published version changed
        raise ServiceError(
            f"methodology {revision.methodology} is no longer at version {revision.methodology_version}"
        )
    return calculation_of(
        sector=report.facility.sector, year=report.year, methodology=revision.methodology, lines=lines
    )

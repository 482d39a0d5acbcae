"""Reads on reports: a revision's lines and their per-line results."""

from __future__ import annotations

from typing import Any

import accounting
from accounting.engine import Calculation
from mrv.models import Report, ReportRevision


def revision_lines(*, revision: ReportRevision) -> list[Any]:
    """The revision's activity lines exactly as given, in order."""
    return list(revision.activity_lines.order_by("index").values_list("inputs", flat=True))


def calculation_of(
    *, sector: str, year: int, methodology: str | None, lines: Any, methodology_version: str | None = None
) -> Calculation:
    """The engine's calculation of a facility's lines for a year (the one place the payload is built).

    ``methodology_version`` None means the latest published version of the methodology.
    """
    return accounting.calculate(
        {
            "methodology": methodology or accounting.methodologies.DEFAULT_CODE,
            "methodology_version": methodology_version,
            "sector": sector,
            "year": year,
            "lines": lines,
        }
    )


def revision_calculation(*, report: Report, revision: ReportRevision, lines: list[Any]) -> Calculation:
    """The engine's result for the revision's lines under its methodology version.

    Published methodology versions never change (a correction is a new version), so this is the
    calculation that was stored, whatever has been published since; the verification job checks that
    its figures equal the stored ones.
    """
    return calculation_of(
        sector=report.facility.sector,
        year=report.year,
        methodology=revision.methodology,
        methodology_version=revision.methodology_version,
        lines=lines,
    )

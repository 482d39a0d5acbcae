"""The automated checks of a draft, run on demand before it is submitted: read only, nothing stored."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from accounting.engine import Calculation
from mrv.domain import checks
from mrv.models import Report, ReportRevision
from mrv.selectors.plans import plan_for_period
from mrv.selectors.reports import revision_calculation, revision_lines


def draft_findings(*, report: Report, lines: list[Any], calculation: Calculation) -> list[dict[str, str]]:
    """:data:`mrv.domain.checks.DRAFT_CHECKS` on a draft's ``lines`` and their ``calculation``, as
    ``{code, severity, detail, pointer, line_ref, value, expected}``."""
    data = checks.draft_input(sector=report.sector, year=report.year, lines=lines, calculation=calculation)
    data.plan = plan_for_period(facility_id=report.facility_id, year=report.year, month=report.month)
    return [asdict(finding) for finding in checks.run_draft_checks(data)]


def draft_checks(*, report: Report, revision: ReportRevision) -> dict[str, Any]:
    """The draft checks of ``revision`` (a draft of ``report``): its findings and their count by severity."""
    lines = revision_lines(revision=revision)
    calculation = revision_calculation(report=report, revision=revision, lines=lines)
    findings = draft_findings(report=report, lines=lines, calculation=calculation)
    return {
        "report": report.pk,
        "revision": revision.number,
        "methodology": calculation.methodology.code,
        "methodology_version": calculation.methodology.version,
        "check_version": checks.CHECK_VERSION,
        "lines": len(lines),
        "counts": {
            severity: sum(1 for finding in findings if finding["severity"] == severity)
            for severity in ("error", "warning", "info")
        },
        "findings": findings,
    }

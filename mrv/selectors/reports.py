"""Reads on reports: the report list, the revision each report shows, a revision's lines and results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

import accounting
from accounting.engine import Calculation
from mrv.models import DepositReview, Report, ReportRevision
from mrv.selectors import scoping


def report_list(*, user: AbstractBaseUser, filters: Mapping[str, Any]) -> QuerySet[Report]:
    """The reports ``user`` may see, filtered, newest year first.

    ``filters``: ``facility``, ``year``, ``sector``, and ``status``, which is the status of the revision
    the report shows the user (:func:`shown_revision`): for a verifier or a regulator the latest
    submitted one, even when the operator has opened a new draft since.
    """
    reports = scoping.reports_visible_to(user)
    if "facility" in filters:
        reports = reports.filter(facility_id=filters["facility"])
    if "year" in filters:
        reports = reports.filter(year=filters["year"])
    if "sector" in filters:
        reports = reports.filter(sector=filters["sector"])  # the sector the report was filed under
    if "status" in filters:
        if not scoping.sees_drafts(user):
            shown_status = (
                ReportRevision.objects.filter(report=OuterRef("pk"))
                .exclude(status=ReportRevision.Status.DRAFT)
                .order_by("-number")
                .values("status")[:1]
            )
            reports = reports.annotate(shown_status=Subquery(shown_status)).filter(
                shown_status=filters["status"]
            )
        else:  # the latest revision, whose status the report mirrors
            reports = reports.filter(status=filters["status"])
    reviews = Prefetch("revisions__deposit_review", DepositReview.objects.select_related("reviewed_by"))
    return reports.prefetch_related("revisions__verification_jobs", reviews).order_by(
        "-year", "facility_id", "month", "id"
    )


def shown_revision(*, user: AbstractBaseUser, report: Report) -> ReportRevision:
    """The revision a report shows ``user``: its latest visible one (only the operator sees drafts).

    Reads the prefetched revisions of :func:`report_list` when there are some.
    """
    drafts = scoping.sees_drafts(user)
    revisions = sorted(report.revisions.all(), key=lambda r: r.number, reverse=True)
    return next(r for r in revisions if drafts or r.status != ReportRevision.Status.DRAFT)


def revision_lines(*, revision: ReportRevision) -> list[Any]:
    """The revision's activity lines exactly as given, in order."""
    return list(revision.activity_lines.order_by("index").values_list("inputs", flat=True))


def calculation_of(
    *, sector: str, year: int, methodology: str | None, lines: Any, methodology_version: str | None = None
) -> Calculation:
    """The engine's calculation of a facility's lines for a year (the one place the payload is built).

    ``methodology_version`` None means the latest published version of the methodology. No lines is
    zero totals: a report may be created empty and filled by an import.
    """
    return accounting.calculate(
        {
            "methodology": methodology or accounting.methodologies.DEFAULT_CODE,
            "methodology_version": methodology_version,
            "sector": sector,
            "year": year,
            "lines": lines,
        },
        allow_empty=True,
    )


def revision_calculation(*, report: Report, revision: ReportRevision, lines: list[Any]) -> Calculation:
    """The engine's result for the revision's lines under its methodology version.

    Published methodology versions never change (a correction is a new version), so this is the
    calculation that was stored, whatever has been published since; the verification job checks that
    its figures equal the stored ones.
    """
    return calculation_of(
        sector=report.sector,
        year=report.year,
        methodology=revision.methodology,
        methodology_version=revision.methodology_version,
        lines=lines,
    )

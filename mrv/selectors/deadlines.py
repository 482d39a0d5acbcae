"""Deadlines of each facility's year (SPEC §10): monthly deposits, the annual report, its verification
and the surrender of allowances, each with its status.

The period is the year (or month) the deadline concerns: ``?year=2025`` gives the twelve deposits of
2025 (due in 2025 and early 2026), the annual report of 2025 (due 31 March 2026), its verification
(30 June 2026) and the surrender for 2025 (31 December 2026). The dates come from the methodology
bundle: a monthly deposit's from the version its report is filed under (:mod:`mrv.selectors.deposits`,
so both answers agree), the yearly ones from the ``[deadlines]`` table of the latest ``cn-mee-2024``
(the national ETS's calendar, with its source).

A deadline is met by:

- ``monthly_deposit``: the month's report first submitted (its revision 1);
- ``annual_report``: the year's annual report first submitted;
- ``verification``: the first positive opinion (verified, verified with comments) on the annual report;
- ``surrender``: met when the facility's surrenders for the year first covered its obligation (its
  verified direct emissions in whole allowances; ``mrv.selectors.allocation.obligations_met_at``).

Statuses, judged on a day in Beijing time (a deadline met on its due date is met on time): ``open``
(not met, not yet due), ``met`` (met by the due date), ``late`` (met after it), ``missed`` (not met and
past due).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Min

from accounting import methodologies
from mrv.models import Facility, ReportRevision, VerificationJob
from mrv.selectors import deposits
from mrv.selectors.allocation import obligations_met_at
from mrv.selectors.scoping import facilities_visible_to

MONTHLY_DEPOSIT, ANNUAL_REPORT, VERIFICATION, SURRENDER = (
    "monthly_deposit",
    "annual_report",
    "verification",
    "surrender",
)
KINDS = (MONTHLY_DEPOSIT, ANNUAL_REPORT, VERIFICATION, SURRENDER)
STATUSES = ("open", "met", "late", "missed")
#: The bundle whose ``[deadlines]`` give the yearly dates.
CALENDAR = "cn-mee-2024"
VERIFYING_OPINIONS = (VerificationJob.Opinion.VERIFIED, VerificationJob.Opinion.VERIFIED_WITH_COMMENTS)


@dataclass(frozen=True)
class Deadline:
    kind: str
    facility: Facility
    year: int
    month: int | None
    due_date: date
    status: str
    met_at: datetime | None
    #: ``code@version`` whose data gave the date (``default`` for a deposit rule without one)
    source: str

    @property
    def period(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)

    def as_row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "facility": self.facility.pk,
            "facility_name": self.facility.name,
            "period": self.period,
            "due_date": self.due_date,
            "status": self.status,
            "met_at": self.met_at,
            "source": self.source,
        }


def _as_on(met_at: datetime | None, on: date) -> datetime | None:
    """``met_at`` if the deadline was met by the day ``on``, else None (judged on an earlier day)."""
    return met_at if met_at is not None and deposits.deposit_day(met_at) <= on else None


def status_of(*, due: date, met_at: datetime | None, on: date) -> str:
    """``open``, ``met``, ``late`` or ``missed`` on the day ``on`` (Beijing time)."""
    if met_at is None or deposits.deposit_day(met_at) > on:  # not met (yet, on that day)
        return "missed" if on > due else "open"
    return "late" if deposits.deposit_day(met_at) > due else "met"


def yearly_dates(year: int) -> dict[str, tuple[date, str]]:
    """The annual report, verification and surrender due dates of ``year``, with the bundle they come from."""
    calendar = methodologies.latest(CALENDAR)
    found = {}
    for kind in (ANNUAL_REPORT, VERIFICATION, SURRENDER):
        due = calendar.due_date(kind)
        if due is not None:
            found[kind] = (due.on(year), calendar.key)
    return found


def facility_deadlines(*, facilities: Iterable[Facility], year: int, on: date) -> list[Deadline]:
    """Every deadline of ``year`` of each facility, in facility order then by due date (four queries)."""
    facilities = list(facilities)
    ids = [facility.pk for facility in facilities]
    first = ReportRevision.objects.filter(report__facility_id__in=ids, report__year=year, number=1).exclude(
        status=ReportRevision.Status.DRAFT
    )
    monthly: dict[tuple[int, int], tuple[str, str, datetime | None]] = {}
    for facility_id, month, methodology, version, at in first.filter(report__month__isnull=False).values_list(
        "report__facility_id", "report__month", "methodology", "methodology_version", "submitted_at"
    ):
        monthly[(facility_id, month)] = (methodology, version, at)
    annual = dict(first.filter(report__month__isnull=True).values_list("report__facility_id", "submitted_at"))
    verified = dict(
        VerificationJob.objects.filter(
            revision__report__facility_id__in=ids,
            revision__report__year=year,
            revision__report__month__isnull=True,
            kind=VerificationJob.Kind.VERIFICATION,
            status=VerificationJob.Status.COMPLETED,
            opinion__in=VERIFYING_OPINIONS,
        )
        .values("revision__report__facility_id")
        .annotate(first=Min("completed_at"))
        .values_list("revision__report__facility_id", "first")
    )
    default_rule = deposits.due_rule(deposits.DEFAULT_METHODOLOGY)
    yearly = yearly_dates(year)
    surrendered = obligations_met_at([facility.pk for facility in facilities], year)
    found = []
    for facility in facilities:
        rows = []
        for month in range(1, 13):
            deposited = monthly.get((facility.pk, month))
            rule = deposits.due_rule(deposited[0], deposited[1]) if deposited else default_rule
            due = deposits.due_date(year, month, rule)
            met_at = _as_on(deposited[2] if deposited else None, on)
            rows.append(
                Deadline(
                    MONTHLY_DEPOSIT,
                    facility,
                    year,
                    month,
                    due,
                    status_of(due=due, met_at=met_at, on=on),
                    met_at,
                    rule.source,
                )
            )
        met = {
            ANNUAL_REPORT: _as_on(annual.get(facility.pk), on),
            VERIFICATION: _as_on(verified.get(facility.pk), on),
            SURRENDER: _as_on(surrendered.get(facility.pk), on),
        }
        for kind, (due, source) in yearly.items():
            rows.append(
                Deadline(
                    kind,
                    facility,
                    year,
                    None,
                    due,
                    status_of(due=due, met_at=met[kind], on=on),
                    met[kind],
                    source,
                )
            )
        found += sorted(rows, key=lambda row: (row.due_date, KINDS.index(row.kind)))
    return found


def deadlines_for(
    *,
    user: AbstractBaseUser,
    year: int,
    on: date | None = None,
    facility: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """The deadlines of ``year`` of the facilities ``user`` sees, narrowed by facility, kind and status."""
    facilities = facilities_visible_to(user).order_by("name", "id")
    if facility is not None:
        facilities = facilities.filter(pk=facility)
    rows = facility_deadlines(facilities=facilities, year=year, on=on or deposits.today())
    return [
        row.as_row()
        for row in rows
        if (kind is None or row.kind == kind) and (status is None or row.status == status)
    ]


def deadlines_due_between(*, start: date, end: date, on: date) -> list[Deadline]:
    """Every facility's deadlines due from ``start`` to ``end`` (inclusive), judged on ``on``: what the
    reminders look at (the service's own read, not a user's)."""
    facilities = list(Facility.objects.select_related("operator", "verification_body").order_by("id"))
    found = []
    # a deadline due in year Y concerns the period Y (deposits) or Y - 1 (deposits of December, the
    # yearly deadlines)
    for year in sorted({start.year - 1, start.year, end.year - 1, end.year}):
        found += [
            row
            for row in facility_deadlines(facilities=facilities, year=year, on=on)
            if start <= row.due_date <= end
        ]
    return found

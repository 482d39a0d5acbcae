"""Monthly deposits (月度信息化存证): when each monthly report is due, and whether it came in on time.

A monthly report is the month's deposit. It is due ``deposit_due_days`` after its month ends: the
``[deposits] monthly_due_days`` value of the methodology version it is filed under (40 days in
cn-mee-2024@2024.2, with its provenance); a version that carries no such value (cn-mee-2024@2024.1,
ipcc-2006) is read as :data:`DEFAULT_DEPOSIT_DUE_DAYS` and the answer says so (``due_days_source``).
The deposit is the first submission (revision 1's ``submitted_at``, frozen by the revision trigger),
dated in Beijing time: a deposit made on the due date is on time.

Statuses: ``on_time`` / ``late`` (deposited by / after the due date), ``pending`` (not deposited, not
yet due), ``overdue`` (not deposited, past due). Annual reports have none.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser

from accounting import methodologies
from accounting.errors import AccountingError
from mrv.domain import checks
from mrv.domain.checks import AcceptedMonthly
from mrv.domain.provinces import PROVINCES
from mrv.models import ActivityLine, DepositReview, Report, ReportRevision
from mrv.selectors.reports import revision_calculation
from mrv.selectors.scoping import facilities_visible_to

DEFAULT_DEPOSIT_DUE_DAYS = 40
DEPOSIT_TIMEZONE = ZoneInfo("Asia/Shanghai")
DUE_DAYS_PATH = "deposits.monthly_due_days"
DEFAULT_METHODOLOGY = "cn-mee-2024"


@dataclass(frozen=True)
class DueRule:
    days: int
    #: ``code@version`` whose ``[deposits]`` gave the days, or ``default`` when the version has none
    source: str


def due_rule(methodology: str, version: str | None = None) -> DueRule:
    try:
        found = methodologies.get(methodology, version)
    except (AccountingError, LookupError):
        return DueRule(DEFAULT_DEPOSIT_DUE_DAYS, "default")
    factor = found.factor(DUE_DAYS_PATH)
    if factor is None:
        return DueRule(DEFAULT_DEPOSIT_DUE_DAYS, "default")
    return DueRule(int(factor.value), found.key)


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def due_date(year: int, month: int, rule: DueRule) -> date:
    return month_end(year, month) + timedelta(days=rule.days)


def deposit_day(submitted_at: datetime) -> date:
    return submitted_at.astimezone(DEPOSIT_TIMEZONE).date()


def today() -> date:
    return datetime.now(DEPOSIT_TIMEZONE).date()


def status_of(*, due: date, deposited_at: datetime | None, on: date) -> str:
    if deposited_at is None or deposit_day(deposited_at) > on:  # not deposited (yet, on that date)
        return "overdue" if on > due else "pending"
    return "late" if deposit_day(deposited_at) > due else "on_time"


def first_submission(report: Report, revision: ReportRevision) -> datetime | None:
    """When ``report`` was first deposited (its revision 1's submission), ``revision`` being one shown."""
    if revision.number == 1:
        return revision.submitted_at
    return (
        ReportRevision.objects.filter(report=report, number=1).values_list("submitted_at", flat=True).first()
    )


def report_deposit(report: Report, revision: ReportRevision) -> dict[str, Any]:
    """``{due_date, late, deposit_status, deposited_at, due_days, due_days_source}`` of a monthly report
    (all None for an annual one), under the methodology version of ``revision``."""
    if report.month is None:
        return dict.fromkeys(
            ("due_date", "late", "deposit_status", "deposited_at", "due_days", "due_days_source")
        )
    rule = due_rule(revision.methodology, revision.methodology_version)
    due = due_date(report.year, report.month, rule)
    deposited = first_submission(report, revision)
    status = status_of(due=due, deposited_at=deposited, on=today())
    return {
        "due_date": due,
        "late": status in ("late", "overdue"),
        "deposit_status": status,
        "deposited_at": deposited,
        "due_days": rule.days,
        "due_days_source": rule.source,
    }


def overdue_deposits(
    *, user: AbstractBaseUser, year: int, on: date | None = None, include_late: bool = False
) -> list[dict[str, Any]]:
    """The monthly deposits of ``year`` past their due date on ``on`` (default: today) and still not made,
    per facility and month (a month with no submitted report; drafts stay the operator's and count as
    not deposited), and with ``include_late`` those deposited after the due date. Rows ordered by
    facility and month."""
    on = on or today()
    facilities = list(facilities_visible_to(user).order_by("name", "id"))
    submitted: dict[tuple[int, int], tuple[int, str, str, datetime | None]] = {}
    first_revisions = ReportRevision.objects.filter(
        report__facility__in=[f.pk for f in facilities],
        report__year=year,
        report__month__isnull=False,
        number=1,
    ).exclude(status=ReportRevision.Status.DRAFT)
    for report_id, facility_id, month, methodology, version, at in first_revisions.values_list(
        "report_id",
        "report__facility_id",
        "report__month",
        "methodology",
        "methodology_version",
        "submitted_at",
    ):
        submitted[(facility_id, month)] = (report_id, methodology, version, at)
    default_rule = due_rule(DEFAULT_METHODOLOGY)
    rows = []
    for facility in facilities:
        for month in range(1, 13):
            found = submitted.get((facility.pk, month))
            rule = due_rule(found[1], found[2]) if found else default_rule
            due = due_date(year, month, rule)
            status = status_of(due=due, deposited_at=found[3] if found else None, on=on)
            if status == "overdue" or (include_late and status == "late"):
                rows.append(
                    {
                        "facility": facility.pk,
                        "facility_name": facility.name,
                        "sector": facility.sector,
                        "province": facility.province,
                        "year": year,
                        "month": month,
                        "due_date": due,
                        "days_overdue": (
                            (deposit_day(found[3]) if status == "late" and found and found[3] else on) - due
                        ).days,
                        "deposit_status": status,
                        "report": found[0] if found else None,
                        "deposited_at": found[3] if found else None,
                    }
                )
    return rows


#: The review state of a deposit: waiting for the regulator, accepted, returned, or settled by a
#: verification body's opinion instead.
REVIEW_STATES = ("pending", "accepted", "returned", "verifier")
_AWAITING = (
    ReportRevision.Status.SUBMITTED,
    ReportRevision.Status.CHECKS_RUNNING,
    ReportRevision.Status.IN_VERIFICATION,
)


def deposit_review(report: Report, revision: ReportRevision) -> dict[str, Any] | None:
    """``{status, comment, by, at}`` of the regulator's review of a deposited monthly revision; None for
    an annual report or a draft. Reads the review prefetched by :func:`mrv.selectors.reports.report_list`
    when there is one (``revisions__deposit_review``)."""
    if report.month is None or revision.status == ReportRevision.Status.DRAFT:
        return None
    review = getattr(revision, "deposit_review", None)  # a missing one-to-one raises an AttributeError
    if review is not None:
        return {
            "status": review.decision,
            "comment": review.comment,
            "by": review.reviewed_by.username,
            "at": review.reviewed_at,
        }
    status = "pending" if revision.status in _AWAITING else "verifier"
    return {"status": status, "comment": "", "by": None, "at": None}


# -- deposit compliance: GET /api/v1/aggregates/deposits/ and the dashboard's panel ---------------------------
COMPLIANCE_GROUPS = ("province", "sector", "facility")
COMPLIANCE_COUNTS = ("expected", "on_time", "late", "missing", "accepted", "returned")


def _month_states(
    *, user: AbstractBaseUser, year: int, on: date
) -> tuple[list[Any], dict[tuple[int, int], tuple[str, str | None]]]:
    """The facilities ``user`` may see, and for each (facility, month) of ``year`` its deposit status on
    ``on`` (:func:`status_of`) and its review decision by then (``accepted``, ``returned`` or None).

    Three queries whatever the number of facilities and months: the facilities, the first submissions
    (the deposits), and the reviews of the latest deposited revisions."""
    facilities = list(facilities_visible_to(user).order_by("name", "id"))
    ids = [f.pk for f in facilities]
    deposited: dict[tuple[int, int], tuple[str, str, datetime | None]] = {}
    firsts = ReportRevision.objects.filter(
        report__facility__in=ids, report__year=year, report__month__isnull=False, number=1
    ).exclude(status=ReportRevision.Status.DRAFT)
    for facility_id, month, methodology, version, at in firsts.values_list(
        "report__facility_id", "report__month", "methodology", "methodology_version", "submitted_at"
    ):
        deposited[(facility_id, month)] = (methodology, version, at)
    # the review of each report's latest deposited revision (a revision under review has none yet)
    latest: dict[tuple[int, int], tuple[int, str | None, datetime | None]] = {}
    revisions = ReportRevision.objects.filter(
        report__facility__in=ids, report__year=year, report__month__isnull=False
    ).exclude(status=ReportRevision.Status.DRAFT)
    for facility_id, month, number, decision, reviewed_at in revisions.values_list(
        "report__facility_id",
        "report__month",
        "number",
        "deposit_review__decision",
        "deposit_review__reviewed_at",
    ):
        key = (facility_id, month)
        if key not in latest or latest[key][0] < number:
            latest[key] = (number, decision, reviewed_at)
    default_rule = due_rule(DEFAULT_METHODOLOGY)
    states: dict[tuple[int, int], MonthState] = {}
    for facility in facilities:
        for month in range(1, 13):
            key = (facility.pk, month)
            found = deposited.get(key)
            rule = due_rule(found[0], found[1]) if found else default_rule
            due = due_date(year, month, rule)
            status = status_of(due=due, deposited_at=found[2] if found else None, on=on)
            _number, decision, reviewed_at = latest.get(key, (0, None, None))
            made = status in ("on_time", "late")
            reviewed = (
                decision if made and reviewed_at is not None and deposit_day(reviewed_at) <= on else None
            )
            states[key] = MonthState(status=status, expected=on > due, review=reviewed)
    return facilities, states


def deposit_compliance(
    *, user: AbstractBaseUser, year: int, group_by: list[str], on: date | None = None
) -> dict[str, Any]:
    """Deposit compliance of ``year`` on ``on`` (default: today, Beijing time), per group of
    ``group_by`` (any of :data:`COMPLIANCE_GROUPS`; none: one row), over the facilities ``user`` may see
    (every facility the service knows: it records no opening or closing date of a facility).

    Each row: ``expected`` the facility-months whose due date has passed on ``on``; of those ``on_time``
    and ``late`` (deposited by / after the due date) and ``missing`` (not deposited by ``on``), so that
    ``expected = on_time + late + missing`` (a month deposited early, before it is due, counts once it
    is due); ``accepted`` and ``returned``: the deposits of the year whose latest deposited revision the
    regulator had accepted / returned by ``on``. Facilities are grouped by their sector and province
    now; the facility rows carry ``facility_name``."""
    on = on or today()
    facilities, states = _month_states(user=user, year=year, on=on)
    keys = [name for name in COMPLIANCE_GROUPS if name in group_by]
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    totals: dict[str, Any] = dict.fromkeys(COMPLIANCE_COUNTS, 0)
    for facility in facilities:
        values = {"province": facility.province, "sector": facility.sector, "facility": facility.pk}
        key = tuple(values[name] for name in keys)
        row = groups.get(key)
        if row is None:
            row = {name: values[name] for name in keys}
            if "facility" in keys:
                row["facility_name"] = facility.name
            row.update(dict.fromkeys(COMPLIANCE_COUNTS, 0))
            groups[key] = row
        for month in range(1, 13):
            for name in states[(facility.pk, month)].counted():
                row[name] += 1
                totals[name] += 1
    rows = sorted(groups.values(), key=lambda r: tuple(r[name] for name in keys))
    return {"year": year, "as_of": on, "group_by": keys, "results": rows, "totals": totals}


@dataclass(frozen=True)
class MonthState:
    """One facility-month on the day compliance is judged: its deposit status (:func:`status_of`),
    whether it is due by then, and the regulator's review decision by then (None: none)."""

    status: str
    expected: bool
    review: str | None

    def counted(self) -> list[str]:
        """The compliance counts this month adds one to."""
        names = []
        if self.expected:
            names.append("expected")
            names.append("missing" if self.status == "overdue" else self.status)
        if self.review is not None:
            names.append(self.review)
        return names


def compliance_table(answer: Mapping[str, Any], *, generated_at: str = "") -> dict[str, Any]:
    """The compliance answer as a flat table (CSV: the JSON's keys and counts, a TOTAL row last) and a
    workbook (XLSX: the table with province names, and a sheet describing the query)."""
    keys = list(answer["group_by"])
    if "facility" in keys:
        keys.insert(keys.index("facility") + 1, "facility_name")
    if keys:  # one row per group, then a TOTAL row
        rows = [*answer["results"], {**dict.fromkeys(keys, ""), **answer["totals"], keys[0]: "TOTAL"}]
    else:  # no groups: the one row is the total (a second, unlabelled copy would be summed twice)
        rows = [dict(answer["totals"])]
    columns = [*keys, *COMPLIANCE_COUNTS]
    table_rows = [{name: row.get(name) for name in columns} for row in rows]
    sheet_keys = [*keys]
    if "province" in sheet_keys:
        sheet_keys.insert(sheet_keys.index("province") + 1, "province_name")
    sheet_rows = [
        {**row, "province_name": PROVINCES.get(str(row.get("province") or ""), "")} for row in table_rows
    ]
    query = [
        ("source", "GET /api/v1/aggregates/deposits/ (the same counts as its JSON and CSV)"),
        ("generated at", generated_at),
        ("year", str(answer["year"])),
        ("as of", answer["as_of"].isoformat()),
        ("group_by", ", ".join(answer["group_by"]) or "(none: one row)"),
        ("expected", "facility-months whose due date (month end + deposit_due_days) had passed"),
        ("on_time / late / missing", "of the expected: deposited by / after the due date, not deposited"),
        ("accepted / returned", "deposits of the year the regulator had accepted / returned"),
    ]
    return {
        "columns": columns,
        "rows": table_rows,
        "filename": f"mrv-deposits-{answer['year']}",
        "sheets": [
            {"title": "Deposits", "columns": [*sheet_keys, *COMPLIANCE_COUNTS], "rows": sheet_rows},
            {
                "title": "Query",
                "columns": ["item", "value"],
                "rows": [{"item": item, "value": value} for item, value in query],
            },
        ],
    }


def accepted_monthly(*, facility_id: int, year: int) -> AcceptedMonthly:
    """The activity of ``facility_id``'s accepted monthly deposits of ``year`` (each month's latest
    accepted revision), summed per line ``(ref, source)`` for the annual report's ``monthly_sum`` check.
    Two queries and one engine calculation per accepted month."""
    reviews = (
        DepositReview.objects.filter(
            decision=DepositReview.Decision.ACCEPTED,
            revision__report__facility_id=facility_id,
            revision__report__year=year,
            revision__report__month__isnull=False,
        )
        .select_related("revision__report")
        .order_by("revision__report__month", "-revision__number")
    )
    revisions: dict[int, ReportRevision] = {}
    for review in reviews:
        month = review.revision.report.month
        assert month is not None
        revisions.setdefault(month, review.revision)
    lines: dict[int, list[Any]] = {revision.pk: [] for revision in revisions.values()}
    for revision_id, inputs in (
        ActivityLine.objects.filter(revision__in=list(lines))
        .order_by("revision_id", "index")
        .values_list("revision_id", "inputs")
    ):
        lines[revision_id].append(inputs)
    sums: dict[tuple[str, str], checks.Activity] = {}
    for revision in revisions.values():
        calculation = revision_calculation(
            report=revision.report, revision=revision, lines=lines[revision.pk]
        )
        checks.add_activity(sums, list(calculation.lines))
    return AcceptedMonthly(months=sorted(revisions), sums=sums)

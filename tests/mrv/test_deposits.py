"""Monthly deposits (issue 11): a monthly report's due date (month end + the methodology's
deposit_due_days), late or on time, and the regulator's list of overdue deposits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from accounting import methodologies
from mrv.selectors import deposits
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db


def monthly(world: World, month: int, *, submit: bool = True, year: int = 2024) -> dict[str, Any]:
    client = world.client("operator_a")
    body = {"facility": world.facility_a.pk, "year": year, "month": month, "lines": plausible_cement()}
    created = client.post("/api/v1/reports/", body, format="json")
    assert created.status_code == 201, created.content
    if submit:
        assert (
            client.post(
                f"/api/v1/reports/{created.json()['id']}/submit/", {"certify": True}, format="json"
            ).status_code
            == 202
        )
    return client.get(f"/api/v1/reports/{created.json()['id']}/").json()


def test_the_due_days_are_a_versioned_value_of_the_methodology_read_as_40_when_a_version_has_none() -> None:
    latest = methodologies.get("cn-mee-2024", "2024.2").factor(deposits.DUE_DAYS_PATH)
    assert latest is not None and latest.value == 40 and latest.unit == "d"
    assert deposits.due_rule("cn-mee-2024", "2024.2") == deposits.DueRule(40, "cn-mee-2024@2024.2")
    assert methodologies.get("cn-mee-2024", "2024.1").factor(deposits.DUE_DAYS_PATH) is None
    assert deposits.due_rule("cn-mee-2024", "2024.1") == deposits.DueRule(40, "default")


def test_a_january_report_submitted_after_its_due_date_is_late(world: World) -> None:
    report = monthly(world, 1)
    # 31 January 2024 + 40 days; submitted today (years later)
    assert (report["due_date"], report["late"], report["deposit_status"]) == ("2024-03-11", True, "late")
    assert (report["due_days"], report["due_days_source"]) == (40, "cn-mee-2024@2024.2")
    assert report["deposited_at"] == report["submitted_at"]
    # the list shows the same, and a revision keeps the first deposit's date
    listed = world.client("operator_a").get("/api/v1/reports/", {"year": 2024}).json()["results"][0]
    assert (listed["due_date"], listed["late"]) == ("2024-03-11", True)


def test_an_annual_report_has_no_deposit_due_date(world: World) -> None:
    client = world.client("operator_a")
    body = {"facility": world.facility_a.pk, "year": 2024, "lines": plausible_cement()}
    report = client.post("/api/v1/reports/", body, format="json").json()
    assert (report["due_date"], report["late"], report["deposit_status"]) == (None, None, None)


def test_a_deposit_on_the_due_date_in_beijing_time_is_on_time() -> None:
    due = date(2024, 3, 11)
    # 15:59 UTC on the due date is 23:59 in Beijing: on time; 16:00 UTC is the next day there: late
    on_time = datetime(2024, 3, 11, 15, 59, tzinfo=UTC)
    late = datetime(2024, 3, 11, 16, 0, tzinfo=UTC)
    assert deposits.status_of(due=due, deposited_at=on_time, on=date(2024, 4, 1)) == "on_time"
    assert deposits.status_of(due=due, deposited_at=late, on=date(2024, 4, 1)) == "late"
    assert deposits.status_of(due=due, deposited_at=None, on=due) == "pending"
    assert deposits.status_of(due=due, deposited_at=None, on=date(2024, 3, 12)) == "overdue"
    # judged on a date before the deposit was made, it was not made yet
    assert deposits.status_of(due=due, deposited_at=late, on=date(2024, 3, 11)) == "pending"


def test_the_regulator_lists_overdue_deposits(world: World) -> None:
    monthly(world, 1)  # facility A's January, deposited late (today)
    monthly(world, 2, submit=False)  # a draft is not a deposit (and stays the operator's)
    regulator = world.client("regulator")
    answer = regulator.get("/api/v1/deposits/overdue/", {"year": 2024, "on": "2024-04-10"})
    assert answer.status_code == 200, answer.content
    rows = [
        (row["facility"], row["month"], row["deposit_status"], row["days_overdue"])
        for row in answer.json()["results"]
    ]
    # on 10 April 2024: January (due 11 March) and February (due 9 April) of both facilities were not deposited
    a, b = world.facility_a.pk, world.facility_b.pk
    assert sorted(rows) == sorted(
        [(a, 1, "overdue", 30), (a, 2, "overdue", 1), (b, 1, "overdue", 30), (b, 2, "overdue", 1)]
    )
    assert all(row["report"] is None for row in answer.json()["results"] if row["month"] == 2)
    # today: facility A's January was deposited, late; with include_late it is listed as such
    now = regulator.get("/api/v1/deposits/overdue/", {"year": 2024, "include_late": "true"}).json()
    late = [row for row in now["results"] if row["deposit_status"] == "late"]
    assert [(row["facility"], row["month"], row["due_date"]) for row in late] == [(a, 1, "2024-03-11")]
    assert now["count"] == 24  # 2 facilities x 12 months: 23 never deposited, 1 late
    assert world.client("operator_a").get("/api/v1/deposits/overdue/", {"year": 2024}).status_code == 403
    refused = regulator.get("/api/v1/deposits/overdue/")
    assert refused.status_code == 400 and refused.json()["errors"][0]["pointer"] == "/query/year"

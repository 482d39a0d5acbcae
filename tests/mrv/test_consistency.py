"""Every figure the API gives is formatted one way (presented: no run of trailing zeros such as
``"150.000000000"``), report outputs nest no ``totals.totals``, and verification jobs carry the
report's month."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from mrv.models import VerificationJob
from mrv.services.verification import checks_run
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db

#: A decimal figure with a trailing zero after its point: what a DecimalField read back looks like.
UNPRESENTED = re.compile(r"^-?[0-9]+\.[0-9]*0$")


def submit(
    world: World, *, month: int | None = None, checks: bool = True
) -> tuple[dict[str, Any], VerificationJob]:
    client = world.client("operator_a")
    body = {"facility": world.facility_a.pk, "year": 2024, "lines": plausible_cement()}
    if month is not None:
        body["month"] = month
    report = client.post("/api/v1/reports/", body, format="json")
    assert report.status_code == 201, report.content
    assert (
        client.post(
            f"/api/v1/reports/{report.json()['id']}/submit/", {"certify": True}, format="json"
        ).status_code
        == 202
    )
    job = VerificationJob.objects.get(revision__report_id=report.json()["id"], kind="verification")
    if checks:
        checks_run(job_id=job.pk)
    return report.json(), job


def figures(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string of a JSON document with its path, but for what is echoed as given: the activity
    lines and the values each line result used (``parameters``)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in ("lines", "parameters") or not isinstance(value, (list, dict)):
                yield from figures(value, f"{path}/{key}")
            elif key == "lines" and isinstance(value, list) and value and "co2e" in value[0]:
                yield from figures(value, f"{path}/{key}")  # a calculation's per-line results
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from figures(value, f"{path}/{index}")
    elif isinstance(node, str):
        yield path, node


def test_every_figure_is_presented_the_same_way(world: World) -> None:
    report, job = submit(world)
    verifier = world.client("verifier_a")
    url = f"/api/v1/verification-jobs/{job.pk}/"
    assert verifier.post(url + "claim/").status_code == 200
    raised = verifier.post(
        url + "findings/",
        {
            "code": "meter_gap",
            "severity": "warning",
            "detail": "a week of gas readings missing",
            "misstatement_co2e": "150",
        },
        format="json",
    )
    assert raised.status_code == 201, raised.content
    assert raised.json()["misstatement_co2e"] == "150"  # not "150.000000000" (the input's 9 places)
    detail = verifier.get(url).json()
    (finding,) = [f for f in detail["findings"] if f["code"] == "meter_gap"]
    assert finding["misstatement_co2e"] == "150"  # not "150.000000000000" (the column's 12 places)
    assert detail["materiality"]["misstatement_co2e"] == "150"

    regulator = world.client("regulator")
    documents = {
        "report": world.client("operator_a").get(f"/api/v1/reports/{report['id']}/").json(),
        "revisions": world.client("operator_a").get(f"/api/v1/reports/{report['id']}/revisions/").json(),
        "job": detail,
        "jobs": verifier.get("/api/v1/verification-jobs/").json(),
        "calculate": world.client("operator_a")
        .post(
            "/api/v1/calculate/", {"methodology": "cn-mee-2024", "lines": plausible_cement()}, format="json"
        )
        .json(),
        "aggregates": regulator.get("/api/v1/aggregates/?group_by=facility,gas").json(),
    }
    found = [(name, path, text) for name, body in documents.items() for path, text in figures(body)]
    assert any(path.endswith("/totals/total") for _, path, _ in found)  # the walk reaches the figures
    assert [(name, path, text) for name, path, text in found if UNPRESENTED.match(text)] == []


def test_a_stored_figure_in_a_finding_is_presented(world: World) -> None:
    _report, job = submit(world, checks=False)
    with connection.cursor() as cursor:  # tamper below the application, guards off
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE mrv_activityline SET co2e = 150 WHERE index = 1 AND revision_id = %s", [job.revision_id]
        )
        cursor.execute("SET session_replication_role = origin")
    checks_run(job_id=job.pk)
    mismatch = job.findings.get(code="recalculation_mismatch", pointer="/lines/1")
    assert mismatch.value == "150 tCO2e"  # the column holds 150.000000000000


def test_revisions_give_totals_and_intensity_as_the_report_does(world: World) -> None:
    report, _job = submit(world)
    client = world.client("operator_a")
    (revision,) = client.get(f"/api/v1/reports/{report['id']}/revisions/").json()["results"]
    assert "totals" not in revision["totals"]  # no totals.totals
    assert revision["totals"] == report["totals"] and revision["intensity"] == report["intensity"]
    assert revision["totals"]["total"] == report["totals"]["total"]


@pytest.mark.parametrize("month", [7, None])
def test_verification_jobs_carry_the_reports_month(world: World, month: int | None) -> None:
    report, job = submit(world, month=month)
    assert report["month"] == month
    verifier = world.client("verifier_a")
    assert verifier.get(f"/api/v1/verification-jobs/{job.pk}/").json()["month"] == month
    listed = verifier.get("/api/v1/verification-jobs/").json()["results"]
    assert [(j["id"], j["year"], j["month"]) for j in listed] == [(job.pk, 2024, month)]

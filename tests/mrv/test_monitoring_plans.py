"""Monitoring plans (issue 11): drafted, submitted, approved or returned; immutable once approved (API and
database); the plan in force on a date; reports checked against it (findings citing the plan version)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from mrv.domain import checks
from mrv.models import AuditEvent, MonitoringPlan, VerificationJob
from mrv.services.verification import checks_run
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_cement

pytestmark = pytest.mark.django_db


def parameter(determination: str, method: str = "GB/T 213 lab analysis per batch") -> dict[str, Any]:
    return {
        "determination": determination,
        "method": method,
        "instrument": "bomb calorimeter",
        "frequency": "batch",
        "uncertainty_percent": "1.5",
        "tier": 3,
        "missing_data_rule": "the month's lowest measured value",
    }


SOURCES = [
    {"ref": "clinker", "source": "clinker_carbonate", "parameters": {"cao_fraction": parameter("measured")}},
    {
        "ref": "coal",
        "source": "fuel_combustion",
        "description": "kiln coal",
        "parameters": {"ncv": parameter("measured"), "carbon_content": parameter("measured")},
    },
    {"ref": "grid", "source": "electricity", "parameters": {"quantity": parameter("measured")}},
    {"ref": "out", "source": "production", "parameters": {"quantity": parameter("measured")}},
    {"ref": "kiln-gas", "source": "fuel_combustion", "parameters": {"ncv": parameter("default")}},
]


def body(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "facility": world.facility_a.pk,
        "valid_from": "2024-01-01",
        "methodology": "cn-mee-2024",
        "sources": copy.deepcopy(SOURCES),
        "quality_assurance": "monthly calibration of the belt scales",
        **extra,
    }


def approved_plan(world: World, **extra: Any) -> dict[str, Any]:
    operator, regulator = world.client("operator_a"), world.client("regulator")
    created = operator.post("/api/v1/monitoring-plans/", body(world, **extra), format="json")
    assert created.status_code == 201, created.content
    plan = created.json()
    assert operator.post(f"/api/v1/monitoring-plans/{plan['id']}/submit/").status_code == 200
    approved = regulator.post(
        f"/api/v1/monitoring-plans/{plan['id']}/approve/", {"comment": "ok"}, format="json"
    )
    assert approved.status_code == 200, approved.content
    return approved.json()


def test_a_plan_is_drafted_submitted_and_approved_with_every_step_audited(world: World) -> None:
    operator, regulator = world.client("operator_a"), world.client("regulator")
    created = operator.post("/api/v1/monitoring-plans/", body(world), format="json")
    assert created.status_code == 201, created.content
    plan = created.json()
    assert (plan["version"], plan["status"], plan["digest"]) == (1, "draft", "")
    coal = plan["sources"][1]["parameters"]["carbon_content"]
    assert coal == {**parameter("measured"), "tier": "3"}
    # drafts are the operator's alone
    assert regulator.get(f"/api/v1/monitoring-plans/{plan['id']}/").status_code == 404
    plan_events = {"object_type": "monitoring_plan", "object_id": str(plan["id"])}
    assert regulator.get("/api/v1/audit-events/", plan_events).json()["count"] == 0
    assert world.client("verifier_a").get("/api/v1/monitoring-plans/").json()["count"] == 0
    # the operator may edit its draft; the regulator may not approve a draft
    edited = operator.patch(
        f"/api/v1/monitoring-plans/{plan['id']}/", {"valid_from": "2024-02-01"}, format="json"
    )
    assert edited.status_code == 200 and edited.json()["valid_from"] == "2024-02-01"
    submitted = operator.post(f"/api/v1/monitoring-plans/{plan['id']}/submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert len(submitted.json()["digest"]) == 64
    assert operator.post(f"/api/v1/monitoring-plans/{plan['id']}/approve/").status_code == 403
    approved = regulator.post(
        f"/api/v1/monitoring-plans/{plan['id']}/approve/", {"comment": "fine"}, format="json"
    )
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["decided_by"]) == (
        "approved",
        world.regulator.user.username,
    )
    # the facility's verifier reads it; another operator does not
    assert world.client("verifier_a").get(f"/api/v1/monitoring-plans/{plan['id']}/").status_code == 200
    assert world.client("operator_b").get(f"/api/v1/monitoring-plans/{plan['id']}/").status_code == 404
    assert regulator.get("/api/v1/audit-events/", plan_events).json()["count"] == 4
    actions = list(
        AuditEvent.objects.filter(object_type="monitoring_plan", object_id=str(plan["id"]))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["plan.create", "plan.update", "plan.submit", "plan.approve"]


def test_an_approved_plan_refuses_changes_through_the_api_and_in_the_database(world: World) -> None:
    plan = approved_plan(world)
    operator = world.client("operator_a")
    assert (
        operator.patch(
            f"/api/v1/monitoring-plans/{plan['id']}/", {"quality_assurance": "x"}, format="json"
        ).status_code
        == 409
    )
    assert operator.delete(f"/api/v1/monitoring-plans/{plan['id']}/").status_code == 409
    assert (
        world.client("regulator")
        .post(f"/api/v1/monitoring-plans/{plan['id']}/return/", {"comment": "again"}, format="json")
        .status_code
        == 409
    )
    for statement in (
        "UPDATE mrv_monitoringplan SET quality_assurance = 'rewritten' WHERE id = %s",
        "UPDATE mrv_monitoringplan SET comment = 'rewritten' WHERE id = %s",
        "UPDATE mrv_monitoringplan SET status = 'draft' WHERE id = %s",
        "DELETE FROM mrv_monitoringplan WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="approved"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [plan["id"]])
    assert (
        MonitoringPlan.objects.get(pk=plan["id"]).quality_assurance
        == "monthly calibration of the belt scales"
    )


def test_a_submitted_plan_is_frozen_in_the_database(world: World) -> None:
    operator = world.client("operator_a")
    plan = operator.post("/api/v1/monitoring-plans/", body(world), format="json").json()
    operator.post(f"/api/v1/monitoring-plans/{plan['id']}/submit/")
    with pytest.raises(DatabaseError, match="frozen"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE mrv_monitoringplan SET sources = '[]' WHERE id = %s", [plan["id"]])


def test_a_returned_plan_needs_a_comment_and_a_new_version_takes_over_from_its_valid_from(
    world: World,
) -> None:
    first = approved_plan(world)
    operator, regulator = world.client("operator_a"), world.client("regulator")
    second = operator.post(
        "/api/v1/monitoring-plans/", body(world, valid_from="2024-07-01"), format="json"
    ).json()
    assert second["version"] == 2
    operator.post(f"/api/v1/monitoring-plans/{second['id']}/submit/")
    refused = regulator.post(f"/api/v1/monitoring-plans/{second['id']}/return/", {}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["pointer"] == "/comment"
    returned = regulator.post(
        f"/api/v1/monitoring-plans/{second['id']}/return/", {"comment": "name the meters"}, format="json"
    )
    assert returned.json()["status"] == "returned"
    third = approved_plan(world, valid_from="2024-07-01")
    assert third["version"] == 3
    url = f"/api/v1/facilities/{world.facility_a.pk}/monitoring-plan/"
    assert world.client("verifier_a").get(url, {"on": "2024-06-30"}).json()["version"] == first["version"]
    assert world.client("verifier_a").get(url, {"on": "2024-07-01"}).json()["version"] == 3
    assert operator.get(url, {"on": "2023-12-31"}).status_code == 404


def test_invalid_plans_are_refused_with_every_error_pointed(world: World) -> None:
    sources = [
        {
            "ref": "coal",
            "source": "anode_effect",
            "parameters": {"ncv": {"determination": "guessed", "frequency": "batch"}},
        },
        {"ref": "coal", "source": "fuel_combustion", "colour": "red"},
    ]
    refused = world.client("operator_a").post(
        "/api/v1/monitoring-plans/", body(world, sources=sources), format="json"
    )
    assert refused.status_code == 400
    pointers = {error["pointer"] for error in refused.json()["errors"]}
    assert pointers == {
        "/sources/0/source",
        "/sources/0/parameters/ncv/determination",
        "/sources/0/parameters/ncv/method",
        "/sources/1/ref",
        "/sources/1/colour",
    }
    # only an operator drafts; only for a facility of its own
    assert (
        world.client("regulator").post("/api/v1/monitoring-plans/", body(world), format="json").status_code
        == 403
    )
    other = world.client("operator_b").post("/api/v1/monitoring-plans/", body(world), format="json")
    assert other.status_code == 400 and other.json()["errors"][0]["pointer"] == "/facility"


def deviating_lines() -> list[dict[str, Any]]:
    activity = plausible_cement()
    coal = next(line for line in activity if line["ref"] == "coal")
    del coal["carbon_content"]  # the plan says measured: left to the default
    activity.append(
        {
            "ref": "diesel",
            "source": "fuel_combustion",
            "fuel": "diesel",
            "quantity": {"value": "50", "unit": "t"},
        }
    )
    return activity


def test_a_report_deviating_from_the_plan_gets_the_three_findings_citing_the_plan_version(
    world: World,
) -> None:
    plan = approved_plan(world)
    operator = world.client("operator_a")
    report = operator.post(
        "/api/v1/reports/",
        {"facility": world.facility_a.pk, "year": 2024, "lines": deviating_lines()},
        format="json",
    ).json()
    # the draft's checks already show them
    draft = operator.get(f"/api/v1/reports/{report['id']}/checks/").json()
    assert {f["code"] for f in draft["findings"]} >= {
        "source_not_in_plan",
        "plan_source_missing",
        "plan_deviation",
    }
    assert (
        operator.post(f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    job = VerificationJob.objects.get(revision__report_id=report["id"])
    checks_run(job_id=job.pk)
    shown = world.client("verifier_a").get(f"/api/v1/verification-jobs/{job.pk}/").json()
    assert shown["monitoring_plan"] == plan["id"]
    found = {f["code"]: f for f in shown["findings"] if f["code"] in checks.PLAN_CODES}
    label = "monitoring plan v1 (valid from 2024-01-01)"
    assert found["source_not_in_plan"]["line_ref"] == "diesel"
    assert found["source_not_in_plan"]["pointer"] == "/lines/4/ref"
    assert found["plan_source_missing"]["line_ref"] == "kiln-gas"
    assert found["plan_deviation"]["pointer"] == "/lines/1/carbon_content"
    assert found["plan_deviation"]["expected"] == f"measured ({label})"
    assert all(label in f["detail"] or label in f["expected"] for f in found.values())
    assert {f["severity"] for f in found.values()} == {"warning"}


def test_a_report_conforming_to_the_plan_gets_no_plan_finding_and_no_plan_no_check(world: World) -> None:
    operator = world.client("operator_a")
    report = operator.post(
        "/api/v1/reports/",
        {"facility": world.facility_a.pk, "year": 2024, "lines": deviating_lines()},
        format="json",
    ).json()
    # no approved plan: no plan checks
    findings = operator.get(f"/api/v1/reports/{report['id']}/checks/").json()["findings"]
    assert not [f for f in findings if f["code"] in checks.PLAN_CODES]
    sources = [source for source in SOURCES if source["ref"] != "kiln-gas"]
    approved_plan(world, sources=sources)
    conforming = plausible_cement()
    operator.patch(f"/api/v1/reports/{report['id']}/", {"lines": conforming}, format="json")
    findings = operator.get(f"/api/v1/reports/{report['id']}/checks/").json()["findings"]
    assert not [f for f in findings if f["code"] in checks.PLAN_CODES]

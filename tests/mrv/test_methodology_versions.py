"""Methodology versions: a correction is a new version; reports stored under the old one keep their figures.

cn-mee-2024 2024.1 carried a diesel NCV of 43.33 GJ/t; 2024.2 publishes the corrected table (42.652 GJ/t,
GB/T 32150-2015 Appendix A). The expected figures below are the published formula with the published
values: ``CO2 = quantity × NCV × carbon content × oxidation × 44/12``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounting import methodologies
from mrv.models import AuditEvent, ReportRevision, VerificationJob
from mrv.services.verification import checks_run
from tests.mrv.factories import World
from tests.mrv.verification_helpers import plausible_cement, q

pytestmark = pytest.mark.django_db

DIESEL_T = Decimal(500)
C_TO_CO2 = Decimal(44) / Decimal(12)


def diesel_co2(ncv: str) -> Decimal:
    """500 t of diesel at the bundle's defaults: carbon content 0.02020 tC/GJ, oxidation 0.98."""
    return DIESEL_T * Decimal(ncv) * Decimal("0.02020") * Decimal("0.98") * C_TO_CO2


def with_default_diesel() -> list[dict[str, Any]]:
    return [
        *plausible_cement(),
        {"ref": "diesel", "source": "fuel_combustion", "fuel": "diesel", "quantity": q("500", "t")},
    ]


def create(world: World, **extra: Any) -> dict[str, Any]:
    body = {"facility": world.facility_a.pk, "year": 2024, "lines": with_default_diesel(), **extra}
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def diesel_result(report: dict[str, Any]) -> dict[str, Any]:
    return next(result for result in report["results"] if result["ref"] == "diesel")


def parameter(result: dict[str, Any], name: str) -> dict[str, Any]:
    parameters: dict[str, Any] = result["parameters"]
    return parameters[name]


def agrees(actual: str, expected: Decimal) -> bool:
    return abs(Decimal(actual) - expected) <= Decimal("0.000002")  # figures are shown to 6 places


def test_both_versions_are_published_and_listed_with_what_changed(world: World) -> None:
    listed = world.client("operator_a").get("/api/v1/methodologies/").json()["results"]
    cn = {m["version"]: m for m in listed if m["code"] == "cn-mee-2024"}
    assert set(cn) >= {"2024.1", "2024.2"}
    assert cn["2024.2"]["supersedes"] == "2024.1" and cn["2024.2"]["latest"] is True
    assert cn["2024.1"]["latest"] is False and cn["2024.1"]["changes"] == []
    assert any("diesel (42.652)" in change for change in cn["2024.2"]["changes"])
    assert cn["2024.2"]["default"] is True and cn["2024.1"]["default"] is False

    client = world.client("operator_a")
    old = client.get("/api/v1/methodologies/cn-mee-2024/?version=2024.1").json()
    new = client.get("/api/v1/methodologies/cn-mee-2024/").json()
    assert old["factors"]["fuels"]["diesel"]["ncv"]["value"] == "43.33"
    assert new["version"] == "2024.2" and new["factors"]["fuels"]["diesel"]["ncv"]["value"] == "42.652"
    missing = client.get("/api/v1/methodologies/cn-mee-2024/?version=1999.9")
    assert missing.status_code == 404 and "2024.1" in missing.json()["detail"]


def test_a_new_report_uses_the_corrected_default_diesel_ncv(world: World) -> None:
    report = create(world)
    assert (report["methodology"], report["methodology_version"]) == ("cn-mee-2024", "2024.2")
    result = diesel_result(report)
    ncv = parameter(result, "ncv")
    assert (ncv["value"], ncv["origin"]) == ("42.652", "default")
    assert agrees(result["gases"]["CO2"], diesel_co2("42.652"))


def test_an_unknown_version_is_refused_with_a_pointer(world: World) -> None:
    body = {"facility": world.facility_a.pk, "year": 2024, "lines": with_default_diesel()}
    response = world.client("operator_a").post(
        "/api/v1/reports/", {**body, "methodology_version": "2023.9"}, format="json"
    )
    assert response.status_code == 400
    assert [e["pointer"] for e in response.json()["errors"]] == ["/methodology_version"]


def test_a_report_stored_under_the_old_version_keeps_its_figures(world: World) -> None:
    report = create(world, methodology_version="2024.1")
    assert report["methodology_version"] == "2024.1"
    old_diesel = diesel_co2("43.33")
    assert agrees(diesel_result(report)["gases"]["CO2"], old_diesel)
    operator = world.client("operator_a")

    # a draft edit keeps the draft's version
    edited = operator.patch(
        f"/api/v1/reports/{report['id']}/", {"lines": with_default_diesel()}, format="json"
    ).json()
    assert edited["methodology_version"] == "2024.1" and agrees(
        diesel_result(edited)["gases"]["CO2"], old_diesel
    )

    assert (
        operator.post(f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json").status_code
        == 202
    )
    job = VerificationJob.objects.get(revision__report_id=report["id"], kind="verification")
    checks_run(job_id=job.pk)
    job.refresh_from_db()
    # the independent recalculation runs under the stored version: no mismatch
    assert job.recalculation["methodology_version"] == "2024.1" and job.recalculation["difference"] == "0"
    assert not job.findings.filter(code="recalculation_mismatch").exists()

    shown = operator.get(f"/api/v1/reports/{report['id']}/").json()
    assert shown["methodology_version"] == "2024.1" and shown["totals"] == report["totals"]
    assert agrees(diesel_result(shown)["gases"]["CO2"], old_diesel)
    assert ReportRevision.objects.get(report_id=report["id"]).methodology_version == "2024.1"


def test_the_regulator_recalculates_an_old_report_under_the_new_version(world: World) -> None:
    report = create(world, methodology_version="2024.1")
    assert (
        world.client("operator_a")
        .post(f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json")
        .status_code
        == 202
    )
    response = world.client("regulator").post(
        f"/api/v1/reports/{report['id']}/recalculate/", {"methodology": "cn-mee-2024"}, format="json"
    )
    assert response.status_code == 202, response.content
    job = VerificationJob.objects.get(pk=response.json()["id"])
    assert job.target_methodology_version == methodologies.get("cn-mee-2024").version == "2024.2"
    checks_run(job_id=job.pk)
    job.refresh_from_db()
    figures = job.recalculation
    assert (figures["stored_methodology_version"], figures["methodology_version"]) == ("2024.1", "2024.2")
    # only the default diesel line changes between the two versions
    assert agrees(figures["difference"], diesel_co2("42.652") - diesel_co2("43.33"))
    event = AuditEvent.objects.get(action="job.recalculation", object_id=str(job.pk))
    assert event.data["version"] == "2024.2"


def test_the_engine_calculates_under_a_named_version(world: World) -> None:
    client = world.client("operator_a")
    body = {
        "lines": [{"ref": "diesel", "source": "fuel_combustion", "fuel": "diesel", "quantity": q("500", "t")}]
    }
    old = client.post("/api/v1/calculate/", {**body, "methodology_version": "2024.1"}, format="json").json()
    new = client.post("/api/v1/calculate/", body, format="json").json()
    assert agrees(old["lines"][0]["gases"]["CO2"], diesel_co2("43.33"))
    assert agrees(new["lines"][0]["gases"]["CO2"], diesel_co2("42.652"))

"""Role × object matrix: another organisation's object is neither listed, nor readable, nor writable.

Objects of operator A (its organisation, its facility, its submitted report) are probed by every
role. Outsiders (operator B, verifier B) get 404 on every object endpoint, never 403, and never see
the objects in lists; insiders (operator A, verifier A who verifies the facility, the regulator) can
read them.
"""

from __future__ import annotations

from typing import Any

import pytest

from mrv.models import Membership
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import lines, report_body

pytestmark = pytest.mark.django_db

OUTSIDERS = ("operator_b", "verifier_b")
INSIDERS = ("operator_a", "verifier_a", "regulator")


@pytest.fixture
def owned(world: World) -> dict[str, Any]:
    client = world.client("operator_a")
    report = client.post("/api/v1/reports/", report_body(world.facility_a), format="json").json()
    client.post(f"/api/v1/reports/{report['id']}/submit/", {"certify": True}, format="json")
    organisation = Membership.objects.get(user=world.operator_a.user).organisation
    return {"report": report["id"], "facility": world.facility_a.pk, "organisation": organisation.pk}


def object_requests(ids: dict[str, Any]) -> list[tuple[str, str, Any]]:
    report, facility, organisation = ids["report"], ids["facility"], ids["organisation"]
    return [
        ("get", f"/api/v1/organisations/{organisation}/", None),
        ("get", f"/api/v1/facilities/{facility}/", None),
        ("patch", f"/api/v1/facilities/{facility}/", {"name": "renamed"}),
        ("get", f"/api/v1/reports/{report}/", None),
        ("patch", f"/api/v1/reports/{report}/", {"lines": lines("cement")}),
        ("delete", f"/api/v1/reports/{report}/", None),
        ("post", f"/api/v1/reports/{report}/submit/", None),
        ("post", f"/api/v1/reports/{report}/revise/", None),
        ("get", f"/api/v1/reports/{report}/revisions/", None),
        ("post", f"/api/v1/reports/{report}/lines/import/", None),
    ]


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_get_404_on_every_object_endpoint(world: World, owned: dict[str, Any], role: str) -> None:
    client = world.client(role)
    for method, url, body in object_requests(owned):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (role, method, url, response.status_code)
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_do_not_see_the_objects_in_lists(world: World, owned: dict[str, Any], role: str) -> None:
    client = world.client(role)
    listed = {
        "organisations": [o["id"] for o in client.get("/api/v1/organisations/").json()["results"]],
        "facilities": [f["id"] for f in client.get("/api/v1/facilities/").json()["results"]],
        "reports": [r["id"] for r in client.get("/api/v1/reports/").json()["results"]],
    }
    assert owned["organisation"] not in listed["organisations"]
    assert owned["facility"] not in listed["facilities"]
    assert owned["report"] not in listed["reports"]
    events = client.get(f"/api/v1/audit-events/?object_type=report&object_id={owned['report']}").json()
    assert events["results"] == []
    # nor can they create a report for it
    response = client.post("/api/v1/reports/", report_body(world.facility_a, year=2023), format="json")
    assert response.status_code in (400, 403)
    assert response.status_code != 201


@pytest.mark.parametrize("role", INSIDERS)
def test_insiders_read_the_objects(world: World, owned: dict[str, Any], role: str) -> None:
    client = world.client(role)
    assert client.get(f"/api/v1/facilities/{owned['facility']}/").status_code == 200
    assert client.get(f"/api/v1/reports/{owned['report']}/").status_code == 200
    assert owned["report"] in [r["id"] for r in client.get("/api/v1/reports/").json()["results"]]
    events = client.get(f"/api/v1/audit-events/?object_type=report&object_id={owned['report']}").json()
    assert {e["action"] for e in events["results"]} >= {"report.create", "revision.submit"}


@pytest.mark.parametrize("role", ["verifier_a", "regulator"])
def test_insiders_without_the_right_role_get_403_on_writes(
    world: World, owned: dict[str, Any], role: str
) -> None:
    client = world.client(role)
    assert client.post(f"/api/v1/reports/{owned['report']}/revise/").status_code == 403
    assert client.delete(f"/api/v1/reports/{owned['report']}/").status_code == 403


def test_verifier_does_not_see_a_first_draft(world: World) -> None:
    report = (
        world.client("operator_a")
        .post("/api/v1/reports/", report_body(world.facility_a), format="json")
        .json()
    )
    assert world.client("verifier_a").get(f"/api/v1/reports/{report['id']}/").status_code == 404


def test_only_the_regulator_registers_organisations_and_facilities(world: World) -> None:
    body = {"name": "New Cement Co", "kind": "operator", "credit_code": "91350100M000100Y43"}
    assert world.client("operator_a").post("/api/v1/organisations/", body, format="json").status_code == 403
    created = world.client("regulator").post("/api/v1/organisations/", body, format="json")
    assert created.status_code == 201, created.content
    facility = {"name": "Kiln 2", "operator": created.json()["id"], "sector": "cement", "province": "CN-ZJ"}
    assert world.client("operator_a").post("/api/v1/facilities/", facility, format="json").status_code == 403
    assert world.client("regulator").post("/api/v1/facilities/", facility, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": "X", "kind": "operator", "credit_code": "91350100M000100Y44"}, "/credit_code"),
        ({"name": "X", "kind": "bank", "credit_code": "91350100M000100Y43"}, "/kind"),
    ],
)
def test_organisation_input_errors_point_at_the_field(
    world: World, body: dict[str, Any], pointer: str
) -> None:
    response = world.client("regulator").post("/api/v1/organisations/", body, format="json")
    assert response.status_code == 400
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


def test_facility_province_must_be_iso_3166_2_cn(world: World) -> None:
    operator = Membership.objects.get(user=world.operator_a.user).organisation
    body = {"name": "Kiln 3", "operator": operator.pk, "sector": "cement", "province": "CN-32"}
    response = world.client("regulator").post("/api/v1/facilities/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/province"

"""Every input that answered 500 in the security review of issue 18 now answers 4xx with a pointer.

On PostgreSQL (the review's database), through the API a client uses: the five unit strings that made
pint's parser (or a division by zero) raise, through ``POST /api/v1/calculate/`` and through report
create; a NUL character in a line's ``ref`` and in a unit (PostgreSQL refuses NUL in text: the request
must be refused before any write); a CSV cell over 128 KiB (the csv module's field limit) through the
import endpoint. Nothing is stored by a refused request. The parallel ``revise`` is in
tests/mrv/test_integrity.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from mrv.models import ActivityLine, Report
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import report_body

pytestmark = pytest.mark.django_db

#: The unit strings of the review, each of which answered 500.
HOSTILE_UNITS = ["t(", ")", "1/0", '"t"', "t**9**9**9"]
LINE = {"ref": "boiler", "source": "fuel_combustion", "fuel": "bituminous_coal"}


@pytest.fixture(autouse=True)
def _on_postgresql() -> None:
    assert connection.vendor == "postgresql", "these 500s were PostgreSQL's: run them there (make test)"


def problem(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    document = json.loads(response.content)
    assert document["status"] == status and document["errors"], document
    return document


def pointers(document: dict[str, Any]) -> list[str]:
    return [error["pointer"] for error in document["errors"]]


def post_json(client: Any, path: str, text: str) -> Any:
    """Post raw JSON text (a ``\\u0000`` escape must reach the parser as the client wrote it)."""
    return client.generic("POST", path, text.encode(), content_type="application/json")


@pytest.mark.parametrize("unit", HOSTILE_UNITS)
def test_hostile_unit_through_calculate_is_400_at_the_unit(world: World, unit: str) -> None:
    body = {"lines": [{**LINE, "quantity": {"value": "1000", "unit": unit}}]}
    response = world.client("operator_a").post("/api/v1/calculate/", body, format="json")
    assert "/lines/0/quantity/unit" in pointers(problem(response))


@pytest.mark.parametrize("unit", HOSTILE_UNITS)
def test_hostile_unit_through_report_create_is_400_at_the_unit_and_stores_nothing(
    world: World, unit: str
) -> None:
    body = report_body(world.facility_a)
    fuel = next(i for i, line in enumerate(body["lines"]) if line["source"] == "fuel_combustion")
    body["lines"][fuel]["quantity"]["unit"] = unit
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert f"/lines/{fuel}/quantity/unit" in pointers(problem(response))
    assert not Report.objects.filter(facility=world.facility_a).exists()


@pytest.mark.parametrize(
    ("where", "pointer"),
    [("ref", "/lines/0/ref"), ("unit", "/lines/0/quantity/unit")],
)
def test_nul_in_a_line_through_report_create_is_400_with_its_pointer(
    world: World, where: str, pointer: str
) -> None:
    body = report_body(world.facility_a)
    body["lines"] = [{**LINE, "quantity": {"value": "1000", "unit": "t"}}]
    text = json.dumps(body)
    text = (
        text.replace('"boiler"', '"boi\\u0000ler"')
        if where == "ref"
        else text.replace('"unit": "t"', '"unit": "t\\u0000"')
    )
    assert "\\u0000" in text
    response = post_json(world.client("operator_a"), "/api/v1/reports/", text)
    document = problem(response)
    assert pointers(document) == [pointer] and pointer in document["detail"], document
    assert not Report.objects.filter(facility=world.facility_a).exists()
    assert not ActivityLine.objects.exists()


def test_nul_in_a_calculate_line_is_400_with_its_pointer(world: World) -> None:
    text = json.dumps({"lines": [{**LINE, "quantity": {"value": "1000", "unit": "t"}}]})
    response = post_json(world.client("operator_a"), "/api/v1/calculate/", text.replace("boiler", "b\\u0000"))
    assert pointers(problem(response)) == ["/lines/0/ref"]


def test_a_csv_cell_over_128_kib_through_the_import_is_400_with_its_row(world: World) -> None:
    body = report_body(world.facility_a)
    body["lines"] = body["lines"][:1]
    created = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    report = created.json()["id"]
    cell = "x" * (128 * 1024 + 1)  # over the csv module's field limit (131,072 characters)
    content = f"ref,source,fuel,quantity,quantity_unit\n{cell},fuel_combustion,bituminous_coal,1,t\n".encode()
    response = world.client("operator_a").post(
        f"/api/v1/reports/{report}/lines/import/",
        {"file": SimpleUploadedFile("lines.csv", content)},
        format="multipart",
    )
    document = problem(response)
    assert "row 2" in json.dumps(document), document
    assert ActivityLine.objects.filter(revision__report_id=report).count() == 1  # the draft's line, untouched

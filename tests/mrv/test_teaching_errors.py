"""Errors that teach: each mistake a new user makes is answered with the fix (request and exact problem)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mrv.domain import linefiles
from tests.mrv.factories import World
from tests.mrv.reporting_helpers import lines

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

FUEL_FIELDS = (
    "biomass_fraction, carbon_content, direction, emission_factor, fuel, month, ncv, oxidation_factor, "
    "quantity, ref, source, uncertainty, unit"
)
NUMBER_RULE = "the decimal mark is '.' and digits are not grouped"


def invalid(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The 400 problem document of the engine's invalid input."""
    return {
        "type": "https://mrv.example/problems/invalid_input",
        "title": "Invalid input",
        "status": 400,
        "detail": f"{len(errors)} invalid field(s)",
        "code": "invalid_input",
        "errors": errors,
    }


def diesel(**fields: Any) -> dict[str, Any]:
    return {"source": "fuel_combustion", "fuel": "diesel", **fields}


def calculate(world: World, body: Any) -> Any:
    return world.client("operator_a").post("/api/v1/calculate/", body, format="json")


def test_an_unknown_field_lists_the_fields_of_its_line_kind(world: World) -> None:
    response = calculate(world, {"lines": [diesel(quantitiy={"value": "500", "unit": "t"})]})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == invalid(
        [
            {
                "pointer": "/lines/0/quantitiy",
                "code": "unknown_field",
                "detail": "'quantitiy' is not a field of fuel_combustion lines; did you mean 'quantity'? "
                f"their fields are: {FUEL_FIELDS}",
            }
        ]
    )


def test_every_missing_field_of_a_line_is_reported_at_once(world: World) -> None:
    response = calculate(
        world,
        {
            "sector": "cement",
            "lines": [
                {"source": "production"},
                {"source": "heat", "steam": {}},
            ],
        },
    )
    assert response.status_code == 400
    products = "alumina, aluminium_ingot, aluminium_liquid, bof_steel, carbon_anode, cement, clinker, coke, "
    products += "crude_steel, dri, eaf_steel, hot_metal, hot_rolled_steel, pellets, pig_iron, sinter"
    assert response.json() == invalid(
        [
            {
                "pointer": "/lines/0/product",
                "code": "required",
                "detail": f"product is required for this line: one of {products}",
            },
            {
                "pointer": "/lines/0/quantity",
                "code": "required",
                "detail": "quantity is required for this line",
            },
            {
                "pointer": "/lines/1/steam/mass",
                "code": "required",
                "detail": "mass is required for this line",
            },
            {
                "pointer": "/lines/1/steam/enthalpy",
                "code": "required",
                "detail": "enthalpy is required for this line",
            },
        ]
    )


def test_every_missing_field_of_a_serializer_is_reported_at_once(world: World) -> None:
    response = world.client("regulator").post("/api/v1/facilities/", {}, format="json")
    assert response.status_code == 400
    required = "This field is required."
    assert response.json() == {
        "type": "https://mrv.example/problems/invalid_input",
        "title": "Invalid input",
        "status": 400,
        "detail": "The request has 4 invalid fields; see errors.",
        "code": "invalid_input",
        "errors": [
            {"pointer": f"/{name}", "code": "required", "detail": required}
            for name in ("name", "operator", "sector", "province")
        ],
    }


def test_a_bearer_token_is_told_to_use_the_token_scheme(world: World, api_client: Any) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.operator_a.token}")
    response = api_client.get("/api/v1/reports/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "type": "https://mrv.example/problems/not_authenticated",
        "title": "Unauthorized",
        "status": 401,
        "detail": "Authorization: Bearer is not read by this API: send the same key as "
        "'Authorization: Token <key>'.",
        "code": "not_authenticated",
    }
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {world.operator_a.token}")
    assert api_client.get("/api/v1/reports/").status_code == 200  # the same key, with the word Token


def test_a_json_body_sent_as_a_form_says_so(world: World) -> None:
    body = json.dumps({"lines": [diesel(quantity={"value": "500", "unit": "t"})]})
    # what `curl -d '{...}'` sends: the body is JSON, the content type the form's default
    response = world.client("operator_a").post(
        "/api/v1/calculate/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json() == {
        "type": "https://mrv.example/problems/unsupported_media_type",
        "title": "Unsupported Media Type",
        "status": 415,
        "detail": "The body is JSON but was sent as application/x-www-form-urlencoded (what curl -d sends "
        "unless told otherwise): send it with the header 'Content-Type: application/json'.",
        "code": "unsupported_media_type",
    }


def test_a_json_body_sent_as_text_says_which_content_type_to_send(world: World) -> None:
    body = json.dumps({"lines": [diesel(quantity={"value": "500", "unit": "t"})]})
    response = world.client("operator_a").post("/api/v1/calculate/", body, content_type="text/plain")
    assert response.status_code == 415
    assert response.json() == {
        "type": "https://mrv.example/problems/unsupported_media_type",
        "title": "Unsupported Media Type",
        "status": 415,
        "detail": "The body's content type 'text/plain' is not one this endpoint reads (application/json, "
        "application/x-www-form-urlencoded, multipart/form-data): send the JSON body with the header "
        "'Content-Type: application/json'.",
        "code": "unsupported_media_type",
    }


def test_a_report_sent_as_text_is_told_to_send_json(world: World) -> None:
    body = json.dumps({"facility": world.facility_a.pk, "year": 2024})
    response = world.client("operator_a").post("/api/v1/reports/", body, content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "The body's content type 'text/plain' is not one this endpoint reads (application/json): send the "
        "JSON body with the header 'Content-Type: application/json'."
    )


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("1000,5", f"{NUMBER_RULE}: did you mean 1000.5?"),
        ("85,000", f"{NUMBER_RULE}: write 85000 if ',' groups thousands, or 85.000 if it is a decimal comma"),
        ("85 000", f"{NUMBER_RULE}: did you mean 85000?"),
        ("1.234.567,8", f"{NUMBER_RULE}: did you mean 1234567.8?"),
    ],
)
def test_decimal_commas_and_grouped_digits_are_refused_with_a_hint(
    world: World, value: str, hint: str
) -> None:
    response = calculate(world, {"lines": [diesel(quantity={"value": value, "unit": "t"})]})
    assert response.status_code == 400  # refused, never guessed
    assert response.json() == invalid(
        [
            {
                "pointer": "/lines/0/quantity/value",
                "code": "not_a_number",
                "detail": f"quantity: {value!r} is not a decimal number; {hint}",
            }
        ]
    )


def test_a_refused_unit_suggests_the_accepted_spelling(world: World) -> None:
    line = {"source": "electricity", "quantity": {"value": "95000000", "unit": "kwh"}}
    response = calculate(world, {"lines": [line]})
    assert response.status_code == 400
    assert response.json() == invalid(
        [
            {
                "pointer": "/lines/0/quantity/unit",
                "code": "unknown_unit",
                "detail": "quantity: unknown unit 'kwh'; did you mean 'kWh'?",
            }
        ]
    )


# -- through the line import ---------------------------------------------------------------------------------
@pytest.fixture
def empty_draft(world: World) -> int:
    response = world.client("operator_a").post(
        "/api/v1/reports/", {"facility": world.facility_a.pk, "year": 2024}, format="json"
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def csv_file(rows: list[dict[str, str]], delimiter: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=linefiles.columns("cement"), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def upload(world: World, report: int, content: bytes, query: str = "") -> Any:
    return world.client("operator_a").post(
        f"/api/v1/reports/{report}/lines/import/{query}",
        {"file": SimpleUploadedFile("lines.csv", content)},
        format="multipart",
    )


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolon", "tab"])
def test_a_semicolon_or_tab_separated_csv_is_read(world: World, empty_draft: int, delimiter: str) -> None:
    rows = [linefiles.line_to_row(line) for line in lines("cement")]
    response = upload(world, empty_draft, csv_file(rows, delimiter))
    assert response.status_code == 200, response.content
    assert response.json()["lines"] == len(lines("cement"))
    report = world.client("operator_a").get(f"/api/v1/reports/{empty_draft}/").json()
    assert report["lines"] == lines("cement")


def test_a_decimal_comma_in_a_semicolon_csv_is_pointed_at_its_cell_with_the_hint(
    world: World, empty_draft: int
) -> None:
    rows = [linefiles.line_to_row(line) for line in lines("cement")]
    rows[2]["quantity"] = "120000,5"  # row 4: the spreadsheet wrote a decimal comma
    response = upload(world, empty_draft, csv_file(rows, ";"))
    assert response.status_code == 400
    assert response.json() == {
        "type": "https://mrv.example/problems/invalid_request",
        "title": "Invalid request",
        "status": 400,
        "detail": "1 invalid cell(s); nothing was stored",
        "code": "invalid_request",
        "errors": [
            {
                "pointer": "/rows/2/quantity/value",
                "row": 4,
                "column": "quantity",
                "code": "not_a_number",
                "detail": f"quantity: '120000,5' is not a decimal number; {NUMBER_RULE}: did you mean 120000.5?",
            }
        ],
    }


def test_a_refused_unit_in_a_file_suggests_the_accepted_spelling(world: World, empty_draft: int) -> None:
    rows = [linefiles.line_to_row(line) for line in lines("cement")]
    rows[4]["quantity_unit"] = "kwh"  # row 6: the grid electricity
    response = upload(world, empty_draft, csv_file(rows, ","))
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error == {
        "pointer": "/rows/4/quantity/unit",
        "row": 6,
        "column": "quantity_unit",
        "code": "unknown_unit",
        "detail": "quantity: unknown unit 'kwh'; did you mean 'kWh'?",
    }


def test_a_file_sent_as_json_is_told_to_upload_it_as_multipart(world: World, empty_draft: int) -> None:
    response = world.client("operator_a").post(
        f"/api/v1/reports/{empty_draft}/lines/import/", {"lines": []}, format="json"
    )
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "The body's content type 'application/json' is not one this endpoint reads (multipart/form-data): "
        "upload the file as multipart/form-data, field 'file' (curl -F 'file=@lines.csv')."
    )


# -- the README's error table ------------------------------------------------------------------------------
def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def answerable_codes() -> set[str]:
    """Every problem ``code`` the service can answer: the error classes' codes, the DRF exceptions the
    handler answers with their own code, and the codes written literally next to a problem document."""
    from rest_framework import exceptions as drf

    from accounting.errors import AccountingError
    from mrv.errors import ServiceError

    codes = {cls.code for cls in _subclasses(ServiceError) | {ServiceError}}
    codes |= {cls.code for cls in _subclasses(AccountingError)}  # the base class is never raised
    mapped = {drf.ValidationError, drf.ParseError}  # answered as invalid_input, parse_error
    codes |= {
        cls.default_code for cls in _subclasses(drf.APIException) - mapped if cls.__module__ == drf.__name__
    }
    for path in (ROOT / "mrv").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"problem_document\((.*?)\n\s*\)", text, re.DOTALL):
            codes |= set(re.findall(r'\bcode="([a-z_]+)"', call.group(1)))
    return codes


def test_the_readme_error_table_lists_every_problem_code() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| status | code | when |", 1)[1].split("\n\n", 1)[0]
    rows = [row.split("|") for row in table.strip().splitlines()[1:]]  # under the |---| line
    listed = {code for row in rows for code in re.findall(r"`([a-z_]+)`", row[2])}
    codes = answerable_codes()
    assert {"conflict", "unsupported_media_type", "invalid_query", "not_ready", "parse_error"} <= codes
    assert codes - listed == set()

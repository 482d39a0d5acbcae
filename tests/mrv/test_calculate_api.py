"""POST /api/v1/calculate/, methodologies and units through HTTP."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from mrv.services.users import user_create_with_token
from tests.accounting.conftest import EXAMPLES, assert_figures, load_example
from tests.accounting.test_errors import BAD

pytestmark = pytest.mark.django_db

URL = "/api/v1/calculate/"


@pytest.fixture
def calc_client() -> APIClient:
    _, token = user_create_with_token(
        username="calc-user", role="operator", organisation_name="Calc Cement Co"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post_text(client: APIClient, text: str | bytes) -> Any:
    return client.generic("POST", URL, text, content_type="application/json")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_worked_example_reproduces_through_http(calc_client: APIClient, path: Path) -> None:
    example = load_example(path)
    request_text = json.dumps(json.loads(path.read_text(encoding="utf-8"))["request"])
    response = post_text(calc_client, request_text)
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    # every number comes back as a string in plain notation
    assert all(isinstance(line["co2e"], str) and "E" not in line["co2e"] for line in body["lines"])
    assert [line["ref"] for line in body["lines"]] == [line["ref"] for line in example["request"]["lines"]]
    by_ref = {line["ref"]: line for line in body["lines"]}
    for ref, figures in example["expected"]["lines"].items():
        assert_figures(by_ref[ref], figures, f"/lines/{ref}")
    assert_figures(body["totals"], example["expected"]["totals"], "/totals")
    assert_figures(body["intensity"], example["expected"]["intensity"], "/intensity")


def test_numbers_are_parsed_exactly_from_json_numbers(calc_client: APIClient) -> None:
    text = (
        '{"lines": [{"source": "electrode", "quantity": {"value": 0.1, "unit": "t"},'
        ' "emission_factor": {"value": 0.3, "unit": "tCO2/t"}}]}'
    )
    response = post_text(calc_client, text)
    assert response.status_code == 200
    assert json.loads(response.content)["lines"][0]["co2e"] == "0.03"  # not 0.030000000000000002


def _as_json_text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _as_json_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json_text(v) for v in value]
    return value


@pytest.mark.parametrize(("line", "pointer", "code"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_line_answers_400_problem_with_pointer(
    calc_client: APIClient, line: Any, pointer: str, code: str
) -> None:
    methodology = "ipcc-2006" if "PFPB" in str(line) else "cn-mee-2024"
    body = {"methodology": methodology, "lines": [_as_json_text(line)]}
    text = json.dumps(body, default=str)
    if code == "number_out_of_range":
        text = text.replace('"1E+400"', "1e400").replace('"' + "1" + "0" * 400 + '"', "1" + "0" * 400)
    response = post_text(calc_client, text)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["status"] == 400 and problem["type"] and problem["title"]
    assert {"pointer": pointer, "code": code} in [
        {"pointer": e["pointer"], "code": e["code"]} for e in problem["errors"]
    ], problem


@pytest.mark.parametrize(
    ("text", "status", "pointer"),
    [
        ('{"lines": []}', 400, "/lines"),
        ('{"lines": [{"source": "electrode", "quantity": {"value": NaN, "unit": "t"}}]}', 400, ""),
        ('{"lines": [{"source": "electrode", "quantity": {"value": Infinity, "unit": "t"}}]}', 400, ""),
        (
            '{"lines": [{"source": "electrode", "quantity": {"value": 1e400, "unit": "t"}}]}',
            400,
            "/lines/0/quantity/value",
        ),
        (
            '{"lines": [{"source": "electrode", "quantity": {"value": 1' + "0" * 400 + ', "unit": "t"}}]}',
            400,
            "/lines/0/quantity/value",
        ),
        ("[" * 100_000 + "]" * 100_000, 400, ""),
        ('{"lines": [', 400, ""),
        ("[1, 2]", 400, ""),
    ],
    ids=["empty-lines", "nan", "infinity", "1e400", "10^400", "deeply-nested", "truncated", "not-an-object"],
)
def test_malformed_body_answers_400_problem(
    calc_client: APIClient, text: str, status: int, pointer: str
) -> None:
    response = post_text(calc_client, text)
    assert response.status_code == status, response.content
    problem = json.loads(response.content)
    assert pointer in [e["pointer"] for e in problem["errors"]], problem


def test_two_megabyte_body_of_lines_answers_400_with_pointer(calc_client: APIClient) -> None:
    line = {"source": "electrode", "quantity": {"value": "1", "unit": "t"}, "ref": None}
    lines = [{**line, "ref": f"r{i}"} for i in range(25_000)]
    text = json.dumps({"lines": lines})
    assert len(text) > 2_000_000
    response = post_text(calc_client, text)
    assert response.status_code == 400
    assert json.loads(response.content)["errors"][0]["pointer"] == "/lines"


def test_two_megabyte_string_answers_400_with_pointer(calc_client: APIClient) -> None:
    text = json.dumps(
        {"lines": [{"source": "electrode", "ref": "x" * 2_000_000, "quantity": {"value": "1", "unit": "t"}}]}
    )
    response = post_text(calc_client, text)
    assert response.status_code == 400
    assert json.loads(response.content)["errors"][0]["pointer"] == "/lines/0/ref"


def test_body_over_the_limit_answers_413_problem(calc_client: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000_000
    response = post_text(calc_client, " " * 2_100_000 + "{}")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_calculation_requires_authentication() -> None:
    response = APIClient().post(URL, {"lines": []}, format="json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_methodologies_list_and_detail(calc_client: APIClient) -> None:
    listing = json.loads(calc_client.get("/api/v1/methodologies/").content)
    codes = {m["code"] for m in listing["results"]}
    assert {"cn-mee-2024", "ipcc-2006"} <= codes
    detail = json.loads(calc_client.get("/api/v1/methodologies/cn-mee-2024/").content)
    assert detail["gwp"]["set"] == "AR5" and detail["gwp"]["values"]["CF4"] == "6630"
    assert detail["rounding"] == {"places": 0, "mode": "half_up"}
    coal = detail["factors"]["fuels"]["bituminous_coal"]["carbon_content"]
    assert coal["value"] == "0.02618" and coal["confidence"] in {"V", "3P", "UV"} and coal["source"]
    assert detail["line_kinds"]["anode_effect"]["category"] == "process"


def test_unknown_methodology_is_404_problem(calc_client: APIClient) -> None:
    response = calc_client.get("/api/v1/methodologies/eu-mrr-1999/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_units_lists_accepted_spellings_by_dimension(calc_client: APIClient) -> None:
    body = json.loads(calc_client.get("/api/v1/units/").content)
    assert "10^4 Nm3" in body["dimensions"]["normal volume (gases)"]
    assert "tce" in body["dimensions"]["energy"]
    assert "ton" in body["refused"]

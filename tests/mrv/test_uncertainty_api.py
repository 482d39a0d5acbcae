"""Uncertainty through HTTP: POST /api/v1/calculate/ and /calculate/compare/ carry the propagated ±% (IPCC
2006 Vol. 1 Ch. 3 Approach 1) per line and for the totals as exact strings; a bad statement is a 400 problem
pointing at the field, in English and in Chinese."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from mrv.services.users import user_create_with_token
from tests.mrv.reporting_helpers import report_body

pytestmark = pytest.mark.django_db

# The two-line example of tests/accounting/test_uncertainty.py.
LINES: list[dict[str, Any]] = [
    {  # 100 t × 3 tCO2/t = 300 t, activity ±2 %, factor ±3 %
        "ref": "electrodes",
        "source": "electrode",
        "quantity": {"value": "100", "unit": "t"},
        "emission_factor": {"value": "3", "unit": "tCO2/t"},
        "uncertainty": {"activity_percent": "2", "factor_percent": "3"},
    },
    {  # 1000 MWh × 0.5 tCO2/MWh = 500 t, activity ±1 %, factor ±10 %
        "ref": "grid",
        "source": "electricity",
        "quantity": {"value": "1000", "unit": "MWh"},
        "emission_factor": {"value": "0.5", "unit": "tCO2/MWh"},
        "uncertainty": {"activity_percent": 1, "factor_percent": 10},
    },
]


@pytest.fixture
def client() -> APIClient:
    _, token = user_create_with_token(username="u-user", role="operator", organisation_name="Spread Co")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def post(client: APIClient, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.generic("POST", url, json.dumps(body), content_type="application/json", **headers)


def test_the_two_line_example_through_the_api(client: APIClient) -> None:
    response = post(client, "/api/v1/calculate/", {"methodology": "cn-mee-2024", "lines": LINES})
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    electrodes, grid = body["lines"]
    # line 1: sqrt(2² + 3²) = sqrt(13) = 3.605551… → "3.6056"; line 2: sqrt(1 + 100) = 10.049875… → "10.0499"
    assert (electrodes["uncertainty_percent"], grid["uncertainty_percent"]) == ("3.6056", "10.0499")
    assert electrodes["uncertainty"] == {"activity_percent": "2", "factor_percent": "3"}
    # totals, Eq. 3.1: sqrt(13 × 300² + 101 × 500²) / 800 = sqrt(26,420,000) / 800 = 5140.0389 / 800
    # = 6.425048… → "6.425" (presented without trailing zeros)
    totals = body["totals"]
    assert totals["uncertainty_percent"] == "6.425"
    assert totals["uncertainty"]["direct_percent"] == "3.6056"
    assert totals["uncertainty"]["indirect_percent"] == "10.0499"
    assert totals["uncertainty"]["by_category"]["combustion"] is None
    assert totals["uncertainty"]["coverage"] == {"lines": 2, "emission_lines": 2, "co2e_share": "1"}
    assert totals["uncertainty"]["lines_without_uncertainty"] == "counted_as_exact"


def test_compare_shows_uncertainty_per_methodology_and_line(client: APIClient) -> None:
    body = {"methodologies": ["cn-mee-2024", "eu-mrr-2018"], "lines": LINES}
    response = post(client, "/api/v1/calculate/compare/", body)
    assert response.status_code == 200, response.content
    compared = json.loads(response.content)
    cn, eu = "cn-mee-2024@2024.2", "eu-mrr-2018@2018.1"
    # the lines give every value, so both regimes compute 300 t and 500 t: the same percentages
    for key in (cn, eu):
        assert compared["lines"][0]["figures"][key]["uncertainty_percent"] == "3.6056"
        assert compared["lines"][1]["figures"][key]["uncertainty_percent"] == "10.0499"
        assert compared["totals"][key]["uncertainty_percent"] == "6.425"
        assert compared["totals"][key]["uncertainty"]["total_percent"] == "6.425"
    assert compared["results"][1]["totals"]["uncertainty_percent"] == "6.425"


def test_a_tier_gives_the_percent_through_the_api(client: APIClient) -> None:
    coal = {
        "ref": "coal",
        "source": "fuel_combustion",
        "fuel": "bituminous_coal",
        "quantity": {"value": "1000", "unit": "t"},
        "uncertainty": {"tier": 2, "factor_percent": "12"},
    }
    response = post(client, "/api/v1/calculate/", {"methodology": "eu-mrr-2018", "lines": [coal]})
    assert response.status_code == 200, response.content
    line = json.loads(response.content)["lines"][0]
    # tier 2 = ±5 % (EU MRR Annex II); sqrt(5² + 12²) = 13
    assert line["uncertainty"]["activity_percent"] == "5" and line["uncertainty"]["tier"] == 2
    assert line["uncertainty_percent"] == "13"


BAD = [
    ({"activity_percent": "-2"}, "/lines/0/uncertainty/activity_percent", "negative"),
    ({"factor_percent": 250}, "/lines/0/uncertainty/factor_percent", "out_of_range"),
    ({"tier": 7}, "/lines/0/uncertainty/tier", "out_of_range"),
    ({}, "/lines/0/uncertainty", "required"),
    ({"tier": 1, "activity_percent": "7.5"}, "/lines/0/uncertainty/tier", "conflict"),
]


@pytest.mark.parametrize(("stated", "pointer", "code"), BAD)
def test_a_bad_uncertainty_is_a_400_pointing_at_the_field(
    client: APIClient, stated: dict[str, Any], pointer: str, code: str
) -> None:
    line = {"source": "fuel_combustion", "fuel": "bituminous_coal", "quantity": {"value": "1", "unit": "t"}}
    response = post(client, "/api/v1/calculate/", {"lines": [{**line, "uncertainty": stated}]})
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    errors = json.loads(response.content)["errors"]
    assert [(e["pointer"], e["code"]) for e in errors] == [(pointer, code)]


def test_the_refusal_reads_in_chinese(client: APIClient) -> None:
    line = {**LINES[0], "uncertainty": {"factor_percent": "150"}}
    response = post(client, "/api/v1/calculate/", {"lines": [line]}, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert response.status_code == 400
    [error] = json.loads(response.content)["errors"]
    assert error["pointer"] == "/lines/0/uncertainty/factor_percent"
    assert error["detail"].startswith("factor_percent 必须在 0 到 100 % 之间")


def test_a_draft_report_keeps_the_stated_uncertainty_and_shows_the_propagated_one(world) -> None:
    # The operator's cement lines, the kiln coal line (the third) with tier 3 (±2.5 %) and factor ±6 %:
    # sqrt(6.25 + 36) = 6.5 %. The other lines state none and count as exact.
    body = report_body(world.facility_a)
    body["lines"][2]["uncertainty"] = {"tier": 3, "factor_percent": "6"}
    response = world.client("operator_a").post("/api/v1/reports/", body, format="json")
    assert response.status_code == 201, response.content
    report = response.json()
    # stored as given, numbers as their exact text (as every number of a stored line)
    assert report["lines"][2]["uncertainty"] == {"tier": "3", "factor_percent": "6"}
    coal = next(result for result in report["results"] if result["ref"] == "kiln-coal")
    assert coal["uncertainty_percent"] == "6.5"
    coverage = report["totals"]["uncertainty"]["coverage"]
    assert coverage["lines"] == 1 and coverage["emission_lines"] == len(
        [line for line in body["lines"] if line["source"] != "production"]
    )
    # Eq. 3.1 with one uncertain line: U_total = 6.5 % × x_coal / total
    total, coal_co2e = Decimal(report["totals"]["total"]), Decimal(coal["co2e"])
    share = coal_co2e / total
    assert Decimal(report["totals"]["uncertainty_percent"]) == (Decimal("6.5") * share).quantize(
        Decimal("0.0001")
    )
    assert Decimal(coverage["co2e_share"]) == share.quantize(Decimal("1e-12"))

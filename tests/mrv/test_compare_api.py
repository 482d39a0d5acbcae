"""POST /api/v1/calculate/compare/: the same lines under several methodologies, side by side."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from mrv.services.users import user_create_with_token
from tests.accounting.conftest import agrees

pytestmark = pytest.mark.django_db

URL = "/api/v1/calculate/compare/"
CN, EU = "cn-mee-2024@2024.2", "eu-mrr-2018@2018.1"
LINES = [
    {
        "ref": "coal",
        "source": "fuel_combustion",
        "fuel": "bituminous_coal",
        "quantity": {"value": "1000", "unit": "t"},
    },
    {
        "ref": "flux",
        "source": "carbonate",
        "material": "limestone",
        "quantity": {"value": "1000", "unit": "t"},
    },
    {
        "ref": "kiln",
        "source": "clinker_carbonate",
        "clinker": {"value": "1000", "unit": "t"},
        "cao_fraction": "0.65",
        "mgo_fraction": "0.02",
    },
]


@pytest.fixture
def client() -> APIClient:
    _, token = user_create_with_token(username="cmp-user", role="operator", organisation_name="Compare Co")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api


def post(client: APIClient, body: dict[str, Any]) -> Any:
    return client.post(URL, body, format="json")


def test_lines_side_by_side_with_the_parameters_that_differ_and_why(client: APIClient) -> None:
    response = post(
        client, {"methodologies": ["cn-mee-2024", "eu-mrr-2018"], "sector": "cement", "lines": LINES}
    )
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert [m["key"] for m in body["methodologies"]] == [CN, EU]
    assert body["methodologies"][1]["c_to_co2"] == "3.664"
    lines = {line["ref"]: line for line in body["lines"]}
    # coal, by hand. China: 1000 t x 23.204 GJ/t x 0.02618 tC/GJ x 0.93 x 44/12 = 2071.5092552;
    # EU MRR: 1000 t x 25.8 GJ/t = 25.8 TJ x 94.6 tCO2/TJ (OF 1) = 2440.68
    assert agrees(lines["coal"]["figures"][CN]["co2e"], "2071.5092552")
    assert lines["coal"]["figures"][EU]["co2e"] == "2440.68"
    # kiln: China 1000 x (0.65 x 44/56 + 0.02 x 44/40) = 3729/7 = 532.714285714...; EU 1000 x (0.65 x 0.785 +
    # 0.02 x 1.092) = 532.09
    assert agrees(lines["kiln"]["figures"][CN]["co2e"], "532.714285714286")
    assert lines["kiln"]["figures"][EU]["co2e"] == "532.09"
    assert lines["kiln"]["figures"][EU]["method"] == "clinker_carbonate_eu_mrr"
    # limestone: both regimes default to 0.440: same figure, nothing differs
    assert lines["flux"]["figures"][CN]["co2e"] == lines["flux"]["figures"][EU]["co2e"] == "440"
    assert lines["flux"]["differences"] == []

    coal = {d["parameter"]: d for d in lines["coal"]["differences"]}
    assert coal["ncv"]["values"][CN]["value"] == "23.204" and coal["ncv"]["values"][EU]["value"] == "25.8"
    assert coal["ncv"]["values"][EU]["table"] == "Annex VI Table 1, NCV, other bituminous coal"
    assert coal["ncv"]["why"][1].startswith(f"{EU}: default, Annex VI Table 1")
    # China's carbon content is not a parameter of the EU line (it uses the EF per TJ)
    assert coal["carbon_content"]["values"][EU] is None
    assert coal["carbon_content"]["why"][1] == f"{EU}: not used by its method fuel_combustion"
    assert "quantity" not in coal  # measured, the same under both

    totals = body["totals"]
    assert agrees(totals[CN]["total"], str(Decimal("2071.5092552") + 440 + Decimal(3729) / 7))
    assert totals[EU]["total"] == "3412.77"  # 2440.68 + 440 + 532.09
    assert totals[EU]["reported"]["total"] == "3413"
    china = Decimal("2071.5092552") + 440 + Decimal(3729) / 7
    assert agrees(totals[EU]["difference_from_first"], str(Decimal("3412.77") - china))
    assert totals[CN]["difference_from_first"] == "0"
    assert [r["methodology"] for r in body["results"]] == ["cn-mee-2024", "eu-mrr-2018"]


def test_a_value_the_regime_has_no_default_for_is_a_400_naming_the_regime(client: APIClient) -> None:
    line = {"ref": "grid", "source": "electricity", "quantity": {"value": "100", "unit": "MWh"}}
    response = post(client, {"methodologies": ["cn-mee-2024", "eu-mrr-2018"], "year": 2024, "lines": [line]})
    assert response.status_code == 400
    body = json.loads(response.content)
    errors = body["errors"]
    assert [(e["pointer"], e["code"]) for e in errors] == [("/lines/0/emission_factor", "required")]
    assert errors[0]["detail"].startswith(f"under {EU}:")


def test_bad_methodology_lists_are_refused_with_pointers(client: APIClient) -> None:
    for methodologies, pointer in (
        ([], "/methodologies"),
        (["eu-mrr-2018", "nope"], "/methodologies/1"),
        (["eu-mrr-2018", "eu-mrr-2018@2018.1"], "/methodologies/1"),
    ):
        response = post(client, {"methodologies": methodologies, "lines": LINES[:1]})
        assert response.status_code == 400, methodologies
        assert [e["pointer"] for e in json.loads(response.content)["errors"]] == [pointer]

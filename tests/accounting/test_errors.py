"""Bad input: every mistake is an InvalidInput carrying the JSON pointer of the offending field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounting import InvalidInput, calculate


def q(value: Any, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit}


COAL = {"source": "fuel_combustion", "fuel": "bituminous_coal", "quantity": q("100", "t")}

BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown-unit", {**COAL, "quantity": q("100", "bananas")}, "/lines/0/quantity/unit", "unknown_unit"),
    ("ambiguous-ton", {**COAL, "quantity": q("100", "ton")}, "/lines/0/quantity/unit", "ambiguous_unit"),
    ("ambiguous-cal", {**COAL, "ncv": q("5000", "cal/g")}, "/lines/0/ncv/unit", "ambiguous_unit"),
    ("wrong-dimension", {**COAL, "ncv": q("23", "t")}, "/lines/0/ncv/unit", "wrong_dimension"),
    (
        "carbon-content-as-co2",
        {**COAL, "carbon_content": q("0.09", "tCO2/GJ")},
        "/lines/0/carbon_content/unit",
        "wrong_dimension",
    ),
    ("negative-quantity", {**COAL, "quantity": q("-5", "t")}, "/lines/0/quantity/value", "negative"),
    (
        "fraction-above-one",
        {**COAL, "oxidation_factor": "1.2"},
        "/lines/0/oxidation_factor",
        "fraction_out_of_range",
    ),
    (
        "percent-above-100",
        {**COAL, "oxidation_factor": q("120", "%")},
        "/lines/0/oxidation_factor/value",
        "fraction_out_of_range",
    ),
    ("unknown-fuel", {**COAL, "fuel": "unobtainium"}, "/lines/0/fuel", "unknown_code"),
    (
        "unknown-material",
        {"source": "carbonate", "material": "chalk", "quantity": q("1", "t")},
        "/lines/0/material",
        "unknown_code",
    ),
    ("unknown-source", {"source": "volcano"}, "/lines/0/source", "unknown_source"),
    ("foreign-field", {**COAL, "clinker": q("1", "t")}, "/lines/0/clinker", "unknown_field"),
    ("non-numeric", {**COAL, "quantity": q("lots", "t")}, "/lines/0/quantity/value", "not_a_number"),
    ("nan", {**COAL, "quantity": q("NaN", "t")}, "/lines/0/quantity/value", "not_a_number"),
    ("nan-decimal", {**COAL, "quantity": q(Decimal("NaN"), "t")}, "/lines/0/quantity/value", "not_a_number"),
    ("infinity", {**COAL, "quantity": q("Infinity", "t")}, "/lines/0/quantity/value", "not_a_number"),
    (
        "huge-number",
        {**COAL, "quantity": q(Decimal("1e400"), "t")},
        "/lines/0/quantity/value",
        "number_out_of_range",
    ),
    ("huge-integer", {**COAL, "quantity": q(10**400, "t")}, "/lines/0/quantity/value", "number_out_of_range"),
    ("boolean", {**COAL, "quantity": q(True, "t")}, "/lines/0/quantity/value", "not_a_number"),
    ("missing-unit", {**COAL, "quantity": {"value": "1"}}, "/lines/0/quantity/unit", "required"),
    ("plain-mass", {**COAL, "quantity": "100"}, "/lines/0/quantity", "unit_required"),
    (
        "extra-key-in-quantity",
        {**COAL, "quantity": {"value": "1", "unit": "t", "x": 1}},
        "/lines/0/quantity/x",
        "unknown_field",
    ),
    (
        "fuel-without-defaults",
        {"source": "fuel_combustion", "fuel": "waste_tyres", "quantity": q("1", "t")},
        "/lines/0/carbon_content",
        "required",
    ),
    (
        "fuel-without-ncv",
        {
            "source": "fuel_combustion",
            "fuel": "waste_oil",
            "quantity": q("1", "t"),
            "emission_factor": q("70", "tCO2/TJ"),
        },
        "/lines/0/ncv",
        "required",
    ),
    (
        "gas-default-on-mass",
        {"source": "fuel_combustion", "fuel": "natural_gas", "quantity": q("1", "t")},
        "/lines/0/ncv",
        "no_applicable_default",
    ),
    (
        "ef-and-carbon-content",
        {**COAL, "emission_factor": q("90", "tCO2/TJ"), "carbon_content": q("0.026", "tC/GJ")},
        "/lines/0/carbon_content",
        "conflicting_fields",
    ),
    ("month-13", {**COAL, "month": 13}, "/lines/0/month", "out_of_range"),
    (
        "deduction-too-large",
        {
            "source": "clinker_default",
            "clinker": q("10", "t"),
            "substitutes": [{"material": "slaked_lime", "quantity": q("100", "t")}],
        },
        "/lines/0/substitutes",
        "deduction_exceeds_emission",
    ),
    (
        "negative-net-carbon",
        {
            "source": "carbon_mass_balance",
            "inputs": [{"material": "a", "quantity": q("1", "t"), "carbon_content": "0.1"}],
            "outputs": [{"material": "b", "quantity": q("10", "t"), "carbon_content": "0.1"}],
        },
        "/lines/0/outputs",
        "negative_net_carbon",
    ),
    (
        "nested-bad-unit",
        {"source": "heat", "steam": {"mass": q("1", "t"), "enthalpy": q("2800", "kJ/m")}},
        "/lines/0/steam/enthalpy/unit",
        "wrong_dimension",
    ),
    (
        "unknown-technology",
        {
            "source": "anode_effect",
            "method": "tier1",
            "cell_technology": "XX",
            "aluminium_production": q("1", "t"),
        },
        "/lines/0/cell_technology",
        "unknown_code",
    ),
    (
        "field-of-other-method",
        {
            "source": "anode_effect",
            "method": "tier1",
            "cell_technology": "CWPB",
            "aluminium_production": q("1", "t"),
            "overvoltage_mv": "3",
        },
        "/lines/0/overvoltage_mv",
        "unknown_field",
    ),
    (
        "no-ipcc-tier1-for-pfpb",
        {
            "source": "anode_effect",
            "method": "slope",
            "cell_technology": "PFPB_L",
            "aluminium_production": q("1", "t"),
            "anode_effect_minutes": "0.1",
        },
        "/lines/0/cell_technology",
        "unknown_code",
    ),
    ("line-not-object", ["a"], "/lines/0", "invalid_type"),  # type: ignore[list-item]
]


@pytest.mark.parametrize(("line", "pointer", "code"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_line_is_refused_with_pointer(line: Any, pointer: str, code: str) -> None:
    methodology = "ipcc-2006" if "PFPB" in str(line) else "cn-mee-2024"
    with pytest.raises(InvalidInput) as caught:
        calculate({"methodology": methodology, "lines": [line]})
    assert (pointer, code) in [(e.pointer, e.code) for e in caught.value.errors], caught.value.errors


@pytest.mark.parametrize(
    ("payload", "pointer", "code"),
    [
        ({"lines": []}, "/lines", "required"),
        ({}, "/lines", "required"),
        ({"lines": "x"}, "/lines", "required"),
        ({"methodology": "eu-mrr-1999", "lines": [COAL]}, "/methodology", "unknown_methodology"),
        ({"sector": "glass", "lines": [COAL]}, "/sector", "unknown_code"),
        ({"year": 1800, "lines": [COAL]}, "/year", "out_of_range"),
        ({"lines": [COAL], "extra": 1}, "/extra", "unknown_field"),
        ({"lines": [COAL] * 10_001}, "/lines", "too_many_items"),
        ({"lines": [{**COAL, "ref": "a"}, {**COAL, "ref": "a"}]}, "/lines/1/ref", "duplicate"),
        ({"lines": [{**COAL, "ref": "x" * 2_000_000}]}, "/lines/0/ref", "invalid_type"),
    ],
)
def test_bad_request_is_refused_with_pointer(payload: dict[str, Any], pointer: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        calculate(payload)
    assert (pointer, code) in [(e.pointer, e.code) for e in caught.value.errors], caught.value.errors


def test_body_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        calculate([1, 2])  # type: ignore[arg-type]
    assert caught.value.errors[0].pointer == ""


def test_every_bad_line_is_reported_not_only_the_first() -> None:
    lines = [{**COAL, "quantity": q("-1", "t")}, COAL, {**COAL, "fuel": "x"}]
    with pytest.raises(InvalidInput) as caught:
        calculate({"lines": lines})
    assert [e.pointer for e in caught.value.errors] == ["/lines/0/quantity/value", "/lines/2/fuel"]


def test_numbers_are_read_exactly_from_text() -> None:
    result = calculate(
        {"lines": [{"source": "electrode", "quantity": q("0.1", "t"), "emission_factor": q("0.3", "tCO2/t")}]}
    ).as_json()
    assert result["lines"][0]["co2e"] == Decimal("0.03")

"""The engine's errors teach: absent fields all at once, a line kind's fields listed, number formats explained."""

from __future__ import annotations

from typing import Any

import pytest

import accounting
from accounting.errors import InvalidInput
from accounting.numbers import NumberError, parse_decimal, separator_hint


def errors_of(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as raised:
        accounting.calculate(body)
    return [(error.pointer, error.code) for error in raised.value.errors]


def q(value: str, unit: str) -> dict[str, str]:
    return {"value": value, "unit": unit}


@pytest.mark.parametrize(
    ("line", "absent"),
    [
        ({"source": "fuel_combustion"}, ["fuel", "quantity"]),
        (
            {"source": "anode_baking"},
            ["green_anodes", "hydrogen_content", "baked_anodes", "packing_coke_rate"],
        ),
        ({"source": "raw_meal_organic_carbon"}, ["raw_meal", "organic_carbon_fraction"]),
        ({"source": "carbonate"}, ["material", "quantity"]),
        ({"source": "heat", "hot_water": {}}, ["hot_water/mass", "hot_water/temperature"]),
        (
            {"source": "carbon_mass_balance", "inputs": [{}]},
            ["inputs/0/material", "inputs/0/quantity", "inputs/0/carbon_content"],
        ),
        (
            {"source": "anode_effect", "method": "overvoltage"},
            ["aluminium_production", "cell_technology", "overvoltage_mv", "current_efficiency"],
        ),
    ],
)
def test_every_absent_field_of_a_line_is_reported_at_once(line: dict[str, Any], absent: list[str]) -> None:
    assert errors_of({"lines": [line]}) == [(f"/lines/0/{name}", "required") for name in absent]


def test_a_field_the_methodology_defaults_is_not_reported_absent() -> None:
    # ipcc-2006@2006.2 has a default hydrogen content of green anodes; cn-mee-2024 does not
    line = {"source": "anode_baking", "green_anodes": q("100", "t"), "baked_anodes": q("95", "t")}
    assert errors_of({"methodology": "ipcc-2006", "lines": [line]}) == [
        ("/lines/0/packing_coke_rate", "required")
    ]
    assert errors_of({"lines": [line]}) == [
        ("/lines/0/hydrogen_content", "required"),
        ("/lines/0/packing_coke_rate", "required"),
    ]


def test_absent_fields_of_several_lines_and_other_errors_are_all_reported() -> None:
    body = {
        "lines": [
            {"source": "fuel_combustion", "fuel": "diesel", "quantity": q("5", "t")},
            {"source": "fuel_combustion", "quantity": q("lots", "t")},
            {"source": "electricity"},
            {"source": "production", "product": "clinker"},
        ]
    }
    assert errors_of(body) == [
        ("/lines/1/fuel", "required"),  # the absent fuel, then the stand-in's later refusals are dropped
        ("/lines/2/quantity", "required"),
        ("/lines/3/quantity", "required"),
    ]


def test_a_field_invalid_before_the_absent_ones_is_reported_alone() -> None:
    # the first refusal of a given value stops the line, as before: the absent quantity comes next round
    line = {"source": "fuel_combustion", "fuel": "unobtainium"}
    assert errors_of({"lines": [line]}) == [("/lines/0/fuel", "unknown_code")]


def test_an_unknown_field_lists_the_fields_of_the_line_kind() -> None:
    with pytest.raises(InvalidInput) as raised:
        accounting.calculate(
            {"lines": [{"source": "electricity", "qty": q("5", "MWh"), "emision_factor": "1"}]}
        )
    fields = "direction, emission_factor, grid, month, quantity, ref, source, uncertainty, unit"
    assert [error.as_dict() for error in raised.value.errors] == [
        {
            "pointer": "/lines/0/qty",
            "code": "unknown_field",
            "detail": f"'qty' is not a field of electricity lines; their fields are: {fields}",
        },
        {
            "pointer": "/lines/0/emision_factor",
            "code": "unknown_field",
            "detail": "'emision_factor' is not a field of electricity lines; did you mean 'emission_factor'? "
            f"their fields are: {fields}",
        },
    ]


def test_no_lines_is_an_error_unless_allowed() -> None:
    assert errors_of({"lines": []}) == [("/lines", "required")]
    empty = accounting.calculate({"sector": "cement", "lines": []}, allow_empty=True)
    assert empty.lines == [] and empty.totals.total == 0 and empty.intensity() is None
    assert accounting.calculate({"sector": "cement"}, allow_empty=True).totals.total == 0
    assert errors_of({"lines": "none"}) == [("/lines", "required")]


RULE = "the decimal mark is '.' and digits are not grouped"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("1000,5", f"{RULE}: did you mean 1000.5?"),
        ("0,25", f"{RULE}: did you mean 0.25?"),
        ("85,000", f"{RULE}: write 85000 if ',' groups thousands, or 85.000 if it is a decimal comma"),
        ("-85,000", f"{RULE}: write -85000 if ',' groups thousands, or -85.000 if it is a decimal comma"),
        ("85 000", f"{RULE}: did you mean 85000?"),
        ("85\u00a0000", f"{RULE}: did you mean 85000?"),
        ("85\u202f000,5", f"{RULE}: did you mean 85000.5?"),
        ("1'234'567.5", f"{RULE}: did you mean 1234567.5?"),
        ("1_000", f"{RULE}: did you mean 1000?"),
        ("1,234,567", f"{RULE}: did you mean 1234567?"),
        ("1.234.567", f"{RULE}: did you mean 1234567?"),
        ("1,234.5", f"{RULE}: did you mean 1234.5?"),
        ("1.234,5", f"{RULE}: did you mean 1234.5?"),
        # not a grouping or a decimal mark: no hint, never a guess
        ("1,2,3", ""),
        ("1.2.3", ""),
        ("12 34", ""),
        ("1,00,000", ""),
        ("85 000 t", ""),
        ("lots", ""),
        ("1,234,5.6", ""),
    ],
)
def test_a_decimal_comma_or_grouped_digits_get_a_hint_and_are_refused(text: str, hint: str) -> None:
    assert separator_hint(text) == hint
    with pytest.raises(NumberError) as raised:
        parse_decimal(text)
    assert raised.value.code == "not_a_number"
    assert raised.value.detail == f"{text!r} is not a decimal number" + (f"; {hint}" if hint else "")

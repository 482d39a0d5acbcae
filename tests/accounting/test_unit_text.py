"""Unit texts from clients: every text either converts or is refused with a reason, never an exception.

The five spellings a security review found answering 500 (pint's tokenizer error, a division by zero, an
assertion on a quoted name, an exponent tower that never finishes) and a NUL byte are refused with
``unknown_unit``; a refused spelling close to an accepted one says which one was meant.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import accounting
from accounting import units


def calculate_with_unit(unit: object) -> accounting.Calculation:
    return accounting.calculate(
        {
            "lines": [
                {
                    "ref": "a",
                    "source": "fuel_combustion",
                    "fuel": "diesel",
                    "quantity": {"value": "5", "unit": unit},
                }
            ]
        }
    )


@pytest.mark.parametrize(
    "text", ["t(", ")", "1/0", '"t"', "t**9**9**9", "t\x00", "t**2**2", "t**1.5", "kg**99"]
)
def test_hostile_unit_texts_are_refused_with_a_pointer(text: str) -> None:
    with pytest.raises(accounting.InvalidInput) as raised:
        calculate_with_unit(text)
    [error] = raised.value.errors
    assert (error.pointer, error.code) == ("/lines/0/quantity/unit", "unknown_unit")


@pytest.mark.parametrize(
    ("text", "meant"), [("kwh", "kWh"), ("MWH", "MWh"), ("tc/gj", "tC/GJ"), ("gj/T", "GJ/t"), ("nm3", "Nm3")]
)
def test_a_refused_unit_suggests_the_nearest_accepted_spelling(text: str, meant: str) -> None:
    with pytest.raises(units.UnitError) as raised:
        units.conversion(text, ("MWh", "GJ", "t", "tC/GJ", "GJ/t", "Nm3"))
    assert f"did you mean {meant!r}" in raised.value.detail


@pytest.mark.parametrize(
    ("text", "target", "factor"),
    [
        ("m^3", "L", "1000"),
        ("s**(-2)", "1/s**2", "1"),
        ("kg/m**3", "t/m**3", "0.001"),
        ("10^4 Nm3", "Nm3", "10000"),
    ],
)
def test_integer_powers_still_convert(text: str, target: str, factor: str) -> None:
    assert units.conversion(text, (target,)) == (target, Decimal(factor))


def outcome(text: str) -> str:
    """``converted``, or the code of the refusal (any other exception fails the test)."""
    try:
        units.conversion(text, ("t", "GJ", "Nm3", "MWh", "1"))
    except units.UnitError as error:
        return error.code
    return "converted"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_any_text_converts_or_is_refused(text: str) -> None:
    assert outcome(text) in {"converted", "unknown_unit", "ambiguous_unit", "wrong_dimension"}


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9 */^().%-]{1,20}", fullmatch=True))
def test_any_operator_soup_converts_or_is_refused(text: str) -> None:
    assert outcome(text) in {"converted", "unknown_unit", "ambiguous_unit", "wrong_dimension"}

"""Production units: a line may name its ``unit``; results, totals and intensities are given per unit."""

from __future__ import annotations

from decimal import Decimal

import pytest

import accounting
from accounting.errors import InvalidInput


def q(value: str, unit: str) -> dict[str, str]:
    return {"value": value, "unit": unit}


def carbonate(quantity: str, factor: str, unit: str | None) -> dict[str, object]:
    line: dict[str, object] = {
        "source": "carbonate",
        "material": "limestone",
        "quantity": q(quantity, "t"),
        "emission_factor": q(factor, "tCO2/t"),
    }
    if unit is not None:
        line["unit"] = unit
    return line


def test_figures_and_intensities_per_unit() -> None:
    calculation = accounting.calculate(
        {
            "sector": "cement",
            "lines": [
                carbonate("100", "0.44", "kiln-1"),  # 44 t
                carbonate("50", "0.44", "kiln-2"),  # 22 t
                carbonate("10", "0.44", None),  # 4.4 t, in no unit
                {"source": "production", "product": "clinker", "quantity": q("80", "t"), "unit": "kiln-1"},
                {"source": "production", "product": "clinker", "quantity": q("40", "t"), "unit": "kiln-2"},
                {"source": "production", "product": "cement", "quantity": q("90", "t"), "unit": "kiln-2"},
            ],
        }
    )
    body = calculation.as_json()
    units = body["units"]
    assert list(units) == ["kiln-1", "kiln-2"]
    assert units["kiln-1"]["direct"] == Decimal("44")
    assert units["kiln-1"]["lines"] == 2
    # 44 / 80 = 0.55 tCO2e per tonne of clinker
    assert units["kiln-1"]["intensity"] == {
        "product": "clinker",
        "production": Decimal("80"),
        "direct": Decimal("0.55"),
    }
    # 22 / 40 = 0.55; the cement made by kiln-2 is listed but is not the sector's intensity product
    assert units["kiln-2"]["intensity"]["direct"] == Decimal("0.55")
    assert units["kiln-2"]["production"] == {"cement": Decimal("90"), "clinker": Decimal("40")}
    # the facility's total still counts the line in no unit: 44 + 22 + 4.4
    assert body["totals"]["direct"] == Decimal("70.4")
    assert [line.get("unit") for line in body["lines"]][:3] == ["kiln-1", "kiln-2", None]
    assert calculation.as_summary()["units"] == units


def test_a_unit_without_the_intensity_product_has_no_intensity() -> None:
    body = accounting.calculate({"sector": "cement", "lines": [carbonate("10", "0.5", "mill")]}).as_json()
    assert body["units"]["mill"]["direct"] == Decimal("5")
    assert body["units"]["mill"]["intensity"] is None


@pytest.mark.parametrize("unit", ["", "-lead", "a" * 33, 7, "kiln 1"])
def test_a_malformed_unit_is_refused_with_its_pointer(unit: object) -> None:
    line = carbonate("10", "0.5", None)
    line["unit"] = unit
    with pytest.raises(InvalidInput) as raised:
        accounting.calculate({"lines": [line]})
    assert [(e.pointer, e.code) for e in raised.value.errors] == [("/lines/0/unit", "invalid_type")]

"""The formulas are functions of plain numbers: called here as a notebook would, figures worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounting import calculate
from accounting.methods.energy import (
    hot_water_heat,
    purchased_electricity_co2,
    purchased_heat_co2,
    steam_heat,
)
from accounting.methods.fuel import (
    biomass_split,
    fuel_combustion_co2,
    fuel_combustion_co2_from_factor,
    fuel_combustion_co2_per_quantity,
    fuel_energy,
)
from accounting.methods.steel import (
    carbon_input_co2,
    carbon_mass_balance_co2,
    carbonate_co2,
    fixed_carbon_co2,
)

D = Decimal
#: 44/12 as a notebook would write it (3.666… to the context's 28 digits).
C_TO_CO2 = D(44) / D(12)


def close(actual: Decimal, expected: Decimal) -> bool:
    """Equal but for the last digits of a repeating 44/12."""
    return abs(actual - expected) <= D("1e-12")


# -- fuel combustion --------------------------------------------------------------------------


def test_fuel_energy_is_quantity_times_ncv() -> None:
    # 1000 t × 23.204 GJ/t = 23 204 GJ
    assert fuel_energy(quantity=D("1000"), ncv=D("23.204")) == D("23204")


def test_fuel_combustion_co2_from_energy_carbon_content_and_oxidation() -> None:
    # 23 204 GJ × 0.02618 tC/GJ = 607.48072 tC; × 0.93 = 564.9570696 tC oxidised;
    # × 44/12 = 24 858.1110624 / 12 = 2 071.5092552 t CO2
    co2 = fuel_combustion_co2(
        energy_gj=D("23204"), carbon_content=D("0.02618"), oxidation_factor=D("0.93"), c_to_co2=C_TO_CO2
    )
    assert close(co2, D("2071.5092552"))


def test_fuel_combustion_co2_takes_the_c_to_co2_it_is_given() -> None:
    # EU MRR's 3.664: 1 000 GJ × 0.0153 tC/GJ × 0.99 = 15.147 tC; × 3.664 = 55.498608 t CO2 (exact)
    co2 = fuel_combustion_co2(
        energy_gj=D("1000"), carbon_content=D("0.0153"), oxidation_factor=D("0.99"), c_to_co2=D("3.664")
    )
    assert co2 == D("55.498608")


def test_fuel_combustion_co2_per_quantity_uses_carbon_per_tonne() -> None:
    # 120 t × 0.85 tC/t = 102 tC; × 0.98 = 99.96 tC; × 44/12 = 4 398.24 / 12 = 366.52 t CO2
    co2 = fuel_combustion_co2_per_quantity(
        quantity=D("120"), carbon_content=D("0.85"), oxidation_factor=D("0.98"), c_to_co2=C_TO_CO2
    )
    assert close(co2, D("366.52"))


def test_fuel_combustion_co2_from_factor_is_amount_times_factor() -> None:
    # IPCC diesel: 500 GJ × 0.0741 tCO2/GJ (74 100 kg/TJ) = 37.05 t CO2
    assert fuel_combustion_co2_from_factor(amount=D("500"), emission_factor=D("0.0741")) == D("37.05")


def test_biomass_split_keeps_the_fossil_share_and_the_memo_share() -> None:
    # 100 t CO2 with 30 % biomass carbon: 70 t counted, 30 t memo; the two add back to 100
    fossil, biogenic = biomass_split(co2=D("100"), biomass_fraction=D("0.3"))
    assert (fossil, biogenic) == (D("70"), D("30"))
    # a whole biomass fuel: nothing counted
    assert biomass_split(co2=D("42"), biomass_fraction=D("1")) == (D("0"), D("42"))


# -- electricity and heat ---------------------------------------------------------------------


def test_purchased_electricity_co2() -> None:
    # 1 200 000 MWh × 0.5366 tCO2/MWh (national grid, data year 2022) = 643 920 t CO2
    assert purchased_electricity_co2(mwh=D("1200000"), emission_factor=D("0.5366")) == D("643920")


def test_purchased_heat_co2() -> None:
    # 200 000 GJ × 0.11 tCO2/GJ = 22 000 t CO2
    assert purchased_heat_co2(heat_gj=D("200000"), emission_factor=D("0.11")) == D("22000")


def test_steam_heat_counts_enthalpy_above_the_reference_water() -> None:
    # 1 000 t of steam at 2 763.83 kJ/kg: (2 763.83 − 83.74) kJ/kg = 2 680.09 kJ/kg;
    # 1 000 t = 10^6 kg → 2 680 090 000 kJ = 2 680.09 GJ, i.e. × 10^-3 with the mass in t
    heat = steam_heat(mass=D("1000"), enthalpy=D("2763.83"), reference_enthalpy=D("83.74"))
    assert heat == D("2680.09")


def test_hot_water_heat_counts_degrees_above_the_reference() -> None:
    # 5 000 t at 90 °C: (90 − 20) K × 4.1868 kJ/(kg·K) = 293.076 kJ/kg; × 5 000 t × 10^-3 = 1 465.38 GJ
    heat = hot_water_heat(
        mass=D("5000"), temperature=D("90"), reference_temperature=D("20"), specific_heat=D("4.1868")
    )
    assert heat == D("1465.38")


def test_steam_to_co2_chains_as_in_a_notebook() -> None:
    # 2 680.09 GJ × 0.11 tCO2/GJ = 294.8099 t CO2
    heat = steam_heat(mass=D("1000"), enthalpy=D("2763.83"), reference_enthalpy=D("83.74"))
    assert purchased_heat_co2(heat_gj=heat, emission_factor=D("0.11")) == D("294.8099")


# -- iron and steel ---------------------------------------------------------------------------


def test_carbonate_co2() -> None:
    # 300 000 t limestone × 0.440 tCO2/t = 132 000 t CO2; 100 000 t dolomite × 0.471 = 47 100 t
    assert carbonate_co2(quantity=D("300000"), emission_factor=D("0.440")) == D("132000")
    assert carbonate_co2(quantity=D("100000"), emission_factor=D("0.471")) == D("47100")


def test_carbon_input_co2() -> None:
    # 1 000 t electrodes × 3.663 tCO2/t = 3 663 t CO2; 50 000 t pig iron × 0.172 = 8 600 t
    assert carbon_input_co2(quantity=D("1000"), emission_factor=D("3.663")) == D("3663")
    assert carbon_input_co2(quantity=D("50000"), emission_factor=D("0.172")) == D("8600")


def test_fixed_carbon_co2_is_negative() -> None:
    # 3 000 000 t crude steel × 0.0154 tCO2/t = 46 200 t CO2 that did not leave as a gas → −46 200
    assert fixed_carbon_co2(quantity=D("3000000"), emission_factor=D("0.0154")) == D("-46200")


def test_carbon_mass_balance_co2() -> None:
    # in: 1 000 t pig iron × 0.04 tC/t = 40 tC, + 200 t coke × 0.85 tC/t = 170 tC → 210 tC
    # out: 950 t steel × 0.002 tC/t = 1.9 tC → net 208.1 tC
    # × 3.664 (EU MRR) = 762.4784 t CO2 (exact); × 44/12 = 9 156.4 / 12 = 763.0333… t CO2
    carbon_in = D("1000") * D("0.04") + D("200") * D("0.85")
    carbon_out = D("950") * D("0.002")
    assert carbon_mass_balance_co2(carbon_in=carbon_in, carbon_out=carbon_out, c_to_co2=D("3.664")) == D(
        "762.4784"
    )
    co2 = carbon_mass_balance_co2(carbon_in=carbon_in, carbon_out=carbon_out, c_to_co2=C_TO_CO2)
    assert close(co2, D("9156.4") / D("12"))


# -- the shape of a formula -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "arguments"),
    [
        (fuel_combustion_co2, (D("1"), D("0.02"), D("0.98"), C_TO_CO2)),
        (purchased_electricity_co2, (D("1"), D("0.5"))),
        (carbonate_co2, (D("1"), D("0.44"))),
        (carbon_mass_balance_co2, (D("2"), D("1"), C_TO_CO2)),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_formulas_take_keyword_arguments_only(formula: object, arguments: tuple[Decimal, ...]) -> None:
    # A carbon content and an oxidation factor are both small decimals: swapping them by position
    # would give a plausible wrong figure, so positions are refused.
    with pytest.raises(TypeError):
        formula(*arguments)  # type: ignore[operator]


@pytest.mark.parametrize(
    "formula",
    [
        fuel_energy,
        fuel_combustion_co2,
        fuel_combustion_co2_per_quantity,
        fuel_combustion_co2_from_factor,
        biomass_split,
        purchased_electricity_co2,
        purchased_heat_co2,
        steam_heat,
        hot_water_heat,
        carbonate_co2,
        carbon_input_co2,
        fixed_carbon_co2,
        carbon_mass_balance_co2,
    ],
    ids=lambda f: f.__name__,
)
def test_every_formula_documents_its_equation_units_and_reference(formula: object) -> None:
    doc = formula.__doc__ or ""
    assert ".. math::" in doc
    assert "References" in doc
    assert "[" in doc and "]" in doc  # units in brackets


# -- the line methods call the formulas -------------------------------------------------------


def _line(line: dict[str, object], **header: object) -> dict[str, object]:
    result = calculate({"methodology": "cn-mee-2024", **header, "lines": [line]}).as_json()
    line_result: dict[str, object] = result["lines"][0]
    return line_result


def test_the_fuel_line_gives_the_formula_figure_with_the_defaults_it_recorded() -> None:
    # 10 t diesel under 2024.2: NCV 42.652 GJ/t → 426.52 GJ; × 0.0202 tC/GJ × 0.98 × 44/12
    # = 426.52 × 0.0202 = 8.615704 tC; × 0.98 = 8.44338992 tC; × 44/12 = 30.95909637… t CO2
    line = _line(
        {"ref": "d", "source": "fuel_combustion", "fuel": "diesel", "quantity": {"value": "10", "unit": "t"}}
    )
    parameters = line["parameters"]
    assert isinstance(parameters, dict)
    energy = fuel_energy(quantity=D("10"), ncv=parameters["ncv"]["value"])
    expected = fuel_combustion_co2(
        energy_gj=energy,
        carbon_content=parameters["carbon_content"]["value"],
        oxidation_factor=parameters["oxidation_factor"]["value"],
        c_to_co2=C_TO_CO2,
    )
    assert parameters["ncv"]["value"] == D("42.652")
    assert line["co2e"] == expected.quantize(D("0.000001"))
    assert close(expected, D("8.44338992") * 44 / 12)


def test_the_carbon_mass_balance_line_gives_the_formula_figure() -> None:
    line = _line(
        {
            "ref": "eaf",
            "source": "carbon_mass_balance",
            "inputs": [
                {
                    "material": "pig iron",
                    "quantity": {"value": "1000", "unit": "t"},
                    "carbon_content": "0.04",
                },
                {"material": "coke", "quantity": {"value": "200", "unit": "t"}, "carbon_content": "0.85"},
            ],
            "outputs": [
                {"material": "steel", "quantity": {"value": "950", "unit": "t"}, "carbon_content": "0.002"}
            ],
        }
    )
    expected = carbon_mass_balance_co2(carbon_in=D("210"), carbon_out=D("1.9"), c_to_co2=C_TO_CO2)
    assert line["co2e"] == expected.quantize(D("0.000001"))

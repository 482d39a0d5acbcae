"""Every line kind and method variant against hand-computed figures (tonnes, exact decimals).

Expected figures were worked out by hand from METHODS.md, not by the engine; each comment shows
the arithmetic. Agreement: relative 1e-9 or absolute 0.000001 t (the examples' rule).
"""

from __future__ import annotations

from typing import Any

import pytest

from accounting import calculate
from tests.accounting.conftest import agrees


def q(value: str, unit: str) -> dict[str, str]:
    return {"value": value, "unit": unit}


def one(line: dict[str, Any], methodology: str = "cn-mee-2024", **top: Any) -> dict[str, Any]:
    result = calculate({"methodology": methodology, "lines": [line], **top}).as_json()
    return result["lines"][0]


CASES: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
    # 100 × 10^4 Nm3 × 389.31 GJ/10^4 Nm3 × 0.0153 tC/GJ × 0.99 × 44/12
    (
        "fuel-gas-in-Nm3",
        "cn-mee-2024",
        {
            "source": "fuel_combustion",
            "fuel": "natural_gas",
            "quantity": q("1000000", "Nm3"),
            "ncv": q("389.31", "GJ/10^4 Nm3"),
            "carbon_content": q("0.0153", "tC/GJ"),
            "oxidation_factor": "0.99",
        },
        {"CO2": "2162.188809", "co2e": "2162.188809"},
    ),
    (
        "fuel-gas-in-10^4-Nm3",
        "cn-mee-2024",
        {
            "source": "fuel_combustion",
            "fuel": "natural_gas",
            "quantity": q("100", "10^4 Nm3"),
            "ncv": q("389.31", "GJ/10^4 Nm3"),
            "carbon_content": q("15.3", "tC/TJ"),
            "oxidation_factor": q("99", "%"),
        },
        {"CO2": "2162.188809"},
    ),
    # carbon content per mass: 1000 t × 0.6 tC/t × 0.95 × 44/12 = 2090
    (
        "fuel-carbon-per-mass",
        "cn-mee-2024",
        {
            "source": "fuel_combustion",
            "fuel": "bituminous_coal",
            "quantity": q("1000", "t"),
            "carbon_content": q("0.6", "tC/t"),
            "oxidation_factor": "0.95",
        },
        {"CO2": "2090"},
    ),
    # NCV in kcal(IT)/kg: 100 t × 10200 × 4.1868e-3 GJ/t × 74.1 tCO2/TJ / 1000 = 316.4467176
    (
        "fuel-ncv-kcal-ef-per-TJ",
        "cn-mee-2024",
        {
            "source": "fuel_combustion",
            "fuel": "diesel",
            "quantity": q("100", "t"),
            "ncv": q("10200", "kcal/kg"),
            "emission_factor": q("74.1", "tCO2/TJ"),
        },
        {"CO2": "316.4467176"},
    ),
    # energy in tce: 10 × 29.3076 GJ × 0.0275 tC/GJ × 1 × 44/12 = 29.55183
    (
        "fuel-energy-in-tce",
        "cn-mee-2024",
        {
            "source": "fuel_combustion",
            "fuel": "petroleum_coke",
            "quantity": q("10", "tce"),
            "carbon_content": q("0.0275", "tC/GJ"),
            "oxidation_factor": "1",
        },
        {"CO2": "29.55183"},
    ),
    # China defaults: 1000 t × 24.515 × 0.02749 × 0.94 × 44/12
    (
        "fuel-cn-defaults",
        "cn-mee-2024",
        {"source": "fuel_combustion", "fuel": "anthracite", "quantity": q("1000", "t")},
        {"CO2": "2322.768466333"},
    ),
    # IPCC Tier 1 defaults: 1000 t × 26.7 GJ/t × 98.3 tCO2/TJ / 1000 = 2624.61
    (
        "fuel-ipcc-defaults",
        "ipcc-2006",
        {"source": "fuel_combustion", "fuel": "anthracite", "quantity": q("1", "kt")},
        {"CO2": "2624.61"},
    ),
    # biomass: 100 t × 15 GJ/t × 0.1 tCO2/GJ = 150 t biogenic, 0 counted
    (
        "fuel-biomass-memo",
        "cn-mee-2024",
        {
            "source": "fuel_combustion",
            "fuel": "biomass",
            "quantity": q("100", "t"),
            "ncv": q("15", "GJ/t"),
            "emission_factor": q("100", "tCO2/TJ"),
        },
        {"CO2": "0", "biogenic_co2": "150"},
    ),
    # exported by-product gas: −(10 × 10^4 Nm3 × 33 GJ × 0.0708 × 0.99 × 44/12) = −84.81132
    (
        "fuel-exported",
        "cn-mee-2024",
        {
            "source": "fuel_combustion",
            "fuel": "blast_furnace_gas",
            "direction": "exported",
            "quantity": q("10", "10^4 Nm3"),
            "ncv": q("33", "GJ/10^4 Nm3"),
            "carbon_content": q("0.0708", "tC/GJ"),
            "oxidation_factor": "0.99",
        },
        {"CO2": "-84.81132"},
    ),
    # default grid factor for 2024 = 2023 national 0.5306: 1000 MWh → 530.6
    (
        "electricity-default-grid",
        "cn-mee-2024",
        {"source": "electricity", "quantity": q("1", "GWh")},
        {"CO2": "530.6"},
    ),
    # regional grid 2022 east 0.5617 (report year 2022): 1000 MWh → 561.7
    (
        "electricity-regional-grid",
        "cn-mee-2024",
        {"source": "electricity", "quantity": q("1000000", "kWh"), "grid": "east"},
        {"CO2": "561.7"},
    ),
    (
        "electricity-exported",
        "cn-mee-2024",
        {
            "source": "electricity",
            "quantity": q("100", "MWh"),
            "emission_factor": q("0.5", "kgCO2/kWh"),
            "direction": "exported",
        },
        {"CO2": "-50"},
    ),
    # steam: 100 t × (2800 − 83.74) kJ/kg / 1000 = 271.626 GJ × 0.11 = 29.87886
    (
        "heat-steam",
        "cn-mee-2024",
        {"source": "heat", "steam": {"mass": q("100", "t"), "enthalpy": q("2800", "kJ/kg")}},
        {"CO2": "29.87886"},
    ),
    # hot water: 1000 t × (90 − 20) × 4.1868 / 1000 = 293.076 GJ × 0.11 = 32.23836
    (
        "heat-hot-water",
        "cn-mee-2024",
        {"source": "heat", "hot_water": {"mass": q("1000", "t"), "temperature": q("90", "degC")}},
        {"CO2": "32.23836"},
    ),
    (
        "heat-hot-water-kelvin",
        "cn-mee-2024",
        {"source": "heat", "hot_water": {"mass": q("1000", "t"), "temperature": q("363.15", "K")}},
        {"CO2": "32.23836"},
    ),
    # heat as energy with a measured factor: 1000 GJ (= 277.7… MWh given in GJ) × 0.1 = 100
    (
        "heat-energy",
        "cn-mee-2024",
        {"source": "heat", "quantity": q("1", "TJ"), "emission_factor": q("0.1", "tCO2/GJ")},
        {"CO2": "100"},
    ),
    # IPCC Tier 2 stoichiometry: 1000 × (0.65/0.5603 × 0.43971 + 0.02/0.47803 × 0.52197)
    # (ipcc-2006@2006.1, no CF_ckd; 2006.2 is in test_ipcc_2006_2.py)
    (
        "clinker-carbonate-ipcc",
        "ipcc-2006@2006.1",
        {"source": "clinker_carbonate", "clinker": q("1000", "t"), "mgo_fraction": "0.02"},
        {"CO2": "531.942786697"},
    ),
    # China default factor: 1000 t × 0.535 = 535
    (
        "clinker-default",
        "cn-mee-2024",
        {"source": "clinker_default", "clinker": q("1000", "t")},
        {"CO2": "535"},
    ),
    # substitutes: 1000 × 0.550 (white) − 100 t carbide slag × 0.480 − 200 t steel slag × 0.215 = 459
    (
        "clinker-default-substitutes",
        "cn-mee-2024",
        {
            "source": "clinker_default",
            "clinker": q("1000", "t"),
            "clinker_type": "white",
            "substitutes": [
                {"material": "carbide_slag", "quantity": q("100", "t")},
                {"material": "steel_slag", "quantity": q("200", "t")},
            ],
        },
        {"CO2": "459"},
    ),
    # 1000 t × 0.002 × 44/12 = 7.333333
    (
        "raw-meal",
        "cn-mee-2024",
        {
            "source": "raw_meal_organic_carbon",
            "raw_meal": q("1000", "t"),
            "organic_carbon_fraction": q("0.2", "%"),
        },
        {"CO2": "7.333333333"},
    ),
    (
        "carbonate-cn",
        "cn-mee-2024",
        {"source": "carbonate", "material": "limestone", "quantity": q("1000", "t")},
        {"CO2": "440"},
    ),
    (
        "carbonate-ipcc",
        "ipcc-2006",
        {"source": "carbonate", "material": "limestone", "quantity": q("1000", "t")},
        {"CO2": "439.71"},
    ),
    ("electrode", "cn-mee-2024", {"source": "electrode", "quantity": q("10", "t")}, {"CO2": "36.63"}),
    (
        "carbon-input",
        "cn-mee-2024",
        {"source": "carbon_input", "material": "scrap", "quantity": q("1000", "t")},
        {"CO2": "37"},
    ),
    (
        "carbon-fixed-output",
        "cn-mee-2024",
        {"source": "carbon_fixed_output", "product": "methanol", "quantity": q("100", "t")},
        {"CO2": "-137.5"},
    ),
    # (1000 × 0.75 + 100 × 2 tC/10^4 Nm3 − 2000 × 0.2 %) × 44/12 = 946 × 44/12
    (
        "carbon-mass-balance",
        "cn-mee-2024",
        {
            "source": "carbon_mass_balance",
            "inputs": [
                {"material": "coal", "quantity": q("1000", "t"), "carbon_content": "0.75"},
                {
                    "material": "bf gas",
                    "quantity": q("100", "10^4 Nm3"),
                    "carbon_content": q("2", "tC/10^4 Nm3"),
                },
            ],
            "outputs": [{"material": "steel", "quantity": q("2000", "t"), "carbon_content": q("0.2", "%")}],
        },
        {"CO2": "3468.666666667"},
    ),
    # China defaults: 1000 × 0.411 × (1 − 0.02 − 0.004) × 44/12 = 1470.832
    (
        "anode-consumption-defaults",
        "cn-mee-2024",
        {"source": "anode_consumption", "aluminium_production": q("1000", "t")},
        {"CO2": "1470.832"},
    ),
    # no anode-effect data: CF4 0.034 kg/t, C2F6 0.0034 kg/t × 1000 t; CO2e = 0.034 × 6630 + 0.0034 × 11100
    (
        "anode-effect-cn-mee-no-data",
        "cn-mee-2024",
        {"source": "anode_effect", "method": "cn_mee", "aluminium_production": q("1000", "t")},
        {"CF4": "0.034", "C2F6": "0.0034", "co2e": "263.16"},
    ),
    # slope CWPB: 0.1 × 0.143 × 100000 / 1000 = 1.43 t CF4; C2F6 = 1.43 × 0.121 = 0.17303
    (
        "anode-effect-slope",
        "cn-mee-2024",
        {
            "source": "anode_effect",
            "method": "slope",
            "cell_technology": "CWPB",
            "aluminium_production": q("100000", "t"),
            "anode_effect_minutes": "0.1",
        },
        {"CF4": "1.43", "C2F6": "0.17303", "co2e": "11401.533"},
    ),
    (
        "anode-effect-slope-ipcc",
        "ipcc-2006",
        {
            "source": "anode_effect",
            "method": "slope",
            "cell_technology": "SWPB",
            "aluminium_production": q("1000", "t"),
            "anode_effect_minutes": "1",
        },
        {"CF4": "0.272", "C2F6": "0.068544"},
    ),
    # overvoltage CWPB: 1.16 × 10 mV / 95 % × 100000 / 1000 = 12.2105263…; C2F6 × 0.121
    (
        "anode-effect-overvoltage",
        "cn-mee-2024",
        {
            "source": "anode_effect",
            "method": "overvoltage",
            "cell_technology": "CWPB",
            "aluminium_production": q("100000", "t"),
            "overvoltage_mv": "10",
            "current_efficiency": q("95", "%"),
        },
        {"CF4": "12.210526316", "C2F6": "1.477473684", "co2e": "97355.747368421"},
    ),
    (
        "anode-effect-overvoltage-fraction",
        "cn-mee-2024",
        {
            "source": "anode_effect",
            "method": "overvoltage",
            "cell_technology": "CWPB",
            "aluminium_production": q("100000", "t"),
            "overvoltage_mv": q("10", "mV"),
            "current_efficiency": "0.95",
        },
        {"CF4": "12.210526316"},
    ),
    # Tier 1 SWPB: 1.6 and 0.4 kg/t × 1000 t; CO2e = 1.6 × 6630 + 0.4 × 11100 = 15048
    (
        "anode-effect-tier1",
        "ipcc-2006",
        {
            "source": "anode_effect",
            "method": "tier1",
            "cell_technology": "SWPB",
            "aluminium_production": q("1000", "t"),
        },
        {"CF4": "1.6", "C2F6": "0.4", "co2e": "15048"},
    ),
    # baking: (1000 − 5 − 950 − 2) + 0.015 × 950 × (1 − 0.02 − 0.004) = 56.908 tC × 44/12
    (
        "anode-baking",
        "cn-mee-2024",
        {
            "source": "anode_baking",
            "green_anodes": q("1000", "t"),
            "hydrogen_content": q("0.5", "%"),
            "baked_anodes": q("950", "t"),
            "waste_tar": q("2", "t"),
            "packing_coke_rate": "0.015",
        },
        {"CO2": "208.662666667"},
    ),
    (
        "production",
        "cn-mee-2024",
        {"source": "production", "product": "clinker", "quantity": q("1000", "t")},
        {"co2e": "0"},
    ),
]


@pytest.mark.parametrize(
    ("methodology", "line", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_line_against_hand_computed_figure(
    methodology: str, line: dict[str, Any], expected: dict[str, str]
) -> None:
    result = one(line, methodology, year=2022 if line.get("grid") else 2024)
    for key, value in expected.items():
        actual = result["gases"][key] if key in ("CO2", "CF4", "C2F6") else result[key]
        assert agrees(actual, value), f"{key}: {actual} != {value}"


def test_gas_in_nm3_and_in_10e4_nm3_agree_exactly() -> None:
    base = {"source": "fuel_combustion", "fuel": "natural_gas", "ncv": q("389.31", "GJ/10^4 Nm3")}
    small = one({**base, "quantity": q("1234567", "Nm3")})
    large = one({**base, "quantity": q("123.4567", "10^4 Nm3")})
    assert small["gases"] == large["gases"]


def test_carbon_content_per_energy_and_per_mass_agree() -> None:
    # 0.02618 tC/GJ at 25 GJ/t is 0.6545 tC/t.
    base = {
        "source": "fuel_combustion",
        "fuel": "bituminous_coal",
        "quantity": q("1000", "t"),
        "oxidation_factor": "0.93",
    }
    per_energy = one({**base, "ncv": q("25", "GJ/t"), "carbon_content": q("0.02618", "tC/GJ")})
    per_mass = one({**base, "carbon_content": q("0.6545", "tC/t")})
    assert per_energy["co2e"] == per_mass["co2e"]


def test_all_anode_effect_methods_report_cf4_c2f6_and_co2e_with_gwp() -> None:
    line = one(
        {
            "source": "anode_effect",
            "method": "tier1",
            "cell_technology": "CWPB",
            "aluminium_production": q("1000", "t"),
        },
        "ipcc-2006",
    )
    assert line["gases"]["CO2"] == 0
    # 0.4 × 6630 + 0.04 × 11100 = 2652 + 444 = 3096
    assert agrees(line["co2e"], "3096")


def test_omitted_parameters_take_defaults_and_are_reported_as_default() -> None:
    line = one({"source": "fuel_combustion", "fuel": "anthracite", "quantity": q("1000", "t")})
    parameters = line["parameters"]
    assert parameters["quantity"]["origin"] == "measured"
    for name, value in (("ncv", "24.515"), ("carbon_content", "0.02749"), ("oxidation_factor", "0.94")):
        assert parameters[name]["origin"] == "default"
        assert agrees(parameters[name]["value"], value)
        assert parameters[name]["confidence"] in {"V", "3P", "UV"}
        assert parameters[name]["source"]
    assert line["origin"] == "default"


def test_line_with_every_parameter_given_is_measured() -> None:
    line = one(
        {
            "source": "fuel_combustion",
            "fuel": "anthracite",
            "quantity": q("1000", "t"),
            "ncv": q("24", "GJ/t"),
            "carbon_content": q("0.027", "tC/GJ"),
            "oxidation_factor": "0.95",
        }
    )
    assert line["origin"] == "measured"
    assert {p["origin"] for p in line["parameters"].values()} == {"measured"}


def test_default_share_counts_emissions_resting_on_defaults() -> None:
    result = calculate(
        {
            "lines": [
                {"source": "electrode", "quantity": q("100", "t")},  # 366.3 t, default factor
                {
                    "source": "electrode",
                    "quantity": q("100", "t"),
                    "emission_factor": q("3.6", "tCO2/t"),
                },  # 360, measured
            ]
        }
    ).as_json()
    assert agrees(result["totals"]["default_share"], str(366.3 / 726.3)[:14])


def test_intensity_uses_the_sector_product_and_rounded_figures_sit_beside_exact_ones() -> None:
    result = calculate(
        {
            "sector": "cement",
            "lines": [
                {
                    "source": "raw_meal_organic_carbon",
                    "raw_meal": q("1000", "t"),
                    "organic_carbon_fraction": "0.002",
                },
                {"source": "production", "product": "clinker", "quantity": q("10", "t")},
                {"source": "production", "product": "clinker", "quantity": q("10", "t"), "month": 2},
            ],
        }
    ).as_json()
    assert result["intensity"]["product"] == "clinker"
    assert agrees(result["intensity"]["direct"], "0.366666666667")
    assert agrees(result["totals"]["direct"], "7.333333")
    assert result["totals"]["reported"]["direct"] == 7


def test_no_intensity_without_the_sector_product() -> None:
    result = calculate(
        {"sector": "steel", "lines": [{"source": "electrode", "quantity": q("1", "t")}]}
    ).as_json()
    assert result["intensity"] is None


def test_reported_figures_round_half_up_to_whole_tonnes() -> None:
    # 0.5 t exactly: half up gives 1 (half even would give 0)
    result = calculate(
        {"lines": [{"source": "electrode", "quantity": q("1", "t"), "emission_factor": q("0.5", "tCO2/t")}]}
    ).as_json()
    assert result["totals"]["reported"]["total"] == 1


def test_refs_are_kept_in_order_and_assigned_when_missing() -> None:
    result = calculate(
        {
            "lines": [
                {"source": "electrode", "quantity": q("1", "t")},
                {"ref": "line-1", "source": "electrode", "quantity": q("1", "t")},
            ]
        }
    ).as_json()
    assert [line["ref"] for line in result["lines"]] == ["line-1-2", "line-1"]


def test_a_default_inside_a_nested_object_makes_the_line_default() -> None:
    line = one(
        {
            "source": "clinker_default",
            "clinker": q("1000", "t"),
            "emission_factor": q("0.5", "tCO2/t"),
            "substitutes": [{"material": "carbide_slag", "quantity": q("10", "t")}],
        }
    )
    assert line["parameters"]["substitutes/0/deduction_factor"]["origin"] == "default"
    assert line["origin"] == "default"

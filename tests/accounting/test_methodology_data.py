"""Shape and provenance of the methodology data files (pure: tomllib only, no Django).

Every default factor is an inline table ``{value, unit, source, table, confidence}``; a
plausibility band has ``low``/``high`` instead of ``value``. Numbers are strings: an exact decimal
or an exact ratio such as ``"44/12"``, never a TOML float.
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / "accounting" / "data" / "methodologies"
CODES = ("cn-mee-2024", "ipcc-2006")

CONFIDENCE = {"V", "3P", "UV"}
UNITS = {
    "t",
    "GJ/t",
    "GJ/10^4 Nm3",
    "tC/GJ",
    "tC/TJ",
    "tCO2/TJ",
    "tCO2/GJ",
    "tCO2/MWh",
    "tCO2/t",
    "tC/t",
    "kg/t",
    "t/t",
    "kJ/kg",
    "degC",
    "kJ/(kg*K)",
    "%",
    "1",
    "tCO2/tC",
    "kg/t per AE-min/cell-day",
    "kg/t per mV",
    "AE-min/cell-day",
    "GJ",
    "d",
}
BAND_UNITS = UNITS | {"kWh/t", "tCO2e/t"}

TOP_LEVEL = {
    "code",
    "title",
    "version",
    "published",
    "gwp",
    "default_anode_effect_method",
    "sources",
    "rounding",
    "methods",
    "constants",
    "products",
    "fuels",
    "grid_factors",
    "heat",
    "clinker_types",
    "substitutes",
    "carbonates",
    "electrode",
    "carbon_inputs",
    "fixed_carbon_products",
    "aluminium",
    "cell_technologies",
    "plausibility",
}
METHODS = {
    "fuel_combustion": "fuel_combustion",
    "electricity": "purchased_electricity",
    "heat": "purchased_heat",
    "clinker_carbonate": "clinker_carbonate",
    "clinker_default": "clinker_default",
    "raw_meal_organic_carbon": "raw_meal_organic_carbon",
    "carbonate": "carbonate",
    "electrode": "electrode",
    "carbon_input": "carbon_input",
    "carbon_fixed_output": "carbon_fixed_output",
    "carbon_mass_balance": "carbon_mass_balance",
    "anode_consumption": "anode_consumption",
    "anode_effect": "anode_effect",
    "anode_baking": "anode_baking",
    "production": "production",
}
PRODUCTS = {"cement": "clinker", "steel": "crude_steel", "aluminium": "aluminium_liquid"}
NO_DEFAULT_FUELS = {
    "waste_tyres",
    "waste_oil",
    "waste_plastics",
    "waste_solvents",
    "waste_leather",
    "other_fossil",
    "biomass",
}
CN_FUELS = {
    "anthracite",
    "bituminous_coal",
    "lignite",
    "washed_coal",
    "other_washed_coal",
    "briquettes",
    "coke",
    "crude_oil",
    "fuel_oil",
    "gasoline",
    "diesel",
    "kerosene",
    "petroleum_coke",
    "coal_tar",
    "crude_benzole",
    "lpg",
    "refinery_gas",
    "natural_gas",
    "coke_oven_gas",
    "blast_furnace_gas",
    "converter_gas",
    "other_gas",
}
CN_GASES = {"natural_gas", "coke_oven_gas", "blast_furnace_gas", "converter_gas", "other_gas"}
IPCC_FUELS = {
    "anthracite",
    "coking_coal",
    "bituminous_coal",
    "sub_bituminous_coal",
    "lignite",
    "coke",
    "petroleum_coke",
    "diesel",
    "fuel_oil",
    "lpg",
    "natural_gas",
    "coke_oven_gas",
    "blast_furnace_gas",
    "converter_gas",
}
REGIONS = {"north", "northeast", "east", "central", "northwest", "south", "southwest"}
CLINKER_TYPES = {"portland", "white", "sulphoaluminate", "aluminate"}
CN_SUBSTITUTES = {
    "desulfurisation_powder",
    "slaked_lime",
    "carbide_slag",
    "magnesium_slag",
    "paper_lime_mud",
    "calcium_fluoride_sludge",
    "phosphorus_slag",
    "vanadium_titanium_slag",
    "nitrogen_slag",
    "incineration_fly_ash",
    "ferroalloy_slag",
    "desulfurisation_gypsum",
    "phosphogypsum",
    "titanogypsum",
    "fluorogypsum",
    "borogypsum",
    "mould_gypsum",
    "citric_acid_residue",
    "steel_slag",
    "nickel_slag",
    "manganese_slag",
    "zinc_slag",
    "tin_slag",
    "municipal_sludge",
    "aluminium_dross",
    "pyrite_cinder",
    "copper_slag",
    "lead_zinc_slag",
    "coal_fly_ash",
    "red_mud",
}
CARBON_INPUTS = {
    "pig_iron",
    "dri",
    "ferronickel",
    "ferrosilicon",
    "ferromolybdenum",
    "silicomanganese",
    "low_carbon_silicomanganese",
    "blast_furnace_ferromanganese",
    "high_carbon_ferromanganese",
    "micro_carbon_ferromanganese",
    "high_carbon_ferrochrome",
    "scrap",
}
CELL_KEYS = {"slope_cf4", "c2f6_ratio"}
OVERVOLTAGE_CELLS = {"CWPB", "SWPB"}
TIER1_CELLS = {"CWPB", "SWPB", "VSS", "HSS"}
PLAUSIBILITY = {
    "clinker_process_ef",
    "clinker_cao_fraction",
    "clinker_mgo_fraction",
    "cement_direct_intensity",
    "bf_bof_direct_intensity",
    "eaf_direct_intensity",
    "eaf_electricity_intensity",
    "aluminium_direct_intensity",
    "aluminium_electricity_intensity",
    "net_anode_consumption",
    "anode_effect_minutes",
    "coal_ncv",
    "natural_gas_ncv",
    "year_on_year_intensity_change",
}
# Tables holding plain strings or the rounding rule, not factor leaves.
NOT_FACTORS = {"sources", "methods", "products", "rounding"}


def load(code: str) -> dict[str, Any]:
    with (DATA / f"{code}.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="module", params=CODES)
def methodology(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(request.param)


@pytest.fixture(scope="module")
def cn() -> dict[str, Any]:
    return load("cn-mee-2024")


@pytest.fixture(scope="module")
def ipcc() -> dict[str, Any]:
    return load("ipcc-2006")


def number(text: object) -> Decimal:
    """Parse a decimal string or an exact ratio ``"a/b"`` of two decimals; fail on anything else."""
    assert isinstance(text, str), f"number {text!r} must be a string, not {type(text).__name__}"
    parts = text.split("/")
    assert len(parts) in (1, 2), f"{text!r} is not a decimal or a ratio"
    try:
        values = [Decimal(part) for part in parts]
    except InvalidOperation:
        pytest.fail(f"{text!r} is not a decimal or a ratio")
    for part, value in zip(parts, values, strict=True):
        assert part == part.strip(), f"{text!r} has blanks"
        assert value.is_finite(), f"{text!r} is not a finite decimal"
    if len(values) == 2:
        assert values[1] != 0, f"{text!r} divides by zero"
        return values[0] / values[1]
    return values[0]


def leaves(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield every factor leaf (a table with ``value`` or ``low``/``high``) with its dotted path."""
    for key, child in node.items():
        where = f"{path}.{key}" if path else key
        if not path and key in NOT_FACTORS:
            continue
        if isinstance(child, dict):
            if "value" in child or "low" in child or "high" in child:
                yield where, child
            else:
                yield from leaves(child, where)
        elif not path:
            assert isinstance(child, str), f"{where}: top-level scalar must be a string"
        else:
            assert key == "requires_parameters", f"{where}: stray scalar {child!r}"
            assert child is True, f"{where}: must be true"


def values(node: dict[str, Any]) -> dict[str, tuple[str, str, str, str]]:
    """Each leaf under ``node`` as (value, unit, source, confidence), keyed by its path."""
    return {
        where: (leaf["value"], leaf["unit"], leaf["source"], leaf["confidence"])
        for where, leaf in leaves(node, "_")
    }


# --- the whole file -------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_file_parses_and_names_itself(code: str) -> None:
    data = load(code)
    assert data["code"] == code
    assert data["gwp"] == "AR5"
    for key in ("title", "version", "published"):
        assert isinstance(data[key], str)
        assert data[key]
    datetime.date.fromisoformat(data["published"])


def test_schema_keys(methodology: dict[str, Any]) -> None:
    missing = TOP_LEVEL - methodology.keys()
    assert not missing, f"missing tables: {sorted(missing)}"
    assert methodology["methods"] == METHODS
    assert methodology["products"] == PRODUCTS
    assert set(methodology["constants"]) == {"c_to_co2", "cao_to_co2", "mgo_to_co2"}
    assert set(methodology["heat"]) == {
        "emission_factor",
        "steam_reference_enthalpy",
        "hot_water_reference_temperature",
        "water_specific_heat",
    }
    assert set(methodology["electrode"]) == {"emission_factor"}
    assert set(methodology["plausibility"]) == PLAUSIBILITY
    assert methodology["sources"], "no sources"
    assert all(isinstance(text, str) and text for text in methodology["sources"].values())


def test_rounding(methodology: dict[str, Any]) -> None:
    rounding = methodology["rounding"]
    assert isinstance(rounding["places"], int)
    assert rounding["places"] == 0
    assert rounding["mode"] == "half_up"
    assert rounding["source"] in methodology["sources"]
    assert rounding["confidence"] in CONFIDENCE


def test_every_leaf_carries_provenance(methodology: dict[str, Any]) -> None:
    found = list(leaves(methodology))
    assert len(found) > 50
    for where, leaf in found:
        band = "value" not in leaf
        numbers = ("low", "high") if band else ("value",)
        expected = {*numbers, "unit", "source", "table", "confidence"}
        assert set(leaf) == expected, f"{where}: keys {sorted(leaf)} != {sorted(expected)}"
        for key in numbers:
            number(leaf[key])
        assert leaf["unit"] in (BAND_UNITS if band else UNITS), f"{where}: unit {leaf['unit']!r}"
        assert leaf["source"] in methodology["sources"], f"{where}: unknown source {leaf['source']!r}"
        assert leaf["confidence"] in CONFIDENCE, f"{where}: confidence {leaf['confidence']!r}"
        assert isinstance(leaf["table"], str), f"{where}: table must be a string"
        assert leaf["table"].strip(), f"{where}: no table"
        if band:
            assert number(leaf["low"]) < number(leaf["high"]), f"{where}: empty band"


def test_every_source_is_cited(methodology: dict[str, Any]) -> None:
    cited = {leaf["source"] for _, leaf in leaves(methodology)} | {methodology["rounding"]["source"]}
    assert cited == set(methodology["sources"])


# --- sections -------------------------------------------------------------------------------


def test_fuels_without_defaults(methodology: dict[str, Any]) -> None:
    fuels = methodology["fuels"]
    for code in NO_DEFAULT_FUELS:
        assert fuels[code]["requires_parameters"] is True
        extra = set(fuels[code]) - {"requires_parameters", "biomass_fraction"}
        assert not extra, f"{code} carries defaults {extra}"
    assert "biomass_fraction" not in fuels["waste_tyres"]
    assert number(fuels["biomass"]["biomass_fraction"]["value"]) == 1


def test_cn_fuels(cn: dict[str, Any]) -> None:
    fuels = cn["fuels"]
    assert set(fuels) == CN_FUELS | NO_DEFAULT_FUELS
    for code in CN_FUELS:
        fuel = fuels[code]
        assert set(fuel) == {"ncv", "carbon_content", "oxidation_factor"}, code
        assert fuel["ncv"]["unit"] == ("GJ/10^4 Nm3" if code in CN_GASES else "GJ/t"), code
        assert fuel["carbon_content"]["unit"] == "tC/GJ"
        assert Decimal("0.01") < number(fuel["carbon_content"]["value"]) < Decimal("0.1"), code
        assert fuel["oxidation_factor"]["unit"] == "1"
        assert 0 < number(fuel["oxidation_factor"]["value"]) <= 1, code


def test_ipcc_fuels(ipcc: dict[str, Any]) -> None:
    fuels = ipcc["fuels"]
    assert set(fuels) == IPCC_FUELS | NO_DEFAULT_FUELS
    for code in IPCC_FUELS:
        fuel = fuels[code]
        assert set(fuel) == {"ncv", "emission_factor"}, code
        assert fuel["ncv"]["unit"] == "GJ/t", code  # gases too: IPCC NCVs are per mass
        assert fuel["emission_factor"]["unit"] == "tCO2/TJ"
        assert 40 < number(fuel["emission_factor"]["value"]) < 300, code


def test_grid_factors_are_the_same_national_data(cn: dict[str, Any], ipcc: dict[str, Any]) -> None:
    grid = cn["grid_factors"]
    assert set(grid) == {"national"} | REGIONS
    assert set(grid["national"]) == {"2021", "2022", "2023"}
    for region in REGIONS:
        assert set(grid[region]) == {"2022", "2023"}, region
    assert ipcc["grid_factors"] == grid
    assert ipcc["heat"] == cn["heat"]


def test_cement(cn: dict[str, Any], ipcc: dict[str, Any]) -> None:
    assert set(cn["clinker_types"]) == CLINKER_TYPES == set(ipcc["clinker_types"])
    assert set(cn["substitutes"]) == CN_SUBSTITUTES
    assert ipcc["substitutes"] == {}
    assert "clinker" not in cn
    assert number(ipcc["clinker"]["cao_fraction"]["value"]) == Decimal("0.65")
    for clinker_type in ipcc["clinker_types"].values():
        assert number(clinker_type["emission_factor"]["value"]) == Decimal("0.51") * Decimal("1.02")


def test_constants(cn: dict[str, Any], ipcc: dict[str, Any]) -> None:
    for data in (cn, ipcc):
        assert data["constants"]["c_to_co2"]["value"] == "44/12"
    assert cn["constants"]["cao_to_co2"]["value"] == "44/56"
    assert cn["constants"]["mgo_to_co2"]["value"] == "44/40"
    # IPCC Eq 2.4 / Table 2.1: 0.43971/0.5603 and 0.52197/0.47803, written as integer ratios.
    assert ipcc["constants"]["cao_to_co2"]["value"] == "43971/56030"
    assert ipcc["constants"]["mgo_to_co2"]["value"] == "52197/47803"
    assert Fraction("43971/56030") == Fraction("0.43971") / Fraction("0.5603")
    assert Fraction("52197/47803") == Fraction("0.52197") / Fraction("0.47803")
    # IPCC stoichiometry agrees with the molar-mass ratios (CO2 44.0095, CaO 56.0774, MgO 40.3044);
    # China's 44/56 and 44/40 round the molar masses to whole numbers.
    assert abs(number("0.43971/0.5603") - number("44.0095/56.0774")) < Decimal("0.0001")
    assert abs(number("0.52197/0.47803") - number("44.0095/40.3044")) < Decimal("0.0001")


def test_steel(cn: dict[str, Any], ipcc: dict[str, Any]) -> None:
    assert {"limestone", "dolomite", "magnesite", "soda_ash"} <= set(cn["carbonates"])
    assert {"limestone", "dolomite", "magnesite", "siderite", "soda_ash"} <= set(ipcc["carbonates"])
    assert set(cn["carbon_inputs"]) == CARBON_INPUTS
    # China's values in both files: IPCC has no such tables.
    for table in ("carbon_inputs", "fixed_carbon_products", "electrode"):
        assert values(ipcc[table]) == values(cn[table]), table
    assert set(cn["fixed_carbon_products"]) == {"crude_steel", "methanol"}


def test_aluminium(cn: dict[str, Any], ipcc: dict[str, Any]) -> None:
    shared = {
        "sulphur_fraction",
        "ash_fraction",
        "packing_coke_sulphur_fraction",
        "packing_coke_ash_fraction",
    }
    assert set(cn["aluminium"]) == shared | {"net_anode_consumption"}
    assert set(ipcc["aluminium"]) == shared  # net anode consumption is plant-specific in IPCC
    for data in (cn, ipcc):
        for key in shared:
            assert data["aluminium"][key]["unit"] == "1"
            assert 0 <= number(data["aluminium"][key]["value"]) < 1
    assert cn["default_anode_effect_method"] == "cn_mee"
    assert ipcc["default_anode_effect_method"] == "tier1"
    assert set(cn["anode_effect"]) == {"cn_mee"}
    assert set(cn["anode_effect"]["cn_mee"]) == {
        "cf4_slope",
        "c2f6_to_cf4",
        "cf4_without_data",
        "c2f6_without_data",
    }
    assert "anode_effect" not in ipcc


@pytest.mark.parametrize(
    ("code", "technologies"),
    [("cn-mee-2024", TIER1_CELLS | {"PFPB_L", "PFPB_M"}), ("ipcc-2006", TIER1_CELLS)],
)
def test_cell_technologies(code: str, technologies: set[str]) -> None:
    cells = load(code)["cell_technologies"]
    assert set(cells) == technologies
    for name, cell in cells.items():
        expected = set(CELL_KEYS)
        if name in OVERVOLTAGE_CELLS:
            expected.add("overvoltage_coefficient")
        if name in TIER1_CELLS:
            expected |= {"tier1_cf4", "tier1_c2f6"}
        assert set(cell) == expected, name


# --- spot checks against METHODS.md (the digits, as printed) --------------------------------

SPOT_CHECKS = [
    ("cn-mee-2024", "fuels.bituminous_coal.carbon_content", "0.02618"),
    ("cn-mee-2024", "fuels.natural_gas.ncv", "389.31"),
    ("cn-mee-2024", "fuels.lignite.oxidation_factor", "0.96"),
    ("cn-mee-2024", "grid_factors.national.2023", "0.5306"),
    ("cn-mee-2024", "clinker_types.portland.emission_factor", "0.535"),
    ("cn-mee-2024", "substitutes.carbide_slag.deduction_factor", "0.480"),
    ("cn-mee-2024", "electrode.emission_factor", "3.663"),
    ("cn-mee-2024", "aluminium.net_anode_consumption", "0.411"),
    ("cn-mee-2024", "anode_effect.cn_mee.c2f6_without_data", "0.0034"),
    ("cn-mee-2024", "cell_technologies.PFPB_M.slope_cf4", "0.104"),
    ("ipcc-2006", "fuels.anthracite.emission_factor", "98.3"),
    ("ipcc-2006", "fuels.blast_furnace_gas.ncv", "2.47"),
    ("ipcc-2006", "carbonates.dolomite.emission_factor", "0.47732"),
    ("ipcc-2006", "clinker_types.white.emission_factor", "0.5202"),
    ("ipcc-2006", "cell_technologies.SWPB.slope_cf4", "0.272"),
    ("ipcc-2006", "heat.emission_factor", "0.11"),
]


@pytest.mark.parametrize(("code", "path", "expected"), SPOT_CHECKS)
def test_spot_values(code: str, path: str, expected: str) -> None:
    node: Any = load(code)
    for key in path.split("."):
        node = node[key]
    assert node["value"] == expected

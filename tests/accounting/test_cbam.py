"""CBAM embedded emissions (accounting/cbam.py): attribution, SEE through precursors, defaults, errors.

Every expected figure is worked by hand in the test (the arithmetic in the comments).
"""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accounting.cbam import DefaultValue, catalogue, embedded_emissions
from accounting.errors import InvalidInput
from accounting.numbers import present
from tests.accounting.conftest import EXAMPLES_DIR, assert_figures, load_example

D = Decimal
CEMENT = EXAMPLES_DIR / "cbam" / "cement-clinker-and-cement.json"


def _t(value: str) -> dict[str, str]:
    return {"value": value, "unit": "t"}


def _mwh(value: str, factor: str, basis: str = "supplier") -> dict[str, Any]:
    return {
        "consumed": {"value": value, "unit": "MWh"},
        "emission_factor": {"value": factor, "unit": "tCO2/MWh"},
        "basis": basis,
    }


def _cement() -> dict[str, Any]:
    return copy.deepcopy(load_example(CEMENT)["request"])


def _by_ref(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {process["ref"]: process for process in result["processes"]}


def _errors(payload: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        embedded_emissions(payload)
    return [(error.pointer, error.code) for error in caught.value.errors]


def _detail(payload: Any, pointer: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        embedded_emissions(payload)
    return next(error.detail for error in caught.value.errors if error.pointer == pointer)


# -- the cement plant -------------------------------------------------------------------------------------
def test_a_cement_plant_clinker_and_cement_with_clinker_as_precursor() -> None:
    result = embedded_emissions(_cement()).as_json()
    assert result["methodology"] == "eu-mrr-2018"
    kiln, mill = _by_ref(result)["kiln"], _by_ref(result)["mill"]
    # kiln: coal 10000 t x 25.8 GJ/t x 94.6 tCO2/TJ = 258 TJ x 94.6 = 24406.8 t;
    # clinker 100000 t x (0.65 x 0.785 + 0.02 x 1.092 = 0.53209) = 53209 t; DirEm = 77615.8 t
    assert kiln["direct_emissions"] == kiln["attributed_direct"] == D("77615.8")
    # indirect: 8000 MWh x 0.5 tCO2/MWh = 4000 t
    assert kiln["attributed_indirect"] == D("4000")
    # SEE: 77615.8 / 100000 = 0.776158 direct; 4000 / 100000 = 0.04 indirect; cement counts both: 0.816158
    assert (kiln["see_direct"], kiln["see_indirect"], kiln["see_total"]) == (
        D("0.776158"),
        D("0.04"),
        D("0.816158"),
    )
    assert kiln["reported"]["see_direct"] == D("0.77616") and kiln["reported"]["see_total"] == D("0.81616")
    assert kiln["reported"]["attributed_direct"] == D("77616")  # whole tonnes, half up
    # mill: gas 100 t x 48.0 GJ/t = 4.8 TJ x 56.1 = 269.28 t direct; 5000 MWh x 0.5 = 2500 t indirect
    # precursor clinker 75000 t from the kiln: 75000 x 0.776158 = 58211.85 t direct, 75000 x 0.04 = 3000 t
    [clinker] = mill["precursors"]
    assert clinker["origin"] == "process" and clinker["basis"] == "actual" and clinker["process"] == "kiln"
    assert (clinker["embedded_direct"], clinker["embedded_indirect"]) == (D("58211.85"), D("3000"))
    # SEE_dir = (269.28 + 58211.85) / 100000 = 0.5848113; SEE_indir = (2500 + 3000) / 100000 = 0.055
    assert mill["see_direct"] == D("0.5848113")
    assert mill["see_indirect"] == D("0.055")
    assert mill["see_total"] == D("0.6398113")
    assert mill["reported"]["see_direct"] == D("0.58481")
    assert mill["reported"]["see_total"] == D("0.63981")
    [good] = mill["goods"]
    assert good["cn_code"] == "25232900" and good["see_total"] == D("0.6398113") and good["default"] is None
    assert mill["default_share"] == 0 and mill["electricity"]["basis"] == "supplier"


@pytest.mark.parametrize("path", sorted((EXAMPLES_DIR / "cbam").glob("*.json")), ids=lambda p: p.stem)
def test_the_cbam_worked_examples_reproduce(path: Path) -> None:
    example = load_example(path)
    result = embedded_emissions(example["request"]).as_json()
    expected = example["expected"]
    assert result["methodology"] == expected["methodology"]
    assert result["methodology_version"] == expected["methodology_version"]
    for ref, figures in expected["processes"].items():
        assert_figures(_by_ref(result)[ref], figures, f"/processes/{ref}")


def test_the_lines_follow_another_methodology_when_the_request_names_it() -> None:
    body = _cement()
    body["methodology"] = "cn-mee-2024"
    # China's natural gas default NCV is per volume: the gas line given in tonnes needs its own NCV
    assert _errors(body) == [("/processes/1/lines/0/ncv", "no_applicable_default")]
    body["processes"][1]["lines"] = []
    result = embedded_emissions(body).as_json()
    assert result["methodology"] == "cn-mee-2024"
    kiln = _by_ref(result)["kiln"]
    assert kiln["lines"][0]["parameters"]["ncv"]["value"] != D("25.8")  # China's coal default, not Annex VI


# -- steel: heat and waste-gas transfers, precursors actual and default ------------------------------------
def _steel() -> dict[str, Any]:
    return {
        "installation": {"name": "Example Steel", "country": "CN"},
        "year": 2026,
        "processes": [
            {
                "ref": "blast-furnace",
                "category": "pig_iron",
                "lines": [
                    {"ref": "coke", "source": "fuel_combustion", "fuel": "coke", "quantity": _t("1000")}
                ],
                "heat": {
                    "imported": {
                        "quantity": {"value": "2", "unit": "TJ"},
                        "emission_factor": {"value": "80", "unit": "tCO2/TJ"},
                    },
                    "exported": {
                        "quantity": {"value": "500", "unit": "GJ"},
                        "emission_factor": {"value": "0.1", "unit": "tCO2/GJ"},
                    },
                },
                "waste_gases": {"exported": {"quantity": _t("100"), "ncv": {"value": "10", "unit": "GJ/t"}}},
                "electricity": _mwh("100", "0.6", "grid_default"),
                "goods": [{"cn_code": "7201 10 11", "quantity": _t("1000")}],
            },
            {
                "ref": "converter",
                "category": "crude_steel",
                "goods": [{"cn_code": "7206 10 00", "quantity": _t("1000")}],
                "precursors": [
                    {"cn_code": "72011011", "quantity": _t("900"), "process": "blast-furnace"},
                    {
                        "cn_code": "7202 41 10",
                        "quantity": _t("10"),
                        "country": "ZA",
                        "see_direct": "2.5",
                        "see_indirect": "0.3",
                        "basis": "default",
                    },
                ],
            },
        ],
    }


def test_heat_and_waste_gas_transfers_are_attributed() -> None:
    furnace = _by_ref(embedded_emissions(_steel()).as_json())["blast-furnace"]
    # coke 1000 t x 28.2 GJ/t = 28.2 TJ x 107.0 = 3017.4 t
    assert furnace["direct_emissions"] == D("3017.4")
    # heat imported 2 TJ x 80 = 160 t; exported 500 GJ x 0.1 = 50 t
    assert furnace["attribution"]["heat_imported"] == D("160")
    assert furnace["attribution"]["heat_exported"] == D("50")
    # waste gas exported: 100 t x 10 GJ/t = 1000 GJ x 0.0561 tCO2/GJ (natural gas, Annex VI) x 0.667 = 37.4187 t
    assert furnace["attribution"]["waste_gases_exported"] == D("37.4187")
    # AttrEm_dir = 3017.4 + 160 - 50 - 37.4187 = 3089.9813; SEE_dir = 3089.9813 / 1000 = 3.0899813
    assert furnace["attributed_direct"] == D("3089.9813")
    assert furnace["see_direct"] == D("3.0899813")
    # indirect 100 MWh x 0.6 = 60 t, shown (0.06 t/t) but not counted for iron and steel
    assert furnace["see_indirect"] == D("0.06") and furnace["indirect_counted"] is False
    assert furnace["see_total"] == D("3.0899813")


def test_crude_steel_takes_pig_iron_from_its_process_and_a_ferro_alloy_on_a_default() -> None:
    converter = _by_ref(embedded_emissions(_steel()).as_json())["converter"]
    # no direct lines; precursors 900 t x 3.0899813 = 2780.98317 and 10 t x 2.5 = 25
    # SEE_dir = (2780.98317 + 25) / 1000 = 2.80598317; SEE_indir = (900 x 0.06 + 10 x 0.3) / 1000 = 0.057
    assert converter["see_direct"] == D("2.80598317")
    assert converter["see_indirect"] == D("0.057")
    assert converter["see_total"] == D("2.80598317")  # direct only for steel
    pig, alloy = converter["precursors"]
    assert (pig["origin"], pig["basis"]) == ("process", "actual")
    assert (alloy["origin"], alloy["basis"], alloy["country"]) == ("given", "default", "ZA")
    # share on defaults: 10 x 2.5 = 25 t of 2805.98317 t (direct only counted)
    assert converter["default_share"] == present(D(25) / D("2805.98317"), 12)
    assert converter["electricity"] is None and converter["attributed_indirect"] == 0


def test_attributed_direct_emissions_do_not_fall_below_zero() -> None:
    body = _steel()
    body["processes"][0]["heat"]["exported"]["quantity"] = {"value": "100", "unit": "TJ"}
    # 3017.4 + 160 - 100 TJ x 100 tCO2/TJ (10000) - 37.4187 < 0 -> 0
    furnace = _by_ref(embedded_emissions(body).as_json())["blast-furnace"]
    assert furnace["attributed_direct"] == 0 and furnace["see_direct"] == 0


# -- aluminium ---------------------------------------------------------------------------------------------
def test_aluminium_products_from_bought_unwrought_aluminium() -> None:
    body = {
        "installation": {"name": "Example Rolling Mill", "country": "CN"},
        "year": 2027,
        "processes": [
            {
                "ref": "rolling",
                "category": "aluminium_products",
                "lines": [
                    {"ref": "gas", "source": "fuel_combustion", "fuel": "natural_gas", "quantity": _t("50")}
                ],
                "electricity": _mwh("1000", "0.6", "ppa"),
                "goods": [{"cn_code": "7606 12 20", "quantity": _t("500")}],
                "precursors": [
                    {
                        "cn_code": "7601 10 00",
                        "quantity": _t("520"),
                        "country": "CN",
                        "see_direct": "1.8",
                        "see_indirect": {"value": "6.0", "unit": "tCO2/t"},
                    }
                ],
            }
        ],
    }
    [rolling] = embedded_emissions(body).as_json()["processes"]
    # gas 50 t x 48.0 GJ/t = 2.4 TJ x 56.1 = 134.64 t; SEE_dir = (134.64 + 520 x 1.8) / 500 = 1070.64 / 500
    assert rolling["see_direct"] == D("2.14128")
    # SEE_indir = (1000 MWh x 0.6 + 520 x 6.0) / 500 = (600 + 3120) / 500 = 7.44, not counted for aluminium
    assert rolling["see_indirect"] == D("7.44")
    assert rolling["see_total"] == D("2.14128")
    assert rolling["electricity"]["basis"] == "ppa"
    assert rolling["precursors"][0]["basis"] == "actual" and rolling["default_share"] == 0


# -- default values ------------------------------------------------------------------------------------------
def test_no_default_value_is_shipped_and_the_mark_ups_are_10_20_30_percent() -> None:
    table = catalogue()
    assert table.defaults == ()  # the notes' figures are third-party, pre-correction: not verified
    assert table.unverified_defaults == 6
    assert [(m.from_year, m.percent) for m in table.markups] == [(2026, 10), (2027, 20), (2028, 30)]
    assert table.markup_for(2025) is None and table.markup_for(2031).percent == 30  # type: ignore[union-attr]


def test_a_precursor_without_values_and_without_a_verified_default_is_refused() -> None:
    body = _cement()
    body["processes"][1]["precursors"] = [{"cn_code": "25231000", "quantity": _t("75000"), "country": "CN"}]
    assert _errors(body) == [("/processes/1/precursors/0/see_direct", "required")]
    detail = _detail(body, "/processes/1/precursors/0/see_direct")
    assert "no verified default value is shipped" in detail and "see_indirect" in detail


def test_a_verified_default_is_used_with_the_years_mark_up() -> None:
    verified = DefaultValue("CN", "25231000", D("0.9"), D("0.05"), "test table", "V", "grey clinker")
    table = dataclasses.replace(catalogue(), defaults=(verified,))
    body = _cement()
    body["processes"][1]["precursors"] = [{"cn_code": "25231000", "quantity": _t("75000"), "country": "CN"}]
    result = embedded_emissions(body, table=table).as_json()
    kiln, mill = _by_ref(result)["kiln"], _by_ref(result)["mill"]
    [clinker] = mill["precursors"]
    # 2026: mark-up 10 %: 0.9 x 1.1 = 0.99 direct, 0.05 x 1.1 = 0.055 indirect
    assert (clinker["see_direct"], clinker["see_indirect"]) == (D("0.99"), D("0.055"))
    assert clinker["origin"] == "default_value" and clinker["basis"] == "default"
    assert clinker["default"]["markup_percent"] == 10
    # SEE_dir = (269.28 + 75000 x 0.99) / 100000 = 74519.28 / 100000; SEE_indir = (2500 + 4125) / 100000
    assert mill["see_direct"] == D("0.7451928") and mill["see_indirect"] == D("0.06625")
    # share on defaults: (74250 + 4125) / (74519.28 + 6625) = 78375 / 81144.28
    assert mill["default_share"] == present(D(78375) / D("81144.28"), 12)
    # the kiln's clinker shows the default beside its actual figure: 0.95 total, x 1.1 = 1.045
    default = kiln["goods"][0]["default"]
    assert default["see_total"] == D("0.95") and default["see_total_with_markup"] == D("1.045")
    assert default["source"] == "test table"
    body["year"] = 2028  # 30 %: 0.9 x 1.3 = 1.17
    result = embedded_emissions(body, table=table).as_json()
    assert _by_ref(result)["mill"]["precursors"][0]["see_direct"] == D("1.17")


# -- goods table ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cn_code", "category"),
    [
        ("25231000", "cement_clinker"),
        ("25232100", "cement"),
        ("25239000", "cement"),
        ("25233000", "aluminous_cement"),
        ("25070080", "calcined_clay"),
        ("26011200", "sintered_ore"),
        ("72011011", "pig_iron"),
        ("72024110", "ferro_alloys"),
        ("72031000", "dri"),
        ("72071111", "crude_steel"),
        ("72241010", "crude_steel"),
        ("72085120", "iron_steel_products"),
        ("73181100", "iron_steel_products"),
        ("76011000", "unwrought_aluminium"),
        ("76161000", "aluminium_products"),
    ],
)
def test_cn_codes_map_to_their_aggregated_goods_category(cn_code: str, category: str) -> None:
    found = catalogue().category_of(cn_code)
    assert found is not None and found.code == category


def test_indirect_emissions_count_for_cement_goods_only() -> None:
    counted = {code for code, c in catalogue().categories.items() if c.indirect_counted}
    assert counted == {"cement_clinker", "cement", "aluminous_cement", "calcined_clay"}


# -- errors with pointers ---------------------------------------------------------------------------------------
def test_a_cycle_of_precursor_processes_is_refused_with_a_pointer() -> None:
    body = _steel()
    body["processes"][0] = {
        "ref": "caster",
        "category": "crude_steel",
        "goods": [{"cn_code": "7207 11 11", "quantity": _t("100")}],
        "precursors": [{"cn_code": "7206 10 00", "quantity": _t("100"), "process": "converter"}],
    }
    body["processes"][1]["precursors"] = [
        {"cn_code": "7207 11 11", "quantity": _t("100"), "process": "caster"}
    ]
    assert _errors(body) == [("/processes/1/precursors/0/process", "precursor_cycle")]
    assert "caster -> converter -> caster" in _detail(body, "/processes/1/precursors/0/process")


def test_a_process_that_is_its_own_precursor_is_a_cycle() -> None:
    body = _steel()
    body["processes"][1]["precursors"] = [
        {"cn_code": "7206 10 00", "quantity": _t("1"), "process": "converter"}
    ]
    assert _errors(body) == [("/processes/1/precursors/0/process", "precursor_cycle")]


def test_bad_cn_codes_are_refused_with_pointers() -> None:
    body = _cement()
    body["processes"][0]["goods"] = [
        {"cn_code": "2523 10", "quantity": _t("1")},  # not 8 digits
        {"cn_code": "8501 10 00", "quantity": _t("1")},  # a motor: no CBAM good
        {"cn_code": "2523 29 00", "quantity": _t("1")},  # cement in the clinker process
    ]
    body["processes"][1]["precursors"] = [{"cn_code": "7201 10 11", "quantity": _t("1"), "country": "CN"}]
    assert _errors(body) == [
        ("/processes/0/goods/0/cn_code", "invalid"),
        ("/processes/0/goods/1/cn_code", "not_cbam_good"),
        ("/processes/0/goods/2/cn_code", "wrong_category"),
        ("/processes/1/precursors/0/cn_code", "not_a_precursor"),
    ]


def test_every_field_error_of_the_request_is_reported_with_its_pointer() -> None:
    body = _cement()
    body["installation"]["country"] = "China"
    body["year"] = 2019
    body["colour"] = "grey"
    kiln, mill = body["processes"]
    kiln["lines"][1]["clinker"] = {"value": "100000", "unit": "tons"}
    kiln["electricity"].pop("emission_factor")
    mill["lines"].append({"ref": "grid", "source": "electricity", "quantity": {"value": "1", "unit": "MWh"}})
    mill["precursors"][0]["process"] = "oven"
    mill["category"] = "concrete"
    assert sorted(_errors(body)) == sorted(
        [
            ("/colour", "unknown_field"),
            ("/installation/country", "invalid"),
            ("/year", "out_of_range"),
            ("/processes/0/lines/1/clinker/unit", "ambiguous_unit"),
            ("/processes/0/electricity/emission_factor", "required"),
            ("/processes/1/category", "unknown_code"),
            ("/processes/1/lines/1/source", "not_applicable"),
        ]
    )


def test_an_unknown_precursor_process_and_a_duplicate_ref_are_refused() -> None:
    body = _cement()
    body["processes"][1]["precursors"][0]["process"] = "oven"
    assert _errors(body) == [("/processes/1/precursors/0/process", "unknown_process")]
    body = _cement()
    body["processes"][1]["ref"] = "kiln"
    assert ("/processes/1/ref", "duplicate") in _errors(body)


def test_a_precursor_process_of_another_category_is_refused() -> None:
    body = _cement()
    body["processes"].append(copy.deepcopy(body["processes"][1]) | {"ref": "mill-2"})
    body["processes"][2]["precursors"][0]["process"] = "mill"  # a cement process given as the clinker's
    assert _errors(body) == [("/processes/2/precursors/0/process", "wrong_category")]


def test_a_process_precursor_with_its_own_values_is_refused() -> None:
    body = _cement()
    body["processes"][1]["precursors"][0]["see_direct"] = "0.8"
    assert _errors(body) == [("/processes/1/precursors/0/see_direct", "not_applicable")]


def test_half_given_precursor_values_and_goods_of_zero_are_refused() -> None:
    body = _cement()
    body["processes"][1]["precursors"] = [
        {"cn_code": "25231000", "quantity": _t("1"), "country": "VN", "see_direct": "0.8"}
    ]
    body["processes"][0]["goods"][0]["quantity"] = _t("0")
    assert sorted(_errors(body)) == [
        ("/processes/0/goods", "zero_activity_level"),
        ("/processes/1/precursors/0/see_indirect", "required"),
    ]


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ([], ""),
        ({"installation": {"name": "x", "country": "CN"}, "year": 2026}, "/processes"),
        ({"installation": "x", "year": 2026, "processes": [{}]}, "/installation"),
        ({"installation": {"name": "x", "country": "CN"}, "year": "2026.5", "processes": [1]}, "/year"),
    ],
)
def test_a_malformed_body_is_refused_with_a_pointer(payload: Any, pointer: str) -> None:
    assert pointer in [p for p, _ in _errors(payload)]

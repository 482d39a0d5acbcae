"""The eu-mrr-2018 methodology: EU MRR 2018/2066 formulas and Annex VI defaults, and a 400 with a
pointer wherever the regime has no default (never a China value in its place)."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import pytest

from accounting import calculate
from accounting.errors import InvalidInput
from accounting.methodologies import Factor, get
from accounting.methods.eu_mrr import ckd_emission_factor_mrr, clinker_co2_mrr, clinker_emission_factor_mrr
from accounting.numbers import CONTEXT

CODE = "eu-mrr-2018"


def run(*lines: dict[str, Any], sector: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"methodology": CODE, "year": 2025, "lines": list(lines)}
    if sector:
        payload["sector"] = sector
    return calculate(payload).as_json()


def refused(*lines: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        run(*lines)
    return [(error.pointer, error.code) for error in caught.value.errors]


def t(value: str) -> dict[str, str]:
    return {"value": value, "unit": "t"}


def test_every_value_of_the_bundle_carries_provenance_and_confidence() -> None:
    methodology = get(CODE)
    assert methodology.factors, "the bundle has factors"
    for path, factor in methodology.factors.items():
        assert isinstance(factor, Factor)
        assert factor.confidence in {"V", "3P", "UV"}, path
        assert factor.citation and factor.table and factor.unit, path


def test_constants_are_the_mrr_ones() -> None:
    methodology = get(CODE)
    assert methodology.c_to_co2 == Decimal("3.664")
    assert methodology.constant("cao_to_co2") == Decimal("0.785")
    assert methodology.constant("mgo_to_co2") == Decimal("1.092")
    assert methodology.constant("oxidation_factor") == Decimal("1")
    assert methodology.rounding_places == 0
    assert methodology.gwp["CF4"] == Decimal("6630") and methodology.gwp["C2F6"] == Decimal("11100")


def test_coal_on_annex_vi_defaults() -> None:
    # 1000 t x 25.8 GJ/t = 25.8 TJ x 94.6 tCO2/TJ = 2440.68 t
    line = run({"source": "fuel_combustion", "fuel": "bituminous_coal", "quantity": t("1000")})["lines"][0]
    assert line["co2e"] == Decimal("2440.68")
    assert line["parameters"]["ncv"]["confidence"] == "V"
    assert line["parameters"]["ncv"]["table"] == "Annex VI Table 1, NCV, other bituminous coal"


def test_carbon_content_path_uses_f_3664_and_oxidation_factor_1() -> None:
    # 1000 t x 0.7 tC/t x 1 x 3.664 = 2564.8 (no oxidation factor on the line: the MRR default 1)
    line = run(
        {
            "source": "fuel_combustion",
            "fuel": "waste_plastics",
            "quantity": t("1000"),
            "carbon_content": {"value": "0.7", "unit": "tC/t"},
        }
    )["lines"][0]
    assert line["co2e"] == Decimal("2564.8")
    assert line["parameters"]["oxidation_factor"]["value"] == Decimal("1")
    assert line["parameters"]["oxidation_factor"]["origin"] == "default"


def test_gas_in_volume_without_its_own_ncv_is_refused() -> None:
    assert refused(
        {"source": "fuel_combustion", "fuel": "natural_gas", "quantity": {"value": "100", "unit": "10^4 Nm3"}}
    ) == [("/lines/0/ncv", "no_applicable_default")]


def test_biomass_without_a_declared_fraction_counts_as_fossil() -> None:
    line = run(
        {
            "source": "fuel_combustion",
            "fuel": "biomass",
            "quantity": t("100"),
            "ncv": {"value": "15", "unit": "GJ/t"},
            "emission_factor": {"value": "100", "unit": "tCO2/TJ"},
        }
    )["lines"][0]
    assert line["co2e"] == Decimal("150")
    assert line["biogenic_co2"] == Decimal("0")


def test_clinker_formulas_by_hand() -> None:
    # EF_Cli = 0.64 x 0.785 + 0.02 x 1.092 = 0.52424
    factor = clinker_emission_factor_mrr(
        cao_fraction=Decimal("0.65"),
        cao_non_carbonate_fraction=Decimal("0.01"),
        mgo_fraction=Decimal("0.02"),
        mgo_non_carbonate_fraction=Decimal("0"),
        cao_to_co2=Decimal("0.785"),
        mgo_to_co2=Decimal("1.092"),
    )
    assert factor == Decimal("0.52424")
    # d = 1: s = 0.52424/1.52424; EF_CKD = s/(1-s) = 0.52424 (full calcination gives back EF_Cli)
    with localcontext(CONTEXT):
        full = ckd_emission_factor_mrr(clinker_emission_factor=factor, calcination_degree=Decimal(1))
    assert abs(full - Decimal("0.52424")) < Decimal("1e-30")
    assert ckd_emission_factor_mrr(clinker_emission_factor=factor, calcination_degree=Decimal(0)) == 0
    assert clinker_co2_mrr(
        clinker=Decimal(100),
        clinker_emission_factor=factor,
        dust=Decimal(10),
        ckd_emission_factor=Decimal("0.5"),
    ) == Decimal("57.424")


def test_clinker_without_dust_and_with_dust_at_the_tier1_factor() -> None:
    base = {
        "source": "clinker_carbonate",
        "clinker": t("1000"),
        "cao_fraction": "0.65",
        "mgo_fraction": "0.02",
    }
    # 1000 x (0.65 x 0.785 + 0.02 x 1.092) = 1000 x 0.53209 = 532.09
    assert run(base)["lines"][0]["co2e"] == Decimal("532.09")
    line = run({**base, "kiln_dust": t("20")})["lines"][0]
    # + 20 t dust x 0.525 = 10.5
    assert line["co2e"] == Decimal("542.59")
    assert line["parameters"]["ckd_emission_factor"]["origin"] == "default"


def test_clinker_needs_its_measured_composition() -> None:
    assert refused({"source": "clinker_carbonate", "clinker": t("1000"), "cao_fraction": "0.65"}) == [
        ("/lines/0/mgo_fraction", "required")
    ]


def test_ipcc_dust_carbonate_fraction_is_not_a_field_under_the_mrr() -> None:
    errors = refused(
        {
            "source": "clinker_carbonate",
            "clinker": t("1000"),
            "cao_fraction": "0.65",
            "mgo_fraction": "0.02",
            "kiln_dust": t("10"),
            "kiln_dust_carbonate_fraction": "0.7",
        }
    )
    assert errors == [("/lines/0/kiln_dust_carbonate_fraction", "unknown_field")]


def test_tier1_clinker_default_is_portland_only() -> None:
    assert run({"source": "clinker_default", "clinker": t("1000")})["lines"][0]["co2e"] == Decimal("525")
    assert refused({"source": "clinker_default", "clinker": t("1000"), "clinker_type": "white"}) == [
        ("/lines/0/emission_factor", "required")
    ]


@pytest.mark.parametrize(
    ("material", "expected"),
    [("limestone", "440"), ("magnesite", "522"), ("soda_ash", "415"), ("siderite", "380")],
)
def test_carbonates_input_method_a(material: str, expected: str) -> None:
    line = run({"source": "carbonate", "material": material, "quantity": t("1000")})["lines"][0]
    assert line["co2e"] == Decimal(expected)


def test_no_default_where_the_regime_has_none() -> None:
    assert refused({"source": "carbonate", "material": "dolomite", "quantity": t("10")}) == [
        ("/lines/0/emission_factor", "required")
    ]
    assert refused({"source": "electricity", "quantity": {"value": "10", "unit": "MWh"}}) == [
        ("/lines/0/emission_factor", "required")
    ]
    assert refused({"source": "heat", "quantity": {"value": "10", "unit": "GJ"}}) == [
        ("/lines/0/emission_factor", "required")
    ]
    assert refused(
        {"source": "anode_consumption", "aluminium_production": t("100"), "net_anode_consumption": "0.4"}
    ) == [("/lines/0/sulphur_fraction", "required"), ("/lines/0/ash_fraction", "required")]
    assert refused({"source": "carbon_input", "material": "ferronickel", "quantity": t("10")}) == [
        ("/lines/0/emission_factor", "required")
    ]


def test_steel_materials_table() -> None:
    assert run({"source": "electrode", "quantity": t("100")})["lines"][0]["co2e"] == Decimal("300")
    assert run({"source": "carbon_input", "material": "pig_iron", "quantity": t("100")})["lines"][0][
        "co2e"
    ] == Decimal("15")


def test_mass_balance_defaults_a_known_material_and_requires_the_others() -> None:
    # (1000 x 0.0409 - 500 x 0.0109) x 3.664 = (40.9 - 5.45) x 3.664 = 129.8888
    line = run(
        {
            "source": "carbon_mass_balance",
            "inputs": [{"material": "pig_iron", "quantity": t("1000")}],
            "outputs": [{"material": "crude_steel", "quantity": t("500")}],
        }
    )["lines"][0]
    assert line["co2e"] == Decimal("129.8888")
    assert line["parameters"]["inputs/0/carbon_content"]["origin"] == "default"
    assert refused(
        {"source": "carbon_mass_balance", "inputs": [{"material": "coking coal", "quantity": t("10")}]}
    ) == [("/lines/0/inputs/0/carbon_content", "required")]


def test_pfc_overvoltage_uses_its_own_c2f6_factor() -> None:
    # SWPB: CF4 = 3.65 x (1 / 100) x 1000 x 0.001 = 0.0365 t; C2F6 = 0.0365 x 0.252 (method B), not 0.280
    line = run(
        {
            "source": "anode_effect",
            "method": "overvoltage",
            "cell_technology": "SWPB",
            "aluminium_production": t("1000"),
            "overvoltage_mv": "1",
            "current_efficiency": "100",
        }
    )["lines"][0]
    assert line["gases"]["CF4"] == Decimal("0.0365")
    assert line["gases"]["C2F6"] == Decimal("0.009198")


def test_pfc_slope_is_the_default_method_and_tier1_is_not_part_of_the_mrr() -> None:
    # PFPB_L: CF4 = 0.5 x 0.122 / 1000 x 2000 = 0.122 t; C2F6 = 0.122 x 0.097 = 0.011834 t
    line = run(
        {
            "source": "anode_effect",
            "cell_technology": "PFPB_L",
            "aluminium_production": t("2000"),
            "anode_effect_minutes": "0.5",
        }
    )["lines"][0]
    assert line["gases"]["CF4"] == Decimal("0.122")
    assert line["gases"]["C2F6"] == Decimal("0.011834")
    assert refused(
        {
            "source": "anode_effect",
            "method": "tier1",
            "cell_technology": "CWPB",
            "aluminium_production": t("1"),
        }
    ) == [("/lines/0/method", "unknown_code")]


def test_annual_totals_in_whole_tonnes() -> None:
    result = run({"source": "carbonate", "material": "limestone", "quantity": t("1001.2")})
    # 1001.2 x 0.440 = 440.528 -> 441
    assert result["totals"]["direct"] == Decimal("440.528")
    assert result["totals"]["reported"]["direct"] == Decimal("441")

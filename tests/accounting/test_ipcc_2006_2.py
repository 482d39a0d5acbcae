"""ipcc-2006@2006.2: clinker by IPCC Eq. 2.2/2.4/2.5, Portland-only default clinker factor, IPCC baking
defaults; ipcc-2006@2006.1 keeps its figures. The cement and aluminium formulas with plain numbers.

Every expected figure is worked by hand in the comment above it, from METHODS.md §3 and §5:
  EF_cl  = (CaO − CaO_nc) / 0.5603 × 0.43971 [+ (MgO − MgO_nc) / 0.47803 × 0.52197]      (Eq. 2.4)
  CF_ckd = 1 + (M_d / M_cl) × C_d × F_d × EF_c / EF_cl, EF_c = 0.43971 (calcite)        (Eq. 2.5)
  CO2    = M_cl × EF_cl × CF_ckd = M_cl × EF_cl + M_d × C_d × F_d × EF_c                 (Eq. 2.2)
Useful products: 0.65 / 0.5603 × 0.43971 = 0.2858115 / 0.5603 = 0.510104408352668…;
0.02 / 0.47803 × 0.52197 = 0.0104394 / 0.47803 = 0.021838378344455…
Agreement: relative 1e-9 or absolute 0.000001 t (the examples' rule).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounting import InvalidInput, calculate, methodologies
from accounting.methods.aluminium import (
    anode_baking_co2,
    anode_consumption_co2,
    pfc_cn_mee,
    pfc_from_emission_factors,
    pfc_overvoltage,
    pfc_slope,
    pitch_volatiles_carbon,
)
from accounting.methods.cement import (
    ckd_correction_factor,
    clinker_co2_dust_at_clinker_factor,
    clinker_co2_ipcc_eq24,
    clinker_default_co2,
    clinker_emission_factor_eq24,
    raw_meal_organic_carbon_co2,
    substitute_deduction,
)
from tests.accounting.conftest import agrees

D = Decimal
#: IPCC Table 2.1 stoichiometry and 44/12 as a notebook would write them (28-digit default context).
CAO_TO_CO2 = D("0.43971") / D("0.5603")
MGO_TO_CO2 = D("0.52197") / D("0.47803")
C_TO_CO2 = D(44) / D(12)


def q(value: str, unit: str) -> dict[str, str]:
    return {"value": value, "unit": unit}


def line_result(line: dict[str, Any], version: str = "2006.2") -> dict[str, Any]:
    payload = {"methodology": "ipcc-2006", "methodology_version": version, "lines": [line]}
    result = calculate(payload).as_json()
    assert result["methodology_version"] == version
    line_json: dict[str, Any] = result["lines"][0]
    return line_json


def refused(line: dict[str, Any], version: str = "2006.2") -> list[dict[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        calculate({"methodology": "ipcc-2006", "methodology_version": version, "lines": [line]})
    return [error.as_dict() for error in caught.value.errors]


def close(actual: Decimal, expected: Decimal) -> bool:
    """Equal but for the last digits of a repeating quotient."""
    return abs(actual - expected) <= D("1e-12")


CLINKER = {"source": "clinker_carbonate", "clinker": q("1000", "t")}
BAKING = {
    "source": "anode_baking",
    "green_anodes": q("1000", "t"),
    "baked_anodes": q("950", "t"),
    "packing_coke_rate": "0.015",
}

# -- 2006.2 worked figures --------------------------------------------------------------------

CASES: list[tuple[str, dict[str, Any], str]] = [
    # No dust data: default CaO 0.65, CF_ckd 1.02: 1000 × 0.510104408352668 × 1.02 = 520.306496519722
    ("no-dust-data-default-cf-ckd", CLINKER, "520.306496519722"),
    # MgO given: 1000 × (0.510104408352668 + 0.021838378344455) × 1.02 = 531.942786697123 × 1.02
    # = 542.581642431065
    ("mgo-given", {**CLINKER, "mgo_fraction": "0.02"}, "542.581642431065"),
    # Non-carbonate CaO: (0.65 − 0.05) / 0.5603 × 0.43971 = 0.263826 / 0.5603 = 0.470865607710155;
    # × 1000 × 1.02 = 480.282919864358
    ("cao-non-carbonate", {**CLINKER, "cao_non_carbonate_fraction": "0.05"}, "480.282919864358"),
    # kiln_dust given as 0: Eq. 2.5 with no dust, CF_ckd = 1: 1000 × 0.510104408352668 = 510.104408352668
    ("kiln-dust-zero", {**CLINKER, "kiln_dust": q("0", "t")}, "510.104408352668"),
    # Eq. 2.5: 510.104408352668 + 20 t × 0.8 × 0.5 × 0.43971 (= 3.51768) = 513.622088352668
    (
        "kiln-dust-eq-2.5",
        {
            **CLINKER,
            "kiln_dust": q("20", "t"),
            "kiln_dust_carbonate_fraction": "0.8",
            "kiln_dust_calcination_fraction": "0.5",
        },
        "513.622088352668",
    ),
    # Bypass dust is discarded CKD too: M_d = 12 t + 8 t = 20 t, the same 513.622088352668
    (
        "kiln-and-bypass-dust-summed",
        {
            **CLINKER,
            "kiln_dust": q("12", "t"),
            "bypass_dust": q("8000", "kg"),
            "kiln_dust_carbonate_fraction": q("80", "%"),
            "kiln_dust_calcination_fraction": "0.5",
        },
        "513.622088352668",
    ),
    # Uncalcined dust (F_d = 0) adds nothing: CF_ckd = 1, 510.104408352668
    (
        "uncalcined-dust",
        {
            **CLINKER,
            "kiln_dust": q("50", "t"),
            "kiln_dust_carbonate_fraction": "0.8",
            "kiln_dust_calcination_fraction": "0",
        },
        "510.104408352668",
    ),
    # Tier 1 Portland default: 1000 t × 0.51 × 1.02 = 520.2
    ("clinker-default-portland", {"source": "clinker_default", "clinker": q("1000", "t")}, "520.2"),
    # White clinker on its own factor: 1000 t × 0.55 = 550
    (
        "clinker-default-white-own-factor",
        {
            "source": "clinker_default",
            "clinker_type": "white",
            "clinker": q("1000", "t"),
            "emission_factor": q("0.55", "tCO2/t"),
        },
        "550",
    ),
    # Baking on the IPCC defaults: hydrogen 0.005 × 1000 = 5 t; volatiles 1000 − 5 − 950 = 45 t;
    # packing coke 0.015 × 950 × (1 − 0.02 − 0.025) = 14.25 × 0.955 = 13.60875 t;
    # (45 + 13.60875) × 44/12 = 58.60875 × 44/12 = 2578.785 / 12 = 214.89875
    ("baking-defaults", BAKING, "214.89875"),
    # Hydrogen as a mass: (1000 − 4 − 950) + 13.60875 = 59.60875 × 44/12 = 218.565416666667
    ("baking-hydrogen-mass", {**BAKING, "hydrogen_content": q("4", "t")}, "218.565416666667"),
    # Hydrogen as a share: 0.6 % × 1000 = 6 t; (1000 − 6 − 950) + 13.60875 = 57.60875 × 44/12
    # = 211.232083333333
    ("baking-hydrogen-share", {**BAKING, "hydrogen_content": q("0.6", "%")}, "211.232083333333"),
]


@pytest.mark.parametrize(("line", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_2006_2_line_against_hand_computed_figure(line: dict[str, Any], expected: str) -> None:
    result = line_result(line)
    assert agrees(result["gases"]["CO2"], expected), f"{result['gases']['CO2']} != {expected}"
    assert result["co2e"] == result["gases"]["CO2"]


def test_2006_2_clinker_carbonate_is_the_new_variant_and_2006_1_keeps_its_own() -> None:
    kinds = {
        key: methodologies.get(*key.split("@")).describe(with_tables=False)["line_kinds"]
        for key in ("ipcc-2006@2006.2", "ipcc-2006@2006.1", "cn-mee-2024@2024.2")
    }
    assert kinds["ipcc-2006@2006.2"]["clinker_carbonate"]["method"] == "clinker_carbonate_ipcc_eq24"
    assert kinds["ipcc-2006@2006.1"]["clinker_carbonate"]["method"] == "clinker_carbonate"
    assert kinds["cn-mee-2024@2024.2"]["clinker_carbonate"]["method"] == "clinker_carbonate"
    changes = " ".join(methodologies.get("ipcc-2006", "2006.2").changes)
    for word in ("clinker_carbonate_ipcc_eq24", "CF_ckd", "Portland", "0.025", "0.005"):
        assert word in changes


# -- CF_ckd: default 1.02 against Eq. 2.5 -----------------------------------------------------


def test_without_dust_data_the_default_cf_ckd_is_used_and_reported_as_a_default() -> None:
    result = line_result({**CLINKER, "cao_fraction": "0.65"})
    cf_ckd = result["parameters"]["cf_ckd"]
    assert cf_ckd["value"] == D("1.02")
    assert cf_ckd["origin"] == "default"
    assert cf_ckd["confidence"] == "3P"
    assert cf_ckd["source"]
    # Every other parameter was measured: the default CF_ckd alone makes the line rest on a default.
    assert result["origin"] == "default"


def test_with_dust_data_eq_2_5_replaces_the_default_cf_ckd() -> None:
    default = line_result({**CLINKER, "cao_fraction": "0.65"})
    measured = line_result(
        {
            **CLINKER,
            "cao_fraction": "0.65",
            "kiln_dust": q("20", "t"),
            "kiln_dust_carbonate_fraction": "0.8",
            "kiln_dust_calcination_fraction": "0.5",
        }
    )
    assert "cf_ckd" not in measured["parameters"]
    assert measured["origin"] == "measured"
    # 520.306496519722 (× 1.02) against 513.622088352668 (× CF_ckd 1.0068960…): the dust data lowers it.
    assert agrees(default["co2e"], "520.306496519722")
    assert agrees(measured["co2e"], "513.622088352668")


def test_dust_no_longer_counts_at_the_clinker_factor_in_2006_2() -> None:
    # 2006.1 added 20 t of dust at the clinker factor: 1020 × 0.531942786697123 = 542.581642431065;
    # 2006.2 counts it through Eq. 2.5: 531.942786697123 + 20 × 0.8 × 0.5 × 0.43971 = 535.460466697123
    line = {
        **CLINKER,
        "mgo_fraction": "0.02",
        "kiln_dust": q("20", "t"),
    }
    assert agrees(line_result(line, "2006.1")["co2e"], "542.581642431065")
    dust_data = {"kiln_dust_carbonate_fraction": "0.8", "kiln_dust_calcination_fraction": "0.5"}
    assert agrees(line_result({**line, **dust_data})["co2e"], "535.460466697123")


# -- refused lines ----------------------------------------------------------------------------

REFUSED: list[tuple[str, dict[str, Any], str]] = [
    (
        "dust-without-carbonate-fraction",
        {**CLINKER, "kiln_dust": q("20", "t"), "kiln_dust_calcination_fraction": "1"},
        "kiln_dust_carbonate_fraction",
    ),
    (
        "dust-without-calcination-fraction",
        {**CLINKER, "bypass_dust": q("20", "t"), "kiln_dust_carbonate_fraction": "0.8"},
        "kiln_dust_calcination_fraction",
    ),
    (
        "dust-fractions-without-dust",
        {**CLINKER, "kiln_dust_carbonate_fraction": "0.8", "kiln_dust_calcination_fraction": "1"},
        "kiln_dust",
    ),
    ("mgo-non-carbonate-without-mgo", {**CLINKER, "mgo_non_carbonate_fraction": "0.01"}, "mgo_fraction"),
    (
        "calcined-dust-without-clinker",
        {
            **CLINKER,
            "clinker": q("0", "t"),
            "kiln_dust": q("20", "t"),
            "kiln_dust_carbonate_fraction": "0.8",
            "kiln_dust_calcination_fraction": "0.5",
        },
        "clinker",
    ),
    (
        "calcined-dust-with-a-zero-clinker-factor",
        {
            **CLINKER,
            "cao_fraction": "0.65",
            "cao_non_carbonate_fraction": "0.65",
            "kiln_dust": q("20", "t"),
            "kiln_dust_carbonate_fraction": "0.8",
            "kiln_dust_calcination_fraction": "0.5",
        },
        "cao_non_carbonate_fraction",
    ),
    (
        "non-carbonate-above-total",
        {**CLINKER, "mgo_fraction": "0.02", "mgo_non_carbonate_fraction": "0.03"},
        "mgo_non_carbonate_fraction",
    ),
]


@pytest.mark.parametrize(("line", "field"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_2006_2_refuses_with_a_pointer(line: dict[str, Any], field: str) -> None:
    errors = refused(line)
    assert [error["pointer"] for error in errors] == [f"/lines/0/{field}"]


def test_missing_dust_fractions_say_what_to_give() -> None:
    (error,) = refused({**CLINKER, "kiln_dust": q("20", "t"), "kiln_dust_carbonate_fraction": "0.8"})
    assert error["code"] == "required"
    assert "F_d" in error["detail"]
    assert "no default" in error["detail"]
    assert "ipcc-2006@2006.2" in error["detail"]


@pytest.mark.parametrize("clinker_type", ["white", "sulphoaluminate", "aluminate"])
def test_non_portland_clinker_without_its_factor_is_refused(clinker_type: str) -> None:
    line = {"source": "clinker_default", "clinker_type": clinker_type, "clinker": q("1000", "t")}
    (error,) = refused(line)
    assert error["pointer"] == "/lines/0/emission_factor"
    assert error["code"] == "required"
    assert f"no default emission factor for {clinker_type} clinker" in error["detail"]
    assert "Portland" in error["detail"]
    assert "give emission_factor in tCO2/t" in error["detail"]


def test_the_new_dust_fields_are_not_fields_of_2006_1() -> None:
    errors = refused({**CLINKER, "mgo_fraction": "0.02", "kiln_dust_carbonate_fraction": "0.8"}, "2006.1")
    assert [error["pointer"] for error in errors] == ["/lines/0/kiln_dust_carbonate_fraction"]


# -- anode baking defaults ---------------------------------------------------------------------


def test_baking_defaults_are_applied_with_origin_default() -> None:
    result = line_result(BAKING)
    parameters = result["parameters"]
    for name, value in (
        ("hydrogen_content", "0.005"),
        ("packing_coke_sulphur_fraction", "0.02"),
        ("packing_coke_ash_fraction", "0.025"),
    ):
        assert parameters[name]["value"] == D(value), name
        assert parameters[name]["unit"] == "1", name
        assert parameters[name]["origin"] == "default", name
        assert parameters[name]["confidence"] == "3P", name
        assert parameters[name]["source"], name
    assert parameters["green_anodes"]["origin"] == "measured"
    assert result["origin"] == "default"


def test_given_baking_parameters_are_measured() -> None:
    line = {
        **BAKING,
        "hydrogen_content": q("5", "t"),
        "packing_coke_sulphur_fraction": "0.02",
        "packing_coke_ash_fraction": "0.025",
    }
    result = line_result(line)
    assert result["origin"] == "measured"
    # the same figures as the defaults: (1000 − 5 − 950 + 13.60875) × 44/12 = 214.89875
    assert agrees(result["co2e"], "214.89875")


# -- ipcc-2006@2006.1 keeps its figures -------------------------------------------------------

# Figures the code gave for these lines under 2006.1 before 2006.2 was built (captured first), each
# also worked by hand.
UNCHANGED: list[tuple[str, dict[str, Any], str]] = [
    # (1000000 + 5000 + 3000) × [(0.65 − 0.01) × 0.43971/0.5603 + (0.025 − 0.002) × 0.52197/0.47803]
    # = 1008000 × (0.502256648224166 + 0.025114135096124) = 1008000 × 0.527370783320289 = 531589.749587
    (
        "clinker-with-dust-mass",
        {
            "source": "clinker_carbonate",
            "clinker": q("1000000", "t"),
            "kiln_dust": q("5000", "t"),
            "bypass_dust": q("3000", "t"),
            "cao_fraction": q("65.0", "%"),
            "cao_non_carbonate_fraction": q("1.0", "%"),
            "mgo_fraction": q("2.5", "%"),
            "mgo_non_carbonate_fraction": q("0.2", "%"),
        },
        "531589.749587",
    ),
    # 1000 × 0.531942786697123, no CF_ckd
    ("clinker-mgo", {**CLINKER, "mgo_fraction": "0.02"}, "531.942787"),
    # every clinker type had 0.5202: 1000 × 0.5202
    (
        "clinker-default-white",
        {"source": "clinker_default", "clinker_type": "white", "clinker": q("1000", "t")},
        "520.2",
    ),
    # (1000 − 5 − 950 − 2) + 0.015 × 950 × (1 − 0.02 − 0.004) = 43 + 13.908 = 56.908 × 44/12
    (
        "anode-baking",
        {**BAKING, "hydrogen_content": q("0.5", "%"), "waste_tar": q("2", "t")},
        "208.662667",
    ),
    # 1000 × 0.42 × (1 − 0.02 − 0.004) × 44/12 = 409.92 × 44/12 = 1503.04
    (
        "anode-consumption",
        {
            "source": "anode_consumption",
            "aluminium_production": q("1000", "t"),
            "net_anode_consumption": "0.42",
        },
        "1503.04",
    ),
]


@pytest.mark.parametrize(("line", "expected"), [c[1:] for c in UNCHANGED], ids=[c[0] for c in UNCHANGED])
def test_2006_1_figures_are_unchanged(line: dict[str, Any], expected: str) -> None:
    result = line_result(line, "2006.1")
    assert result["co2e"] == D(expected)


def test_2006_1_still_requires_the_hydrogen_content() -> None:
    (error,) = refused(BAKING, "2006.1")
    assert error["pointer"] == "/lines/0/hydrogen_content"
    assert error["code"] == "required"


def test_2006_1_baking_keeps_its_packing_coke_defaults() -> None:
    parameters = line_result({**BAKING, "hydrogen_content": q("5", "t")}, "2006.1")["parameters"]
    assert parameters["packing_coke_ash_fraction"]["value"] == D("0.004")
    assert parameters["packing_coke_ash_fraction"]["confidence"] == "UV"


# -- the formulas with plain numbers ----------------------------------------------------------


def test_clinker_emission_factor_eq24_cao_only_and_with_mgo() -> None:
    # 0.65 / 0.5603 × 0.43971 = 0.510104408352668…
    cao_only = clinker_emission_factor_eq24(
        cao_fraction=D("0.65"), cao_non_carbonate_fraction=D("0"), cao_to_co2=CAO_TO_CO2
    )
    assert close(cao_only, D("0.5101044083526681"))
    # + 0.02 / 0.47803 × 0.52197 = 0.021838378344455… → 0.531942786697123…
    with_mgo = clinker_emission_factor_eq24(
        cao_fraction=D("0.65"),
        cao_non_carbonate_fraction=D("0"),
        cao_to_co2=CAO_TO_CO2,
        mgo_fraction=D("0.02"),
        mgo_to_co2=MGO_TO_CO2,
    )
    assert close(with_mgo, D("0.5319427866971236"))


def test_clinker_emission_factor_eq24_needs_the_mgo_factor_with_mgo() -> None:
    with pytest.raises(ValueError, match="mgo_to_co2"):
        clinker_emission_factor_eq24(
            cao_fraction=D("0.65"),
            cao_non_carbonate_fraction=D("0"),
            cao_to_co2=CAO_TO_CO2,
            mgo_fraction=D("0.02"),
        )


def test_ckd_correction_factor_eq_2_5() -> None:
    # 1 + (20 / 1000) × 0.8 × 0.5 × 0.43971 / 0.5 = 1 + 0.02 × 0.4 × 0.87942 = 1 + 0.00703536
    cf = ckd_correction_factor(
        discarded_dust=D("20"),
        clinker=D("1000"),
        dust_carbonate_fraction=D("0.8"),
        dust_calcination_fraction=D("0.5"),
        carbonate_co2_factor=D("0.43971"),
        clinker_emission_factor=D("0.5"),
    )
    assert cf == D("1.00703536")


def test_ckd_correction_factor_is_one_without_calcined_dust_even_without_clinker() -> None:
    cf = ckd_correction_factor(
        discarded_dust=D("0"),
        clinker=D("0"),
        dust_carbonate_fraction=D("0.8"),
        dust_calcination_fraction=D("1"),
        carbonate_co2_factor=D("0.43971"),
        clinker_emission_factor=D("0"),
    )
    assert cf == D("1")


def test_clinker_co2_ipcc_eq24_with_the_tier_1_factor_is_the_default_factor() -> None:
    # Tier 1: 1000 × 0.51 × 1.02 = 520.2, the same as 1000 × 0.5202
    tier1 = clinker_co2_ipcc_eq24(clinker=D("1000"), clinker_emission_factor=D("0.51"), cf_ckd=D("1.02"))
    assert tier1 == D("520.2") == clinker_default_co2(clinker=D("1000"), emission_factor=D("0.5202"))


def test_eq_2_2_with_eq_2_5_equals_clinker_co2_plus_the_calcined_dust_co2() -> None:
    # 1000 × 0.5 × 1.00703536 = 503.51768 = 1000 × 0.5 + 20 × 0.8 × 0.5 × 0.43971 (= 3.51768)
    co2 = clinker_co2_ipcc_eq24(clinker=D("1000"), clinker_emission_factor=D("0.5"), cf_ckd=D("1.00703536"))
    assert co2 == D("503.51768")


def test_clinker_co2_dust_at_clinker_factor_china_stoichiometry() -> None:
    # 1008 t × [0.64 × 44/56 + 0.023 × 44/40] = 1008 × 0.64 × 44/56 + 1008 × 0.0253 = 506.88 + 25.5024 = 532.3824
    co2 = clinker_co2_dust_at_clinker_factor(
        clinker=D("1000"),
        kiln_dust=D("5"),
        bypass_dust=D("3"),
        cao_fraction=D("0.65"),
        cao_non_carbonate_fraction=D("0.01"),
        mgo_fraction=D("0.025"),
        mgo_non_carbonate_fraction=D("0.002"),
        cao_to_co2=D(44) / D(56),
        mgo_to_co2=D(44) / D(40),
    )
    assert close(co2, D("532.3824"))


def test_clinker_default_with_substitute_deductions() -> None:
    # 100 t × 0.48 + 50 t × 0.215 = 48 + 10.75 = 58.75; 1000 × 0.535 − 58.75 = 476.25
    deduction = substitute_deduction(substitutes=[(D("100"), D("0.48")), (D("50"), D("0.215"))])
    assert deduction == D("58.75")
    assert clinker_default_co2(clinker=D("1000"), emission_factor=D("0.535"), deduction=deduction) == D(
        "476.25"
    )


def test_raw_meal_organic_carbon_co2() -> None:
    # 1550000 × 0.002 = 3100 tC × 44/12 = 11366.666…
    co2 = raw_meal_organic_carbon_co2(
        raw_meal=D("1550000"), organic_carbon_fraction=D("0.002"), c_to_co2=C_TO_CO2
    )
    assert abs(co2 - D("11366.666666666666667")) <= D("1e-9")


def test_anode_consumption_co2() -> None:
    # 1000 × 0.42 × (1 − 0.02 − 0.004) = 409.92 tC; × 44/12 = 18036.48 / 12 = 1503.04
    co2 = anode_consumption_co2(
        aluminium_production=D("1000"),
        net_anode_consumption=D("0.42"),
        sulphur_fraction=D("0.02"),
        ash_fraction=D("0.004"),
        c_to_co2=C_TO_CO2,
    )
    assert close(co2, D("1503.04"))


def test_pfc_formulas() -> None:
    # Tier 1 SWPB: 1.6 and 0.4 kg/t × 1000 t / 1000 = 1.6 t CF4, 0.4 t C2F6
    assert pfc_from_emission_factors(
        aluminium_production=D("1000"), cf4_emission_factor=D("1.6"), c2f6_emission_factor=D("0.4")
    ) == (D("1.6"), D("0.4"))
    # China: EF_CF4 = 0.143 × 0.5 = 0.0715 kg/t; × 100000 t / 1000 = 7.15 t; C2F6 = 0.1 × → 0.715 t
    assert pfc_cn_mee(
        aluminium_production=D("100000"),
        anode_effect_minutes=D("0.5"),
        cf4_slope=D("0.143"),
        c2f6_to_cf4=D("0.1"),
    ) == (D("7.15"), D("0.715"))
    # Slope CWPB: 0.5 × 0.143 × 100000 / 1000 = 7.15 t CF4; × 0.121 = 0.86515 t C2F6
    assert pfc_slope(
        aluminium_production=D("100000"),
        anode_effect_minutes=D("0.5"),
        slope_cf4=D("0.143"),
        c2f6_ratio=D("0.121"),
    ) == (D("7.15"), D("0.86515"))
    # Overvoltage CWPB: 1.16 × 10 mV / 95 % × 100000 / 1000 = 11.6 / 95 × 100 = 12.210526315789…;
    # × 0.121 = 1.477473684210…
    cf4, c2f6 = pfc_overvoltage(
        aluminium_production=D("100000"),
        overvoltage_mv=D("10"),
        current_efficiency_percent=D("95"),
        overvoltage_coefficient=D("1.16"),
        c2f6_ratio=D("0.121"),
    )
    assert close(cf4, D("12.21052631578947368"))
    assert close(c2f6, D("1.477473684210526316"))


def test_anode_baking_formulas() -> None:
    # 1000 − 5 − 950 − 2 = 43 t of pitch volatiles
    assert pitch_volatiles_carbon(
        green_anodes=D("1000"), hydrogen=D("5"), baked_anodes=D("950"), waste_tar=D("2")
    ) == D("43")
    # (43 + 0.015 × 950 × (1 − 0.02 − 0.025)) × 44/12 = (43 + 13.60875) × 44/12 = 56.60875 × 44/12
    # = 2490.785 / 12 = 207.565416666…
    co2 = anode_baking_co2(
        green_anodes=D("1000"),
        hydrogen=D("5"),
        baked_anodes=D("950"),
        waste_tar=D("2"),
        packing_coke_rate=D("0.015"),
        packing_coke_sulphur_fraction=D("0.02"),
        packing_coke_ash_fraction=D("0.025"),
        c_to_co2=C_TO_CO2,
    )
    assert close(co2, D("207.5654166666666667"))


def test_the_2006_2_clinker_line_gives_the_formulas_figure() -> None:
    # The line reader adds nothing of its own: Eq. 2.4 → Eq. 2.5 → Eq. 2.2 with the line's numbers.
    line = {
        **CLINKER,
        "mgo_fraction": "0.02",
        "kiln_dust": q("20", "t"),
        "kiln_dust_carbonate_fraction": "0.8",
        "kiln_dust_calcination_fraction": "0.5",
    }
    ef_cl = clinker_emission_factor_eq24(
        cao_fraction=D("0.65"),
        cao_non_carbonate_fraction=D("0"),
        cao_to_co2=CAO_TO_CO2,
        mgo_fraction=D("0.02"),
        mgo_to_co2=MGO_TO_CO2,
    )
    cf = ckd_correction_factor(
        discarded_dust=D("20"),
        clinker=D("1000"),
        dust_carbonate_fraction=D("0.8"),
        dust_calcination_fraction=D("0.5"),
        carbonate_co2_factor=D("0.43971"),
        clinker_emission_factor=ef_cl,
    )
    expected = clinker_co2_ipcc_eq24(clinker=D("1000"), clinker_emission_factor=ef_cl, cf_ckd=cf)
    assert agrees(line_result(line)["co2e"], expected)

"""Electrolytic aluminium, category ``process``: CO2 from anodes, CF4 and C2F6 from anode effects.

References: MEE aluminium guideline CETS-AG-04.01-V01-2024; IPCC 2006 Vol. 3 Ch. 4.4
(Eq. 4.21-4.28, Tables 4.10-4.16); US 40 CFR 98 Subpart F; IAI GHG protocol (anode baking).

Each method is a registered line reader (validation, defaults, recorded parameters) that calls a small
pure formula function of plain Decimals, callable from a notebook with plain numbers. The engine calls
them inside its own Decimal context (:data:`accounting.numbers.CONTEXT`, 34 digits).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from accounting.lines import Emission, LineReader
from accounting.methodologies import Methodology
from accounting.numbers import ONE, ZERO
from accounting.registry import COMMON_FIELDS, EMISSION_FIELDS, method

MASS = ("t",)
KG_PER_TONNE = "kg/t"
SLOPE_UNIT = "kg/t per AE-min/cell-day"
OVERVOLTAGE_UNIT = "kg/t per mV"
AE_MINUTES = "AE-min/cell-day"
THOUSAND = Decimal(1000)


# -- formulas (pure, plain Decimals) ---------------------------------------------------------


def anode_consumption_co2(
    *,
    aluminium_production: Decimal,
    net_anode_consumption: Decimal,
    sulphur_fraction: Decimal,
    ash_fraction: Decimal,
    c_to_co2: Decimal,
) -> Decimal:
    """Prebake anode consumption CO2 [t] (IPCC 2006 Vol. 3 Eq. 4.21; 40 CFR 98.63; MEE 2024).

    ``CO2 = aluminium_production [t] × net_anode_consumption [tC/t Al] × (1 − S − Ash) × c_to_co2``,
    S and Ash the sulphur and ash fractions of the baked anodes [t/t], c_to_co2 = 44/12 [tCO2/tC].
    """
    return aluminium_production * net_anode_consumption * (ONE - sulphur_fraction - ash_fraction) * c_to_co2


def pfc_from_emission_factors(
    *, aluminium_production: Decimal, cf4_emission_factor: Decimal, c2f6_emission_factor: Decimal
) -> tuple[Decimal, Decimal]:
    """``(CF4, C2F6) [t] = EF [kg/t Al] × aluminium_production [t] / 1000`` for each gas.

    IPCC 2006 Vol. 3 Eq. 4.25 (Tier 1, Table 4.15 factors); MEE 2024 without anode-effect data.
    """
    return (
        cf4_emission_factor * aluminium_production / THOUSAND,
        c2f6_emission_factor * aluminium_production / THOUSAND,
    )


def pfc_cn_mee(
    *,
    aluminium_production: Decimal,
    anode_effect_minutes: Decimal,
    cf4_slope: Decimal,
    c2f6_to_cf4: Decimal,
) -> tuple[Decimal, Decimal]:
    """China: ``EF_CF4 [kg/t] = cf4_slope × AE-minutes``, ``EF_C2F6 = c2f6_to_cf4 × EF_CF4``; (CF4, C2F6) [t].

    anode_effect_minutes [AE-min/cell-day]; cf4_slope [kg/t per AE-min/cell-day] (0.143);
    c2f6_to_cf4 [1] (0.1); each gas = EF × aluminium_production [t] / 1000. Reference: MEE 2024.
    """
    cf4 = cf4_slope * anode_effect_minutes
    c2f6 = c2f6_to_cf4 * cf4
    return cf4 * aluminium_production / THOUSAND, c2f6 * aluminium_production / THOUSAND


def pfc_slope(
    *,
    aluminium_production: Decimal,
    anode_effect_minutes: Decimal,
    slope_cf4: Decimal,
    c2f6_ratio: Decimal,
) -> tuple[Decimal, Decimal]:
    """Slope method: ``CF4 [t] = AE-minutes × slope_cf4 × aluminium_production [t] / 1000``, ``C2F6 = CF4 × ratio``.

    anode_effect_minutes [AE-min/cell-day]; slope_cf4 [kg/t per AE-min/cell-day]; c2f6_ratio [t/t].
    Reference: IPCC 2006 Vol. 3 Eq. 4.26, Table 4.16.
    """
    cf4 = anode_effect_minutes * slope_cf4 * aluminium_production / THOUSAND
    return cf4, cf4 * c2f6_ratio


def pfc_overvoltage(
    *,
    aluminium_production: Decimal,
    overvoltage_mv: Decimal,
    current_efficiency_percent: Decimal,
    overvoltage_coefficient: Decimal,
    c2f6_ratio: Decimal,
) -> tuple[Decimal, Decimal]:
    """Overvoltage method: ``CF4 [t] = coefficient × overvoltage / CE × aluminium_production / 1000``.

    overvoltage_coefficient [kg/t per mV]; overvoltage_mv [mV]; current_efficiency_percent [%, e.g.
    95]; aluminium_production [t]; ``C2F6 = CF4 × c2f6_ratio`` [t/t].
    Reference: IPCC 2006 Vol. 3 Eq. 4.27, Table 4.16.
    """
    cf4 = (
        overvoltage_coefficient
        * overvoltage_mv
        / current_efficiency_percent
        * aluminium_production
        / THOUSAND
    )
    return cf4, cf4 * c2f6_ratio


def pitch_volatiles_carbon(
    *, green_anodes: Decimal, hydrogen: Decimal, baked_anodes: Decimal, waste_tar: Decimal
) -> Decimal:
    """Pitch volatiles burnt while baking [t]: ``green − hydrogen − baked − waste_tar`` (all in t).

    Reference: IPCC 2006 Vol. 3 Eq. 4.22 (before × 44/12).
    """
    return green_anodes - hydrogen - baked_anodes - waste_tar


def anode_baking_co2(
    *,
    green_anodes: Decimal,
    hydrogen: Decimal,
    baked_anodes: Decimal,
    waste_tar: Decimal,
    packing_coke_rate: Decimal,
    packing_coke_sulphur_fraction: Decimal,
    packing_coke_ash_fraction: Decimal,
    c_to_co2: Decimal,
) -> Decimal:
    """Anode baking CO2 [t]: pitch volatiles (Eq. 4.22) plus packing coke (Eq. 4.23).

    ``CO2 = [(green − hydrogen − baked − waste_tar) + packing_coke_rate × baked × (1 − S_pc − Ash_pc)] × c_to_co2``

    green_anodes, hydrogen (H_w), baked_anodes, waste_tar [t]; packing_coke_rate [t coke/t baked anode];
    S_pc, Ash_pc [t/t]; c_to_co2 = 44/12 [tCO2/tC]. Reference: IPCC 2006 Vol. 3 Eq. 4.22-4.23; IAI
    Aluminium Sector GHG Protocol.
    """
    volatiles = pitch_volatiles_carbon(
        green_anodes=green_anodes, hydrogen=hydrogen, baked_anodes=baked_anodes, waste_tar=waste_tar
    )
    packing_coke = (
        packing_coke_rate * baked_anodes * (ONE - packing_coke_sulphur_fraction - packing_coke_ash_fraction)
    )
    return (volatiles + packing_coke) * c_to_co2


# -- line readers ----------------------------------------------------------------------------


@method(
    "anode_consumption",
    category="process",
    fields=("aluminium_production", "net_anode_consumption", "sulphur_fraction", "ash_fraction"),
    needs=("constants.c_to_co2", "aluminium.sulphur_fraction", "aluminium.ash_fraction"),
    reference="MEE aluminium guideline 2024; IPCC 2006 Vol.3 Eq. 4.21; 40 CFR 98.63",
)
def anode_consumption(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = aluminium [t] × net_anode_consumption [tC/t Al] × (1 − S − Ash) × 44/12``.

    See :func:`anode_consumption_co2`.
    """
    production, _ = line.quantity("aluminium_production", MASS)
    consumption, _ = line.quantity(
        "net_anode_consumption",
        ("tC/t", "1"),
        plain_unit="1",
        default=methodology.factor("aluminium.net_anode_consumption"),
        missing=f"{methodology.code} has no default net anode consumption: give net_anode_consumption",
    )
    sulphur = line.fraction("sulphur_fraction", default=methodology.factor("aluminium.sulphur_fraction"))
    ash = line.fraction("ash_fraction", default=methodology.factor("aluminium.ash_fraction"))
    if sulphur + ash > ONE:
        line.fail("ash_fraction", "fraction_out_of_range", "sulphur_fraction + ash_fraction exceed 1")
    return Emission(
        co2=anode_consumption_co2(
            aluminium_production=production,
            net_anode_consumption=consumption,
            sulphur_fraction=sulphur,
            ash_fraction=ash,
            c_to_co2=methodology.c_to_co2,
        )
    )


def current_efficiency_percent(line: LineReader) -> Decimal:
    """The line's ``current_efficiency`` in percent: a plain value above 1 is a percentage (95 → 95 %);
    a fraction or a ``%`` quantity is a fraction. Zero is refused (the overvoltage formula divides by it)."""
    efficiency = line.fraction("current_efficiency", upper=Decimal(100))
    percent = efficiency if efficiency > ONE else efficiency * 100
    if percent == ZERO:
        line.fail("current_efficiency", "out_of_range", "current_efficiency must be above 0")
    return percent


def _technology(line: LineReader, methodology: Methodology, *, required: bool) -> dict[str, Any]:
    technologies = methodology.section("cell_technologies")
    if not required and not line.has("cell_technology"):
        return {}
    code = line.code("cell_technology", technologies, what="cell technology")
    return dict(technologies[code])


def _missing(methodology: Methodology, key: str) -> str:
    return f"no default {key} for this cell technology under {methodology.code}: give {key}"


def _cn_mee(line: LineReader, methodology: Methodology, production: Decimal) -> tuple[Decimal, Decimal]:
    """China: EF_CF4 [kg/t] = 0.143 × AE-minutes; EF_C2F6 = 0.1 × EF_CF4; without AE data 0.034 / 0.0034."""
    line.only(_FIELDS["cn_mee"])
    _technology(line, methodology, required=False)
    coefficients = methodology.section("anode_effect").get("cn_mee")
    if coefficients is None:
        line.fail("method", "unknown_code", f"method cn_mee is not part of {methodology.code}")
    minutes = line.coefficient("anode_effect_minutes", AE_MINUTES, required=False)
    if minutes is None:
        cf4 = line.coefficient("cf4_emission_factor", KG_PER_TONNE, default=coefficients["cf4_without_data"])
        c2f6 = line.coefficient(
            "c2f6_emission_factor", KG_PER_TONNE, default=coefficients["c2f6_without_data"]
        )
        return pfc_from_emission_factors(
            aluminium_production=production, cf4_emission_factor=cf4, c2f6_emission_factor=c2f6
        )
    return pfc_cn_mee(
        aluminium_production=production,
        anode_effect_minutes=minutes,
        cf4_slope=coefficients["cf4_slope"].value,
        c2f6_to_cf4=coefficients["c2f6_to_cf4"].value,
    )


def _slope(line: LineReader, methodology: Methodology, production: Decimal) -> tuple[Decimal, Decimal]:
    """IPCC Tier 2/3 slope: CF4 [t] = AE-minutes × slope [kg/t per AE-min/cell-day] / 1000 × aluminium [t]."""
    line.only(_FIELDS["slope"])
    technology = _technology(
        line, methodology, required=not (line.has("slope_cf4") and line.has("c2f6_ratio"))
    )
    minutes = line.coefficient("anode_effect_minutes", AE_MINUTES)
    slope = line.coefficient(
        "slope_cf4",
        SLOPE_UNIT,
        default=technology.get("slope_cf4"),
        missing=_missing(methodology, "slope_cf4"),
    )
    ratio = line.coefficient(
        "c2f6_ratio", "1", default=technology.get("c2f6_ratio"), missing=_missing(methodology, "c2f6_ratio")
    )
    return pfc_slope(
        aluminium_production=production, anode_effect_minutes=minutes, slope_cf4=slope, c2f6_ratio=ratio
    )


def _overvoltage(line: LineReader, methodology: Methodology, production: Decimal) -> tuple[Decimal, Decimal]:
    """Overvoltage: CF4 [t] = coefficient × (overvoltage [mV] / current efficiency [%]) × aluminium [t] / 1000."""
    line.only(_FIELDS["overvoltage"])
    technology = _technology(
        line, methodology, required=not (line.has("overvoltage_coefficient") and line.has("c2f6_ratio"))
    )
    overvoltage = line.coefficient("overvoltage_mv", "mV")
    percent = current_efficiency_percent(line)
    coefficient = line.coefficient(
        "overvoltage_coefficient",
        OVERVOLTAGE_UNIT,
        default=technology.get("overvoltage_coefficient"),
        missing=_missing(methodology, "overvoltage_coefficient"),
    )
    ratio = line.coefficient(
        "c2f6_ratio", "1", default=technology.get("c2f6_ratio"), missing=_missing(methodology, "c2f6_ratio")
    )
    return pfc_overvoltage(
        aluminium_production=production,
        overvoltage_mv=overvoltage,
        current_efficiency_percent=percent,
        overvoltage_coefficient=coefficient,
        c2f6_ratio=ratio,
    )


def _tier1(line: LineReader, methodology: Methodology, production: Decimal) -> tuple[Decimal, Decimal]:
    """IPCC Tier 1: CF4, C2F6 [kg/t Al] by cell technology × aluminium [t] / 1000."""
    line.only(_FIELDS["tier1"])
    technology = _technology(line, methodology, required=True)
    cf4 = line.coefficient(
        "cf4_emission_factor",
        KG_PER_TONNE,
        default=technology.get("tier1_cf4"),
        missing=_missing(methodology, "cf4_emission_factor"),
    )
    c2f6 = line.coefficient(
        "c2f6_emission_factor",
        KG_PER_TONNE,
        default=technology.get("tier1_c2f6"),
        missing=_missing(methodology, "c2f6_emission_factor"),
    )
    return pfc_from_emission_factors(
        aluminium_production=production, cf4_emission_factor=cf4, c2f6_emission_factor=c2f6
    )


#: The fields every anode-effect line may carry (the common ones and the engine's uncertainty).
_BASE_FIELDS = (*sorted(COMMON_FIELDS | EMISSION_FIELDS), "method", "aluminium_production", "cell_technology")
_FIELDS = {
    "cn_mee": (*_BASE_FIELDS, "anode_effect_minutes", "cf4_emission_factor", "c2f6_emission_factor"),
    "slope": (*_BASE_FIELDS, "anode_effect_minutes", "slope_cf4", "c2f6_ratio"),
    "overvoltage": (
        *_BASE_FIELDS,
        "overvoltage_mv",
        "current_efficiency",
        "overvoltage_coefficient",
        "c2f6_ratio",
    ),
    "tier1": (*_BASE_FIELDS, "cf4_emission_factor", "c2f6_emission_factor"),
}
ANODE_EFFECT_METHODS: dict[str, Callable[[LineReader, Methodology, Decimal], tuple[Decimal, Decimal]]] = {
    "cn_mee": _cn_mee,
    "slope": _slope,
    "overvoltage": _overvoltage,
    "tier1": _tier1,
}


@method(
    "anode_effect",
    category="process",
    fields=tuple(sorted({f for fields in _FIELDS.values() for f in fields})),
    needs=("cell_technologies",),
    reference="MEE aluminium guideline 2024 (PFC); IPCC 2006 Vol.3 Eq. 4.25-4.27, Tables 4.15-4.16",
)
def anode_effect(line: LineReader, methodology: Methodology) -> Emission:
    """CF4 and C2F6 from anode effects by ``method``: ``cn_mee``, ``slope``, ``overvoltage`` or ``tier1``.

    Gases in tonnes of each gas; CO2e = CF4 × GWP_CF4 + C2F6 × GWP_C2F6 (the methodology's GWP set).
    """
    variant = line.code(
        "method",
        ANODE_EFFECT_METHODS,
        what="anode-effect method",
        default=methodology.default_anode_effect_method or None,
    )
    production, _ = line.quantity("aluminium_production", MASS)
    cf4, c2f6 = ANODE_EFFECT_METHODS[variant](line, methodology, production)
    return Emission(cf4=cf4, c2f6=c2f6)


@method(
    "anode_baking",
    category="process",
    fields=(
        "green_anodes",
        "hydrogen_content",
        "baked_anodes",
        "waste_tar",
        "packing_coke_rate",
        "packing_coke_sulphur_fraction",
        "packing_coke_ash_fraction",
    ),
    needs=(
        "constants.c_to_co2",
        "aluminium.packing_coke_sulphur_fraction",
        "aluminium.packing_coke_ash_fraction",
    ),
    reference="IPCC 2006 Vol.3 Eq. 4.22-4.23; IAI Aluminium Sector GHG Protocol",
)
def anode_baking(line: LineReader, methodology: Methodology) -> Emission:
    """Pitch volatiles and packing coke burnt while baking anodes (:func:`anode_baking_co2`).

    ``CO2 = (green − hydrogen − baked − waste_tar) × 44/12 + packing_coke_rate × baked × (1 − S − Ash) × 44/12``,
    masses in t; ``hydrogen_content`` as a mass or as a fraction of the green anodes. Without
    ``hydrogen_content`` the methodology's default fraction of the green anodes applies where it has
    one (``aluminium.green_anode_hydrogen_fraction``); otherwise the field is required.
    """
    green, _ = line.quantity("green_anodes", MASS)
    hydrogen, unit = line.quantity(
        "hydrogen_content",
        ("t", "1"),
        plain_unit="1",
        default=methodology.factor("aluminium.green_anode_hydrogen_fraction"),
        missing=f"{methodology.key} has no default hydrogen content of green anodes: give hydrogen_content "
        "(t, or a fraction of the green anodes' mass)",
    )
    if unit == "1":
        if hydrogen > ONE:
            line.fail(
                "hydrogen_content",
                "fraction_out_of_range",
                "hydrogen_content as a fraction must lie in [0, 1]",
            )
        hydrogen = hydrogen * green
    baked, _ = line.quantity("baked_anodes", MASS)
    waste_tar = line.quantity("waste_tar", MASS, required=False)
    tar = waste_tar[0] if waste_tar else ZERO
    if (
        pitch_volatiles_carbon(green_anodes=green, hydrogen=hydrogen, baked_anodes=baked, waste_tar=tar)
        < ZERO
    ):
        line.fail(
            "baked_anodes",
            "negative_net_carbon",
            "green anodes less hydrogen, baked anodes and waste tar is negative",
        )
    rate = line.fraction("packing_coke_rate")
    sulphur = line.fraction(
        "packing_coke_sulphur_fraction", default=methodology.factor("aluminium.packing_coke_sulphur_fraction")
    )
    ash = line.fraction(
        "packing_coke_ash_fraction", default=methodology.factor("aluminium.packing_coke_ash_fraction")
    )
    if sulphur + ash > ONE:
        line.fail("packing_coke_ash_fraction", "fraction_out_of_range", "sulphur and ash fractions exceed 1")
    return Emission(
        co2=anode_baking_co2(
            green_anodes=green,
            hydrogen=hydrogen,
            baked_anodes=baked,
            waste_tar=tar,
            packing_coke_rate=rate,
            packing_coke_sulphur_fraction=sulphur,
            packing_coke_ash_fraction=ash,
            c_to_co2=methodology.c_to_co2,
        )
    )

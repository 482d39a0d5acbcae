"""Electrolytic aluminium, category ``process``: CO2 from anodes, CF4 and C2F6 from anode effects.

References: MEE aluminium guideline CETS-AG-04.01-V01-2024; IPCC 2006 Vol. 3 Ch. 4.4
(Eq. 4.21-4.28, Tables 4.10-4.16); US 40 CFR 98 Subpart F; IAI GHG protocol (anode baking).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from accounting.lines import Emission, LineReader
from accounting.methodologies import Methodology
from accounting.numbers import ONE, ZERO
from accounting.registry import method

MASS = ("t",)
KG_PER_TONNE = "kg/t"
SLOPE_UNIT = "kg/t per AE-min/cell-day"
OVERVOLTAGE_UNIT = "kg/t per mV"
AE_MINUTES = "AE-min/cell-day"
THOUSAND = Decimal(1000)


@method(
    "anode_consumption",
    category="process",
    fields=("aluminium_production", "net_anode_consumption", "sulphur_fraction", "ash_fraction"),
    needs=("constants.c_to_co2", "aluminium.sulphur_fraction", "aluminium.ash_fraction"),
    reference="MEE aluminium guideline 2024; IPCC 2006 Vol.3 Eq. 4.21; 40 CFR 98.63",
)
def anode_consumption(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = aluminium [t] × net_anode_consumption [tC/t Al] × (1 − S − Ash) × 44/12``."""
    production, _ = line.quantity("aluminium_production", MASS)  # type: ignore[misc]
    consumption, _ = line.quantity(  # type: ignore[misc]
        "net_anode_consumption",
        ("tC/t", "1"),
        plain_unit="1",
        default=methodology.factor("aluminium.net_anode_consumption"),
        missing=f"{methodology.code} has no default net anode consumption: give net_anode_consumption",
    )
    sulphur = line.fraction("sulphur_fraction", default=methodology.factor("aluminium.sulphur_fraction"))
    ash = line.fraction("ash_fraction", default=methodology.factor("aluminium.ash_fraction"))
    assert sulphur is not None and ash is not None
    if sulphur + ash > ONE:
        line.fail("ash_fraction", "fraction_out_of_range", "sulphur_fraction + ash_fraction exceed 1")
    return Emission(co2=production * consumption * (ONE - sulphur - ash) * methodology.c_to_co2)


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
    else:
        cf4 = coefficients["cf4_slope"].value * minutes
        c2f6 = coefficients["c2f6_to_cf4"].value * cf4
    assert cf4 is not None and c2f6 is not None
    return cf4 * production / THOUSAND, c2f6 * production / THOUSAND


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
    assert minutes is not None and slope is not None and ratio is not None
    cf4 = minutes * slope * production / THOUSAND
    return cf4, cf4 * ratio


def _overvoltage(line: LineReader, methodology: Methodology, production: Decimal) -> tuple[Decimal, Decimal]:
    """Overvoltage: CF4 [t] = coefficient × (overvoltage [mV] / current efficiency [%]) × aluminium [t] / 1000."""
    line.only(_FIELDS["overvoltage"])
    technology = _technology(
        line, methodology, required=not (line.has("overvoltage_coefficient") and line.has("c2f6_ratio"))
    )
    overvoltage = line.coefficient("overvoltage_mv", "mV")
    efficiency = line.fraction("current_efficiency", upper=Decimal(100))
    assert overvoltage is not None and efficiency is not None
    # A plain value above 1 is a percentage (95 → 95 %); a fraction or a % quantity is a fraction.
    percent = efficiency if efficiency > ONE else efficiency * 100
    if percent == ZERO:
        line.fail("current_efficiency", "out_of_range", "current_efficiency must be above 0")
    coefficient = line.coefficient(
        "overvoltage_coefficient",
        OVERVOLTAGE_UNIT,
        default=technology.get("overvoltage_coefficient"),
        missing=_missing(methodology, "overvoltage_coefficient"),
    )
    ratio = line.coefficient(
        "c2f6_ratio", "1", default=technology.get("c2f6_ratio"), missing=_missing(methodology, "c2f6_ratio")
    )
    assert coefficient is not None and ratio is not None
    cf4 = coefficient * overvoltage / percent * production / THOUSAND
    return cf4, cf4 * ratio


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
    assert cf4 is not None and c2f6 is not None
    return cf4 * production / THOUSAND, c2f6 * production / THOUSAND


_BASE_FIELDS = ("ref", "source", "month", "method", "aluminium_production", "cell_technology")
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
    production, _ = line.quantity("aluminium_production", MASS)  # type: ignore[misc]
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
    """Pitch volatiles and packing coke burnt while baking anodes.

    ``CO2 = (green − hydrogen − baked − waste_tar) × 44/12 + packing_coke_rate × baked × (1 − S − Ash) × 44/12``,
    masses in t; ``hydrogen_content`` as a mass or as a fraction of the green anodes.
    """
    green, _ = line.quantity("green_anodes", MASS)  # type: ignore[misc]
    hydrogen, unit = line.quantity("hydrogen_content", ("t", "1"), plain_unit="1")  # type: ignore[misc]
    if unit == "1":
        if hydrogen > ONE:
            line.fail(
                "hydrogen_content",
                "fraction_out_of_range",
                "hydrogen_content as a fraction must lie in [0, 1]",
            )
        hydrogen = hydrogen * green
    baked, _ = line.quantity("baked_anodes", MASS)  # type: ignore[misc]
    waste_tar = line.quantity("waste_tar", MASS, required=False)
    volatiles = green - hydrogen - baked - (waste_tar[0] if waste_tar else ZERO)
    if volatiles < ZERO:
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
    assert rate is not None and sulphur is not None and ash is not None
    if sulphur + ash > ONE:
        line.fail("packing_coke_ash_fraction", "fraction_out_of_range", "sulphur and ash fractions exceed 1")
    packing_coke = rate * baked * (ONE - sulphur - ash)
    return Emission(co2=(volatiles + packing_coke) * methodology.c_to_co2)

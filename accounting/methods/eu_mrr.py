"""EU MRR (Implementing Regulation (EU) 2018/2066 as amended) method variants.

Used by the ``eu-mrr-2018`` bundle (and through it by CBAM, which refers to the MRR's monitoring
rules). The other line kinds of that bundle reuse the common variants with the MRR's data
(Annex VI defaults, f = 3.664, OF = 1). The variants here exist where the MRR's formula differs
(clinker dust, carbon mass balance with the materials table, PFC with the MRR's two tables) or where
the regime has no default and the line must give the value (electricity, heat, anode data).

Each method reads its line and calls a pure formula function of plain Decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounting.lines import Emission, LineReader
from accounting.methodologies import Methodology
from accounting.methods.aluminium import (
    AE_MINUTES,
    OVERVOLTAGE_UNIT,
    SLOPE_UNIT,
    anode_baking,
    anode_consumption,
    current_efficiency_percent,
    pfc_overvoltage,
    pfc_slope,
)
from accounting.methods.energy import purchased_electricity_co2, purchased_heat_co2
from accounting.methods.steel import carbon_mass_balance_co2
from accounting.numbers import ONE, ZERO
from accounting.registry import COMMON_FIELDS, EMISSION_FIELDS, method

MASS = ("t",)


# -- formulas (pure, plain Decimals) ---------------------------------------------------------


def clinker_emission_factor_mrr(
    *,
    cao_fraction: Decimal,
    cao_non_carbonate_fraction: Decimal,
    mgo_fraction: Decimal,
    mgo_non_carbonate_fraction: Decimal,
    cao_to_co2: Decimal,
    mgo_to_co2: Decimal,
) -> Decimal:
    """``EF_Cli = (CaO − CaO_nc) × 0.785 + (MgO − MgO_nc) × 1.092`` [tCO2/t clinker].

    Fractions [t/t clinker]; cao_to_co2 0.785 and mgo_to_co2 1.092 [tCO2/t oxide] (Annex VI Table 3).
    Reference: EU MRR Annex IV section 9, method B (output).
    """
    return (cao_fraction - cao_non_carbonate_fraction) * cao_to_co2 + (
        mgo_fraction - mgo_non_carbonate_fraction
    ) * mgo_to_co2


def ckd_emission_factor_mrr(*, clinker_emission_factor: Decimal, calcination_degree: Decimal) -> Decimal:
    """``EF_CKD = (EF_Cli/(1+EF_Cli) × d) / (1 − EF_Cli/(1+EF_Cli) × d)`` [tCO2/t dust].

    EF_Cli [tCO2/t clinker]; d the calcination degree of the discarded dust [1].
    Reference: EU MRR Annex IV section 9 B (discarded cement kiln dust).
    """
    share = clinker_emission_factor / (ONE + clinker_emission_factor) * calcination_degree
    return share / (ONE - share)


def clinker_co2_mrr(
    *, clinker: Decimal, clinker_emission_factor: Decimal, dust: Decimal, ckd_emission_factor: Decimal
) -> Decimal:
    """``Em = Cli × EF_Cli + m_dust × EF_CKD`` [tCO2] (conversion factor 1).

    Cli clinker [t]; m_dust discarded kiln and bypass dust [t]. Reference: EU MRR Annex IV section 9 B.
    """
    return clinker * clinker_emission_factor + dust * ckd_emission_factor


# -- line readers ----------------------------------------------------------------------------


def _oxides(line: LineReader, oxide: str, methodology: Methodology) -> tuple[Decimal, Decimal]:
    total = line.fraction(
        f"{oxide}_fraction",
        missing=f"{methodology.key} (output method B) has no default clinker composition: give "
        f"{oxide}_fraction from the clinker analysis, or report the clinker through clinker_default "
        "(tier 1 factor)",
    )
    non_carbonate = line.fraction(f"{oxide}_non_carbonate_fraction", required=False) or ZERO
    if non_carbonate > total:
        line.fail(
            f"{oxide}_non_carbonate_fraction",
            "out_of_range",
            f"{oxide}_non_carbonate_fraction exceeds {oxide}_fraction",
        )
    return total, non_carbonate


@method(
    "clinker_carbonate",
    variant="clinker_carbonate_eu_mrr",
    category="process",
    fields=(
        "clinker",
        "kiln_dust",
        "bypass_dust",
        "cao_fraction",
        "cao_non_carbonate_fraction",
        "mgo_fraction",
        "mgo_non_carbonate_fraction",
        "kiln_dust_calcination_fraction",
    ),
    needs=("constants.cao_to_co2", "constants.mgo_to_co2", "clinker.ckd_emission_factor"),
    reference="EU MRR 2018/2066 Annex IV section 9 method B (clinker output, discarded CKD)",
)
def clinker_carbonate_eu_mrr(line: LineReader, methodology: Methodology) -> Emission:
    """``Em = Cli × EF_Cli + m_dust × EF_CKD`` (:func:`clinker_co2_mrr`).

    EF_Cli from CaO and MgO (both measured, :func:`clinker_emission_factor_mrr`). Discarded dust
    (kiln_dust + bypass_dust) at EF_CKD: by :func:`ckd_emission_factor_mrr` when the line gives the
    dust's calcination degree ``kiln_dust_calcination_fraction``, else the tier-1 default 0.525 t/t.
    """
    clinker, _ = line.quantity("clinker", MASS)
    cao, cao_nc = _oxides(line, "cao", methodology)
    mgo, mgo_nc = _oxides(line, "mgo", methodology)
    factor = clinker_emission_factor_mrr(
        cao_fraction=cao,
        cao_non_carbonate_fraction=cao_nc,
        mgo_fraction=mgo,
        mgo_non_carbonate_fraction=mgo_nc,
        cao_to_co2=methodology.constant("cao_to_co2"),
        mgo_to_co2=methodology.constant("mgo_to_co2"),
    )
    kiln_dust = line.quantity("kiln_dust", MASS, required=False)
    bypass_dust = line.quantity("bypass_dust", MASS, required=False)
    dust = (kiln_dust[0] if kiln_dust else ZERO) + (bypass_dust[0] if bypass_dust else ZERO)
    if kiln_dust is None and bypass_dust is None:
        if line.has("kiln_dust_calcination_fraction"):
            line.fail(
                "kiln_dust",
                "required",
                "kiln_dust_calcination_fraction describes discarded kiln dust: give kiln_dust (and "
                "bypass_dust if any), or omit kiln_dust_calcination_fraction",
            )
        ckd_factor = ZERO
    elif line.has("kiln_dust_calcination_fraction"):
        degree = line.fraction("kiln_dust_calcination_fraction")
        ckd_factor = ckd_emission_factor_mrr(clinker_emission_factor=factor, calcination_degree=degree)
        if ckd_factor < ZERO:
            line.fail(
                "kiln_dust_calcination_fraction",
                "out_of_range",
                "EF_CKD of MRR Annex IV 9 B is undefined for this calcination degree and clinker factor",
            )
    elif dust > ZERO:
        default = methodology.factor("clinker.ckd_emission_factor")
        assert default is not None  # declared in ``needs``
        line.record("ckd_emission_factor", default.value, default.unit, default)
        ckd_factor = default.value
    else:
        ckd_factor = ZERO
    return Emission(
        co2=clinker_co2_mrr(
            clinker=clinker, clinker_emission_factor=factor, dust=dust, ckd_emission_factor=ckd_factor
        )
    )


_CARBON_CONTENT = ("tC/t", "tC/10^4 Nm3", "1")
_BASIS = {"tC/t": "t", "1": "t", "tC/10^4 Nm3": "10^4 Nm3"}


def _carbon(streams: list[LineReader], methodology: Methodology) -> Decimal:
    """Σ quantity × carbon_content [tC]; a stream naming a material of the MRR table (Annex VI Table 5)
    may omit its carbon content (the default is recorded with its provenance)."""
    materials = methodology.section("materials")
    total = ZERO
    for stream in streams:
        stream.only(("material", "quantity", "carbon_content"))
        name = stream.label("material")
        default = materials[name].get("carbon_content") if name in materials else None
        quantity, basis = stream.quantity("quantity", ("t", "10^4 Nm3"))
        content, unit = stream.quantity(
            "carbon_content",
            _CARBON_CONTENT,
            plain_unit="1",
            default=default,
            missing=f"{name!r} has no default carbon content under {methodology.key} (its table: "
            f"{', '.join(sorted(materials))}): give carbon_content",
        )
        if _BASIS[unit] != basis:
            stream.fail(
                "quantity",
                "wrong_dimension",
                f"carbon_content in {unit} needs a quantity in {_BASIS[unit]}",
                "/unit",
            )
        if basis == "t" and content > 1:
            stream.fail(
                "carbon_content", "fraction_out_of_range", "carbon_content per mass must lie between 0 and 1"
            )
        total += quantity * content
    return total


@method(
    "carbon_mass_balance",
    variant="carbon_mass_balance_eu_mrr",
    category="process",
    fields=("inputs", "outputs"),
    needs=("constants.c_to_co2", "materials"),
    reference="EU MRR 2018/2066 Art. 25 and Annex II section 3 (mass balance); Annex VI Table 5 (materials)",
)
def carbon_mass_balance_eu_mrr(line: LineReader, methodology: Methodology) -> Emission:
    """``Em = f × (Σ inputs × C − Σ outputs × C)``, f = 3.664 (:func:`carbon_mass_balance_co2`); a
    stream's carbon content defaults from the MRR materials table by its ``material``."""
    carbon_in = _carbon(line.items("inputs"), methodology)
    carbon_out = _carbon(line.items("outputs", required=False), methodology)
    if carbon_out > carbon_in:
        line.fail(
            "outputs",
            "negative_net_carbon",
            f"carbon in outputs ({carbon_out:f} tC) exceeds carbon in inputs ({carbon_in:f} tC)",
        )
    return Emission(
        co2=carbon_mass_balance_co2(carbon_in=carbon_in, carbon_out=carbon_out, c_to_co2=methodology.c_to_co2)
    )


def _technology(line: LineReader, methodology: Methodology, keys: tuple[str, str]) -> dict[str, Any]:
    technologies = methodology.section("cell_technologies")
    if all(line.has(key) for key in keys) and not line.has("cell_technology"):
        return {}
    code = line.code("cell_technology", technologies, what="cell technology")
    return dict(technologies[code])


def _no_default(methodology: Methodology, key: str) -> str:
    return f"{methodology.key} has no default {key} for this cell technology: give {key}"


_PFC_FIELDS = {
    "slope": ("anode_effect_minutes", "slope_cf4", "c2f6_ratio"),
    "overvoltage": ("overvoltage_mv", "current_efficiency", "overvoltage_coefficient", "c2f6_ratio"),
}
_PFC_BASE = (*sorted(COMMON_FIELDS | EMISSION_FIELDS), "method", "aluminium_production", "cell_technology")


@method(
    "anode_effect",
    variant="anode_effect_eu_mrr",
    category="process",
    fields=tuple(
        sorted(
            {
                "method",
                "aluminium_production",
                "cell_technology",
                *_PFC_FIELDS["slope"],
                *_PFC_FIELDS["overvoltage"],
            }
        )
    ),
    needs=("cell_technologies",),
    reference="EU MRR 2018/2066 Annex IV section 8 (PFC: method A slope, method B overvoltage)",
)
def anode_effect_eu_mrr(line: LineReader, methodology: Methodology) -> Emission:
    """CF4 and C2F6 by ``method`` ``slope`` (A, the default) or ``overvoltage`` (B), with the MRR's
    tables: ``CF4 = AEM × SEF / 1000 × Pr_Al`` (:func:`pfc_slope`) or
    ``CF4 = OVC × (AEO/CE) × Pr_Al × 0.001`` (:func:`pfc_overvoltage`); ``C2F6 = CF4 × F`` with each
    method's own F. Tier 1 factors are not part of the MRR."""
    variant = line.code(
        "method",
        _PFC_FIELDS,
        what="anode-effect method (EU MRR: slope or overvoltage)",
        default=methodology.default_anode_effect_method or None,
    )
    line.only((*_PFC_BASE, *_PFC_FIELDS[variant]))
    production, _ = line.quantity("aluminium_production", MASS)
    if variant == "slope":
        technology = _technology(line, methodology, ("slope_cf4", "c2f6_ratio"))
        minutes = line.coefficient("anode_effect_minutes", AE_MINUTES)
        slope = line.coefficient(
            "slope_cf4",
            SLOPE_UNIT,
            default=technology.get("slope_cf4"),
            missing=_no_default(methodology, "slope_cf4"),
        )
        ratio = line.coefficient(
            "c2f6_ratio",
            "1",
            default=technology.get("c2f6_ratio"),
            missing=_no_default(methodology, "c2f6_ratio"),
        )
        cf4, c2f6 = pfc_slope(
            aluminium_production=production, anode_effect_minutes=minutes, slope_cf4=slope, c2f6_ratio=ratio
        )
    else:
        technology = _technology(line, methodology, ("overvoltage_coefficient", "c2f6_ratio"))
        overvoltage = line.coefficient("overvoltage_mv", "mV")
        percent = current_efficiency_percent(line)
        coefficient = line.coefficient(
            "overvoltage_coefficient",
            OVERVOLTAGE_UNIT,
            default=technology.get("overvoltage_coefficient"),
            missing=_no_default(methodology, "overvoltage_coefficient (MRR method B covers CWPB and SWPB)"),
        )
        ratio = line.coefficient(
            "c2f6_ratio",
            "1",
            default=technology.get("overvoltage_c2f6_ratio"),
            missing=_no_default(methodology, "c2f6_ratio"),
        )
        cf4, c2f6 = pfc_overvoltage(
            aluminium_production=production,
            overvoltage_mv=overvoltage,
            current_efficiency_percent=percent,
            overvoltage_coefficient=coefficient,
            c2f6_ratio=ratio,
        )
    return Emission(cf4=cf4, c2f6=c2f6)


@method(
    "electricity",
    variant="purchased_electricity_given_factor",
    category="indirect_electricity",
    fields=("quantity", "emission_factor", "direction"),
    reference="CBAM 2025/2547 Annex II (indirect emissions: electricity × factor); no grid default carried",
)
def purchased_electricity_given_factor(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = electricity [MWh] × emission_factor [tCO2/MWh]`` (:func:`purchased_electricity_co2`), the
    factor from the line: the methodology carries no grid factor."""
    quantity, _ = line.quantity("quantity", ("MWh",))
    sign = line.direction()
    factor, _ = line.quantity(
        "emission_factor",
        ("tCO2/MWh",),
        missing=f"{methodology.key} carries no grid emission factor (the CBAM default for China in "
        "2025/2621 Annex II is not verified): give emission_factor in tCO2/MWh (grid, supplier or PPA)",
    )
    return Emission(co2=sign * purchased_electricity_co2(mwh=quantity, emission_factor=factor))


@method(
    "heat",
    variant="purchased_heat_given_factor",
    category="indirect_heat",
    fields=("quantity", "emission_factor", "direction"),
    reference="CBAM 2025/2547 Annex II (heat: Em = EF_heat × Q); no heat default carried",
)
def purchased_heat_given_factor(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = heat [GJ] × emission_factor [tCO2/GJ]`` (:func:`purchased_heat_co2`), both from the line."""
    heat, _ = line.quantity("quantity", ("GJ",))
    sign = line.direction()
    factor, _ = line.quantity(
        "emission_factor",
        ("tCO2/GJ",),
        missing=f"{methodology.key} carries no heat emission factor: give emission_factor in tCO2/GJ "
        "(the supplier's, or the fuel's factor over the boiler efficiency)",
    )
    return Emission(co2=sign * purchased_heat_co2(heat_gj=heat, emission_factor=factor))


# The common anode readers, registered without data needs: under the MRR the plant gives net anode
# consumption, sulphur and ash, and the anode-baking parameters (the bundle has no defaults; an absent
# value is a 400 pointing at the field).
method(
    "anode_consumption",
    variant="anode_consumption_line_values",
    category="process",
    fields=("aluminium_production", "net_anode_consumption", "sulphur_fraction", "ash_fraction"),
    needs=("constants.c_to_co2",),
    reference="EU MRR 2018/2066 Annex IV section 8 (anode CO2 by mass balance); IPCC 2006 Vol.3 Eq. 4.21",
)(anode_consumption)
method(
    "anode_baking",
    variant="anode_baking_line_values",
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
    needs=("constants.c_to_co2",),
    reference="EU MRR 2018/2066 Annex IV section 8 (anode production, mass balance); IPCC 2006 Eq. 4.22-4.23",
)(anode_baking)

"""Cement (clinker) process emissions, category ``process``; CO2 only.

References: MEE cement guideline CETS-AG-02.01-V01-2024 and the 2013 pilot guideline;
IPCC 2006 Vol. 3 Ch. 2, Eq. 2.1-2.4 and Table 2.1; EU MRR Annex IV (method B).
"""

from __future__ import annotations

from accounting.lines import Emission, LineReader
from accounting.methodologies import Methodology
from accounting.numbers import ZERO
from accounting.registry import method

MASS = ("t",)
PER_TONNE = ("tCO2/t",)


@method(
    "clinker_carbonate",
    category="process",
    fields=(
        "clinker",
        "kiln_dust",
        "bypass_dust",
        "cao_fraction",
        "cao_non_carbonate_fraction",
        "mgo_fraction",
        "mgo_non_carbonate_fraction",
    ),
    needs=("constants.cao_to_co2", "constants.mgo_to_co2"),
    reference="MEE cement guideline (clinker carbonate method); IPCC 2006 Vol.3 Eq. 2.4; EU MRR Annex IV B",
)
def clinker_carbonate(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = (clinker + kiln_dust + bypass_dust) × [(CaO − CaO_nc) × f_CaO + (MgO − MgO_nc) × f_MgO]``.

    ``f_CaO``, ``f_MgO`` belong to the methodology: 44/56 and 44/40 (China), or the IPCC Tier 2
    stoichiometry 0.43971/0.5603 and 0.52197/0.47803. Masses in t, fractions of clinker mass.
    """
    clinker, _ = line.quantity("clinker", MASS)  # type: ignore[misc]
    kiln_dust = line.quantity("kiln_dust", MASS, required=False)
    bypass_dust = line.quantity("bypass_dust", MASS, required=False)
    mass = clinker + (kiln_dust[0] if kiln_dust else ZERO) + (bypass_dust[0] if bypass_dust else ZERO)
    terms = ZERO
    for oxide in ("cao", "mgo"):
        total = line.fraction(f"{oxide}_fraction", default=methodology.factor(f"clinker.{oxide}_fraction"))
        non_carbonate = line.fraction(f"{oxide}_non_carbonate_fraction", required=False) or ZERO
        assert total is not None
        if non_carbonate > total:
            line.fail(
                f"{oxide}_non_carbonate_fraction",
                "out_of_range",
                f"{oxide}_non_carbonate_fraction exceeds {oxide}_fraction",
            )
        terms += (total - non_carbonate) * methodology.constant(f"{oxide}_to_co2")
    return Emission(co2=mass * terms)


@method(
    "clinker_default",
    category="process",
    fields=("clinker", "clinker_type", "emission_factor", "substitutes"),
    needs=("clinker_types",),
    reference="MEE cement guideline 2024 (default clinker factor with substitute deductions); IPCC 2006 Tier 1",
)
def clinker_default(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = clinker × EF(clinker_type) − Σ substitute × deduction_factor(material)``.

    Substitutes are non-carbonate calcium/magnesium sources (carbide slag, steel slag…) whose
    CaO/MgO did not come from calcination. A deduction larger than the clinker term is refused.
    """
    types = methodology.section("clinker_types")
    clinker_type = line.code("clinker_type", types, what="clinker type", default="portland")
    clinker, _ = line.quantity("clinker", MASS)  # type: ignore[misc]
    factor, _ = line.quantity(
        "emission_factor",
        PER_TONNE,  # type: ignore[misc]
        default=types[clinker_type].get("emission_factor"),
    )
    gross = clinker * factor
    deduction = ZERO
    materials = methodology.section("substitutes")
    for substitute in line.items("substitutes", required=False):
        substitute.only(("material", "quantity", "deduction_factor"))
        material = substitute.code("material", materials, what="substitute material")
        quantity, _ = substitute.quantity("quantity", MASS)  # type: ignore[misc]
        deduction_factor, _ = substitute.quantity(  # type: ignore[misc]
            "deduction_factor", PER_TONNE, default=materials[material].get("deduction_factor")
        )
        deduction += quantity * deduction_factor
    if deduction > gross:
        line.fail(
            "substitutes",
            "deduction_exceeds_emission",
            f"substitute deductions ({deduction:f} t) exceed the clinker term ({gross:f} t)",
        )
    return Emission(co2=gross - deduction)


@method(
    "raw_meal_organic_carbon",
    category="process",
    fields=("raw_meal", "organic_carbon_fraction"),
    needs=("constants.c_to_co2",),
    reference="MEE cement pilot guideline (2013), organic carbon in raw meal",
)
def raw_meal_organic_carbon(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = raw_meal [t] × organic_carbon_fraction × 44/12``."""
    raw_meal, _ = line.quantity("raw_meal", MASS)  # type: ignore[misc]
    fraction = line.fraction("organic_carbon_fraction")
    assert fraction is not None
    return Emission(co2=raw_meal * fraction * methodology.c_to_co2)

"""Cement (clinker) process emissions, category ``process``; CO2 only.

References: MEE cement guideline CETS-AG-02.01-V01-2024 and the 2013 pilot guideline;
IPCC 2006 Vol. 3 Ch. 2, Eq. 2.1-2.5 and Table 2.1; EU MRR Annex IV (method B).

Each method is a registered line reader (it validates the line, takes defaults from the
methodology and records every parameter) that calls a small pure formula function of plain
Decimals. The formula functions can be called from a notebook with plain numbers; the engine calls
them inside its own Decimal context (:data:`accounting.numbers.CONTEXT`, 34 digits), so use
``decimal.localcontext(CONTEXT)`` to reproduce the engine's last digits.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from accounting.lines import Emission, LineReader
from accounting.methodologies import Methodology
from accounting.numbers import ONE, ZERO
from accounting.registry import method

MASS = ("t",)
PER_TONNE = ("tCO2/t",)


# -- formulas (pure, plain Decimals) ---------------------------------------------------------


def clinker_co2_dust_at_clinker_factor(
    *,
    clinker: Decimal,
    kiln_dust: Decimal,
    bypass_dust: Decimal,
    cao_fraction: Decimal,
    cao_non_carbonate_fraction: Decimal,
    mgo_fraction: Decimal,
    mgo_non_carbonate_fraction: Decimal,
    cao_to_co2: Decimal,
    mgo_to_co2: Decimal,
) -> Decimal:
    """Clinker carbonate CO2 [t], discarded dust counted at the clinker factor.

    ``CO2 = (clinker + kiln_dust + bypass_dust) × [(CaO − CaO_nc) × f_CaO + (MgO − MgO_nc) × f_MgO]``

    clinker, kiln_dust, bypass_dust [t]; CaO, CaO_nc, MgO, MgO_nc [t/t clinker];
    f_CaO [tCO2/t CaO], f_MgO [tCO2/t MgO]: 44/56 and 44/40 (China) or 0.43971/0.5603 and
    0.52197/0.47803 (IPCC Table 2.1 stoichiometry).
    Reference: MEE cement guideline (clinker carbonate method), EU MRR Annex IV method B; the
    ``clinker_carbonate`` variant of cn-mee-2024 and of ipcc-2006@2006.1.
    """
    terms = (cao_fraction - cao_non_carbonate_fraction) * cao_to_co2 + (
        mgo_fraction - mgo_non_carbonate_fraction
    ) * mgo_to_co2
    return (clinker + kiln_dust + bypass_dust) * terms


def clinker_emission_factor_eq24(
    *,
    cao_fraction: Decimal,
    cao_non_carbonate_fraction: Decimal,
    cao_to_co2: Decimal,
    mgo_fraction: Decimal | None = None,
    mgo_non_carbonate_fraction: Decimal = ZERO,
    mgo_to_co2: Decimal | None = None,
) -> Decimal:
    """Clinker emission factor EF_cl [tCO2/t clinker], uncorrected for kiln dust (IPCC Eq. 2.4).

    ``EF_cl = (CaO − CaO_nc) × cao_to_co2 + (MgO − MgO_nc) × mgo_to_co2``, the MgO term only when
    ``mgo_fraction`` is given. Fractions [t/t clinker]; cao_to_co2 = 0.43971/0.5603 and
    mgo_to_co2 = 0.52197/0.47803 [tCO2/t oxide] (Table 2.1: calcite and magnesite CO2 factors over
    the CaO / MgO mass fraction of the carbonate). Reference: IPCC 2006 Vol. 3 Ch. 2 Eq. 2.4.
    """
    factor = (cao_fraction - cao_non_carbonate_fraction) * cao_to_co2
    if mgo_fraction is not None:
        if mgo_to_co2 is None:
            raise ValueError("mgo_to_co2 is needed with mgo_fraction")
        factor += (mgo_fraction - mgo_non_carbonate_fraction) * mgo_to_co2
    return factor


def ckd_correction_factor(
    *,
    discarded_dust: Decimal,
    clinker: Decimal,
    dust_carbonate_fraction: Decimal,
    dust_calcination_fraction: Decimal,
    carbonate_co2_factor: Decimal,
    clinker_emission_factor: Decimal,
) -> Decimal:
    """CKD correction factor CF_ckd [1] for dust not recycled to the kiln (IPCC Eq. 2.5).

    ``CF_ckd = 1 + (M_d / M_cl) × C_d × F_d × EF_c / EF_cl``

    M_d discarded dust [t], M_cl clinker [t], C_d fraction of original carbonate in the dust
    (before calcination) [t/t], F_d fraction of that carbonate calcined [1], EF_c CO2 factor of the
    carbonate [tCO2/t carbonate] (calcite 0.43971, Table 2.1), EF_cl clinker factor uncorrected
    for dust [tCO2/t clinker] (Eq. 2.4). With no calcined carbonate lost (M_d × C_d × F_d = 0)
    CF_ckd is 1; otherwise M_cl and EF_cl must be above 0. Reference: IPCC 2006 Vol. 3 Ch. 2 Eq. 2.5.
    """
    lost = discarded_dust * dust_carbonate_fraction * dust_calcination_fraction
    if lost == ZERO:
        return ONE
    return ONE + lost / clinker * carbonate_co2_factor / clinker_emission_factor


def clinker_co2_ipcc_eq24(*, clinker: Decimal, clinker_emission_factor: Decimal, cf_ckd: Decimal) -> Decimal:
    """Clinker carbonate CO2 [t] by IPCC Tier 2: ``CO2 = M_cl × EF_cl × CF_ckd``.

    M_cl clinker [t]; EF_cl [tCO2/t clinker] from :func:`clinker_emission_factor_eq24` (Eq. 2.4);
    CF_ckd [1] from :func:`ckd_correction_factor` (Eq. 2.5) or the default 1.02.
    Reference: IPCC 2006 Vol. 3 Ch. 2 Eq. 2.2, 2.4, 2.5.
    """
    return clinker * clinker_emission_factor * cf_ckd


def substitute_deduction(*, substitutes: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """``Σ quantity [t] × deduction_factor [tCO2/t]`` over ``(quantity, deduction_factor)`` pairs [tCO2].

    Non-carbonate calcium/magnesium sources (carbide slag, steel slag…) whose CaO/MgO did not come
    from calcination. Reference: MEE cement guideline 2024 (substitute deductions).
    """
    deduction = ZERO
    for quantity, deduction_factor in substitutes:
        deduction += quantity * deduction_factor
    return deduction


def clinker_default_co2(*, clinker: Decimal, emission_factor: Decimal, deduction: Decimal = ZERO) -> Decimal:
    """``CO2 [t] = clinker [t] × EF [tCO2/t clinker] − deduction [tCO2]``.

    ``deduction`` from :func:`substitute_deduction`. Reference: MEE cement guideline 2024 (default
    clinker factor by type); IPCC 2006 Vol. 3 Ch. 2 Tier 1 (EF 0.51 × CF_ckd 1.02 = 0.52 t/t).
    """
    return clinker * emission_factor - deduction


def raw_meal_organic_carbon_co2(
    *, raw_meal: Decimal, organic_carbon_fraction: Decimal, c_to_co2: Decimal
) -> Decimal:
    """``CO2 [t] = raw_meal [t] × organic_carbon_fraction [tC/t] × c_to_co2 [tCO2/tC] (44/12)``.

    Reference: MEE cement pilot guideline (2013), organic carbon in raw meal.
    """
    return raw_meal * organic_carbon_fraction * c_to_co2


# -- line readers ----------------------------------------------------------------------------


def _oxide(line: LineReader, oxide: str, total: Decimal) -> Decimal:
    """The non-carbonate share of ``oxide`` (0 when not given); refused above the total."""
    non_carbonate = line.fraction(f"{oxide}_non_carbonate_fraction", required=False) or ZERO
    if non_carbonate > total:
        line.fail(
            f"{oxide}_non_carbonate_fraction",
            "out_of_range",
            f"{oxide}_non_carbonate_fraction exceeds {oxide}_fraction",
        )
    return non_carbonate


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
    """Dust mass added to the clinker mass: see :func:`clinker_co2_dust_at_clinker_factor`.

    CaO and MgO are both required (or defaulted by the methodology). Masses in t, fractions of
    clinker mass.
    """
    clinker, _ = line.quantity("clinker", MASS)
    kiln_dust = line.quantity("kiln_dust", MASS, required=False)
    bypass_dust = line.quantity("bypass_dust", MASS, required=False)
    fractions: dict[str, tuple[Decimal, Decimal]] = {}
    for oxide in ("cao", "mgo"):
        total = line.fraction(f"{oxide}_fraction", default=methodology.factor(f"clinker.{oxide}_fraction"))
        fractions[oxide] = (total, _oxide(line, oxide, total))
    return Emission(
        co2=clinker_co2_dust_at_clinker_factor(
            clinker=clinker,
            kiln_dust=kiln_dust[0] if kiln_dust else ZERO,
            bypass_dust=bypass_dust[0] if bypass_dust else ZERO,
            cao_fraction=fractions["cao"][0],
            cao_non_carbonate_fraction=fractions["cao"][1],
            mgo_fraction=fractions["mgo"][0],
            mgo_non_carbonate_fraction=fractions["mgo"][1],
            cao_to_co2=methodology.constant("cao_to_co2"),
            mgo_to_co2=methodology.constant("mgo_to_co2"),
        )
    )


_DUST_FRACTIONS = ("kiln_dust_carbonate_fraction", "kiln_dust_calcination_fraction")
_DUST_DETAIL = {
    "kiln_dust_carbonate_fraction": (
        "kiln_dust_carbonate_fraction (C_d of IPCC Eq. 2.5: the fraction of original carbonate in the "
        "discarded dust, before calcination) is required when kiln_dust or bypass_dust is above 0; "
        "{code} publishes no default for it: give it from the dust analysis (t carbonate per t dust), "
        "or omit kiln_dust and bypass_dust to use the default CF_ckd"
    ),
    "kiln_dust_calcination_fraction": (
        "kiln_dust_calcination_fraction (F_d of IPCC Eq. 2.5: the fraction of the dust's original "
        "carbonate that was calcined) is required when kiln_dust or bypass_dust is above 0; {code} "
        "publishes no default for it: give it from the loss on ignition of the dust and of the raw "
        "meal (1 assumes full calcination, the conservative choice), or omit kiln_dust and bypass_dust "
        "to use the default CF_ckd"
    ),
}


@method(
    "clinker_carbonate",
    variant="clinker_carbonate_ipcc_eq24",
    category="process",
    fields=(
        "clinker",
        "kiln_dust",
        "bypass_dust",
        "cao_fraction",
        "cao_non_carbonate_fraction",
        "mgo_fraction",
        "mgo_non_carbonate_fraction",
        *_DUST_FRACTIONS,
    ),
    needs=(
        "constants.cao_to_co2",
        "constants.mgo_to_co2",
        "clinker.cf_ckd",
        "clinker.ckd_carbonate_emission_factor",
    ),
    reference="IPCC 2006 Vol.3 Ch.2 Eq. 2.2, 2.4 (CaO, optional MgO) and 2.5 (CF_ckd), Table 2.1",
)
def clinker_carbonate_ipcc_eq24(line: LineReader, methodology: Methodology) -> Emission:
    """IPCC Tier 2: ``CO2 = clinker × EF_cl × CF_ckd`` (:func:`clinker_co2_ipcc_eq24`).

    EF_cl by Eq. 2.4 (:func:`clinker_emission_factor_eq24`): the CaO term, and the MgO term only
    when ``mgo_fraction`` is given. Discarded dust enters through CF_ckd, never as mass at the
    clinker factor. ``kiln_dust`` and ``bypass_dust`` are both dust leaving the kiln system and not
    recycled (discarded bypass dust is cement kiln dust too): M_d of Eq. 2.5 is their sum, and C_d
    (``kiln_dust_carbonate_fraction``) and F_d (``kiln_dust_calcination_fraction``) describe that
    combined dust (mass-weighted when the streams differ). A line that gives either dust mass
    (0 included) uses Eq. 2.5 (:func:`ckd_correction_factor`; no dust: CF_ckd = 1); a line with no
    dust data gets the methodology's default CF_ckd (1.02 under ipcc-2006), recorded as a default.
    """
    clinker, _ = line.quantity("clinker", MASS)
    cao = line.fraction("cao_fraction", default=methodology.factor("clinker.cao_fraction"))
    cao_non_carbonate = _oxide(line, "cao", cao)
    mgo = line.fraction("mgo_fraction", required=False)
    if mgo is None:
        if line.has("mgo_non_carbonate_fraction"):
            line.fail(
                "mgo_fraction",
                "required",
                "mgo_non_carbonate_fraction is given without mgo_fraction: give mgo_fraction too (the "
                "MgO term counts only when mgo_fraction is given), or omit mgo_non_carbonate_fraction",
            )
        mgo_non_carbonate = ZERO
    else:
        mgo_non_carbonate = _oxide(line, "mgo", mgo)
    clinker_factor = clinker_emission_factor_eq24(
        cao_fraction=cao,
        cao_non_carbonate_fraction=cao_non_carbonate,
        cao_to_co2=methodology.constant("cao_to_co2"),
        mgo_fraction=mgo,
        mgo_non_carbonate_fraction=mgo_non_carbonate,
        mgo_to_co2=methodology.constant("mgo_to_co2"),
    )
    kiln_dust = line.quantity("kiln_dust", MASS, required=False)
    bypass_dust = line.quantity("bypass_dust", MASS, required=False)
    if kiln_dust is None and bypass_dust is None:
        for key in _DUST_FRACTIONS:
            if line.has(key):
                line.fail(
                    "kiln_dust",
                    "required",
                    f"{key} describes discarded kiln dust: give kiln_dust (and bypass_dust if any; 0 when "
                    f"no dust is discarded), or omit {key} to use the default CF_ckd",
                )
        default = methodology.factor("clinker.cf_ckd")
        assert default is not None  # declared in ``needs``
        line.record("cf_ckd", default.value, default.unit, default)
        cf_ckd = default.value
    else:
        dust = (kiln_dust[0] if kiln_dust else ZERO) + (bypass_dust[0] if bypass_dust else ZERO)
        required = dust > ZERO
        carbonate, calcination = (
            line.fraction(key, required=required, missing=_DUST_DETAIL[key].format(code=methodology.key))
            for key in _DUST_FRACTIONS
        )
        if not required:
            cf_ckd = ONE
        else:
            assert carbonate is not None and calcination is not None
            if carbonate * calcination > ZERO:
                if clinker == ZERO:
                    line.fail(
                        "clinker",
                        "out_of_range",
                        "IPCC Eq. 2.5 relates discarded dust to the clinker produced: clinker must be above "
                        "0 when calcined dust is discarded",
                    )
                if clinker_factor == ZERO:
                    line.fail(
                        "cao_non_carbonate_fraction",
                        "out_of_range",
                        "the clinker factor of Eq. 2.4 is 0 (all CaO and MgO non-carbonate), so CF_ckd of "
                        "Eq. 2.5 is undefined while calcined carbonate dust is discarded",
                    )
            carbonate_factor = methodology.factor("clinker.ckd_carbonate_emission_factor")
            assert carbonate_factor is not None  # declared in ``needs``
            cf_ckd = ckd_correction_factor(
                discarded_dust=dust,
                clinker=clinker,
                dust_carbonate_fraction=carbonate,
                dust_calcination_fraction=calcination,
                carbonate_co2_factor=carbonate_factor.value,
                clinker_emission_factor=clinker_factor,
            )
    return Emission(
        co2=clinker_co2_ipcc_eq24(clinker=clinker, clinker_emission_factor=clinker_factor, cf_ckd=cf_ckd)
    )


def _missing_clinker_factor(methodology: Methodology, clinker_type: str) -> str:
    return (
        f"{methodology.key} has no default emission factor for {clinker_type} clinker (its default "
        f"is for Portland clinker only): give emission_factor in tCO2/t clinker, e.g. from the "
        f"clinker's CaO and MgO contents (Eq. 2.4), or report the clinker through clinker_carbonate"
    )


@method(
    "clinker_default",
    category="process",
    fields=("clinker", "clinker_type", "emission_factor", "substitutes"),
    needs=("clinker_types",),
    reference="MEE cement guideline 2024 (default clinker factor with substitute deductions); IPCC 2006 Tier 1",
)
def clinker_default(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = clinker × EF(clinker_type) − Σ substitute × deduction_factor(material)``.

    See :func:`clinker_default_co2` and :func:`substitute_deduction`. A clinker type without a
    default factor in the methodology needs ``emission_factor`` on the line. A deduction larger
    than the clinker term is refused.
    """
    types = methodology.section("clinker_types")
    clinker_type = line.code("clinker_type", types, what="clinker type", default="portland")
    clinker, _ = line.quantity("clinker", MASS)
    factor, _ = line.quantity(
        "emission_factor",
        PER_TONNE,
        default=types[clinker_type].get("emission_factor"),
        missing=_missing_clinker_factor(methodology, clinker_type),
    )
    materials = methodology.section("substitutes")
    pairs: list[tuple[Decimal, Decimal]] = []
    for substitute in line.items("substitutes", required=False):
        substitute.only(("material", "quantity", "deduction_factor"))
        material = substitute.code("material", materials, what="substitute material")
        quantity, _ = substitute.quantity("quantity", MASS)
        deduction_factor, _ = substitute.quantity(
            "deduction_factor", PER_TONNE, default=materials[material].get("deduction_factor")
        )
        pairs.append((quantity, deduction_factor))
    deduction = substitute_deduction(substitutes=pairs)
    gross = clinker_default_co2(clinker=clinker, emission_factor=factor)
    if deduction > gross:
        line.fail(
            "substitutes",
            "deduction_exceeds_emission",
            f"substitute deductions ({deduction:f} t) exceed the clinker term ({gross:f} t)",
        )
    return Emission(co2=clinker_default_co2(clinker=clinker, emission_factor=factor, deduction=deduction))


@method(
    "raw_meal_organic_carbon",
    category="process",
    fields=("raw_meal", "organic_carbon_fraction"),
    needs=("constants.c_to_co2",),
    reference="MEE cement pilot guideline (2013), organic carbon in raw meal",
)
def raw_meal_organic_carbon(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = raw_meal [t] × organic_carbon_fraction × 44/12`` (:func:`raw_meal_organic_carbon_co2`)."""
    raw_meal, _ = line.quantity("raw_meal", MASS)
    fraction = line.fraction("organic_carbon_fraction")
    return Emission(
        co2=raw_meal_organic_carbon_co2(
            raw_meal=raw_meal, organic_carbon_fraction=fraction, c_to_co2=methodology.c_to_co2
        )
    )

"""Fuel combustion (all sectors), category ``combustion``.

References: China MEE accounting guidelines (cement CETS-AG-02.01-V01-2024, aluminium
CETS-AG-04.01-V01-2024, steel 2025), fuel combustion section; IPCC 2006 Vol. 2 Ch. 1-2, Eq. 2.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from accounting.lines import Emission, LineReader
from accounting.methodologies import Methodology
from accounting.numbers import ONE, ZERO
from accounting.registry import method

# -- formulas: functions of plain numbers ---------------------------------------------------------


def fuel_energy(*, quantity: Decimal, ncv: Decimal) -> Decimal:
    r"""Energy of a fuel from its quantity and net calorific value.

    .. math::

        E = Q \cdot NCV

    Parameters
    ----------
    quantity : Decimal
        Fuel burnt [t] for solids and liquids, [10^4 Nm3] for gases.
    ncv : Decimal
        Net calorific value on the same basis [GJ/t] or [GJ/10^4 Nm3].

    Returns
    -------
    Decimal
        Energy [GJ].

    References
    ----------
    China MEE accounting guidelines 2024 (CETS-AG-02.01-V01-2024, CETS-AG-04.01-V01-2024) and the iron
    and steel guideline (2025), fuel combustion, activity data; GB/T 32150-2015 Appendix A.
    """
    return quantity * ncv


def fuel_combustion_co2(
    *, energy_gj: Decimal, carbon_content: Decimal, oxidation_factor: Decimal, c_to_co2: Decimal
) -> Decimal:
    r"""CO2 from burning a fuel whose carbon content is given per unit of energy.

    .. math::

        CO_2 = E \cdot CC \cdot OF \cdot \frac{44}{12}

    Parameters
    ----------
    energy_gj : Decimal
        Energy of the fuel burnt, :func:`fuel_energy` [GJ].
    carbon_content : Decimal
        Carbon content per unit of energy [tC/GJ] (tables print tC/TJ: 26.18 tC/TJ = 0.02618 tC/GJ).
    oxidation_factor : Decimal
        Share of the carbon oxidised [1] (tables print %).
    c_to_co2 : Decimal
        Mass ratio of CO2 to carbon, 44/12 [tCO2/tC].

    Returns
    -------
    Decimal
        CO2 [t].

    References
    ----------
    China MEE accounting guidelines 2024 (cement CETS-AG-02.01-V01-2024, aluminium
    CETS-AG-04.01-V01-2024) and iron and steel guideline (2025), fuel combustion emissions;
    IPCC 2006 Vol. 2 Ch. 2, Eq. 2.1 (which has no oxidation factor: its factors assume 100 %).
    """
    return energy_gj * carbon_content * oxidation_factor * c_to_co2


def fuel_combustion_co2_per_quantity(
    *, quantity: Decimal, carbon_content: Decimal, oxidation_factor: Decimal, c_to_co2: Decimal
) -> Decimal:
    r"""CO2 from burning a fuel whose carbon content is given per unit of mass or volume.

    .. math::

        CO_2 = Q \cdot C \cdot OF \cdot \frac{44}{12}

    Parameters
    ----------
    quantity : Decimal
        Fuel burnt [t], [10^4 Nm3] or [m3].
    carbon_content : Decimal
        Carbon per unit of that quantity [tC/t], [tC/10^4 Nm3] or [tC/m3] (a measured carbon content).
    oxidation_factor : Decimal
        Share of the carbon oxidised [1].
    c_to_co2 : Decimal
        Mass ratio of CO2 to carbon, 44/12 [tCO2/tC].

    Returns
    -------
    Decimal
        CO2 [t].

    References
    ----------
    China MEE accounting guidelines 2024, fuel combustion (carbon content measured per mass);
    EU MRR 2018/2066 Art. 24-25 (carbon content per mass).
    """
    return quantity * carbon_content * oxidation_factor * c_to_co2


def fuel_combustion_co2_from_factor(*, amount: Decimal, emission_factor: Decimal) -> Decimal:
    r"""CO2 from burning a fuel with an emission factor (per energy, mass or volume).

    .. math::

        CO_2 = A \cdot EF

    Parameters
    ----------
    amount : Decimal
        Energy [GJ] for a factor per GJ, else the fuel quantity [t], [10^4 Nm3] or [m3].
    emission_factor : Decimal
        CO2 per unit of ``amount`` [tCO2/GJ], [tCO2/t], [tCO2/10^4 Nm3] or [tCO2/m3].

    Returns
    -------
    Decimal
        CO2 [t].

    References
    ----------
    IPCC 2006 Vol. 2 Ch. 2, Eq. 2.1 (emissions = fuel consumption × emission factor).
    """
    return amount * emission_factor


def biomass_split(*, co2: Decimal, biomass_fraction: Decimal) -> tuple[Decimal, Decimal]:
    r"""Split a fuel's CO2 into its fossil part (counted) and its biogenic part (memo item).

    .. math::

        CO_{2,fossil} = CO_2 \cdot (1 - b) \qquad CO_{2,bio} = CO_2 \cdot b

    Parameters
    ----------
    co2 : Decimal
        CO2 of the fuel [t].
    biomass_fraction : Decimal
        Biomass share of the fuel's carbon [1].

    Returns
    -------
    tuple of Decimal
        ``(fossil CO2, biogenic CO2)`` [t].

    References
    ----------
    IPCC 2006 Vol. 2 Ch. 1 §1.4.1 (biomass CO2 reported as a memo item); China MEE accounting
    guidelines 2024, fuel combustion (biomass fuels not counted).
    """
    return co2 * (ONE - biomass_fraction), co2 * biomass_fraction


# -- the registered line method ---------------------------------------------------------------

#: Bases a fuel quantity may be given in: mass, normal volume (gases), actual volume, energy.
QUANTITY_UNITS = ("t", "10^4 Nm3", "m3", "GJ")
NCV_UNITS = {"t": "GJ/t", "10^4 Nm3": "GJ/10^4 Nm3", "m3": "GJ/m3"}
CARBON_CONTENT_UNITS = ("tC/GJ", "tC/t", "tC/10^4 Nm3", "tC/m3")
EMISSION_FACTOR_UNITS = ("tCO2/GJ", "tCO2/t", "tCO2/10^4 Nm3", "tCO2/m3")
_PER_BASIS = {
    "tC/t": "t",
    "tC/10^4 Nm3": "10^4 Nm3",
    "tC/m3": "m3",
    "tCO2/t": "t",
    "tCO2/10^4 Nm3": "10^4 Nm3",
    "tCO2/m3": "m3",
}


def _energy(line: LineReader, fuel: Mapping[str, Any], quantity: Decimal, basis: str, code: str) -> Decimal:
    """energy [GJ] = quantity × ncv; a quantity already given as energy is the energy."""
    if basis == "GJ":
        if line.has("ncv"):
            line.fail("ncv", "not_applicable", "ncv is not used when the quantity is already an energy")
        return quantity
    ncv, _ = line.quantity(
        "ncv",
        (NCV_UNITS[basis],),
        default=fuel.get("ncv"),
        missing=f"{code} has no default ncv under {line.methodology.code}: give ncv",
    )
    return fuel_energy(quantity=quantity, ncv=ncv)


def _per_unit_base(
    line: LineReader, key: str, unit: str, quantity: Decimal, basis: str, energy: Decimal | None
) -> Decimal:
    """The amount a per-unit factor applies to: the energy for per-GJ factors, else the quantity."""
    if unit.endswith("/GJ"):
        assert energy is not None
        return energy
    if _PER_BASIS[unit] != basis:
        line.fail(
            key, "wrong_dimension", f"{key} in {unit} does not fit a quantity given in {basis}", "/unit"
        )
    return quantity


@method(
    "fuel_combustion",
    category="combustion",
    fields=(
        "fuel",
        "quantity",
        "ncv",
        "carbon_content",
        "oxidation_factor",
        "emission_factor",
        "biomass_fraction",
        "direction",
    ),
    needs=("fuels", "constants.c_to_co2"),
    reference="MEE 2024 guidelines, fuel combustion; IPCC 2006 Vol.2 Eq. 2.1",
)
def fuel_combustion(line: LineReader, methodology: Methodology) -> Emission:
    """CO2 from burning a fuel: reads the line, applies the methodology's defaults, calls the formulas.

    ``energy = quantity × ncv`` [GJ] (:func:`fuel_energy`);
    ``CO2 = energy × carbon_content [tC/GJ] × oxidation_factor × 44/12`` (:func:`fuel_combustion_co2`),
    ``CO2 = quantity × carbon_content [tC/t] × oxidation_factor × 44/12``
    (:func:`fuel_combustion_co2_per_quantity`), or ``CO2 = energy × emission_factor [tCO2/GJ]``
    (:func:`fuel_combustion_co2_from_factor`). The biomass share is a memo item (``biogenic_co2``,
    :func:`biomass_split`); an ``exported`` line is subtracted.
    """
    fuels = methodology.section("fuels")
    code = line.code("fuel", fuels, what="fuel")
    fuel = fuels[code]
    if fuel.get("requires_parameters"):
        fuel = {key: value for key, value in fuel.items() if key == "biomass_fraction"}
    quantity, basis = line.quantity("quantity", QUANTITY_UNITS)
    sign = line.direction()

    use_emission_factor = line.has("emission_factor") or (
        "emission_factor" in fuel and not line.has("carbon_content") and not line.has("oxidation_factor")
    )
    if use_emission_factor:
        for conflicting in ("carbon_content", "oxidation_factor"):
            if line.has(conflicting):
                line.fail(
                    conflicting,
                    "conflicting_fields",
                    "give either emission_factor or carbon_content with oxidation_factor, not both",
                )
        factor, unit = line.quantity(
            "emission_factor",
            EMISSION_FACTOR_UNITS,
            default=fuel.get("emission_factor"),
            missing=f"{code} has no default factors under {methodology.code}: give emission_factor, "
            "or carbon_content and oxidation_factor",
        )
        energy = _energy(line, fuel, quantity, basis, code) if unit == "tCO2/GJ" else None
        amount = _per_unit_base(line, "emission_factor", unit, quantity, basis, energy)
        co2 = fuel_combustion_co2_from_factor(amount=amount, emission_factor=factor)
    else:
        content, unit = line.quantity(
            "carbon_content",
            CARBON_CONTENT_UNITS,
            default=fuel.get("carbon_content"),
            missing=f"{code} has no default carbon content under {methodology.code}: give carbon_content "
            "or emission_factor",
        )
        energy = _energy(line, fuel, quantity, basis, code) if unit == "tC/GJ" else None
        oxidation = line.fraction(
            "oxidation_factor",
            default=fuel.get("oxidation_factor") or methodology.factor("constants.oxidation_factor"),
            missing=f"{code} has no default oxidation factor under {methodology.code}: give oxidation_factor",
        )
        base = _per_unit_base(line, "carbon_content", unit, quantity, basis, energy)
        if energy is not None:
            co2 = fuel_combustion_co2(
                energy_gj=base,
                carbon_content=content,
                oxidation_factor=oxidation,
                c_to_co2=methodology.c_to_co2,
            )
        else:
            co2 = fuel_combustion_co2_per_quantity(
                quantity=base,
                carbon_content=content,
                oxidation_factor=oxidation,
                c_to_co2=methodology.c_to_co2,
            )

    biomass = ZERO
    if line.has("biomass_fraction") or "biomass_fraction" in fuel:
        biomass = line.fraction("biomass_fraction", default=fuel.get("biomass_fraction"))
    if biomass == ZERO:
        return Emission(co2=sign * co2)
    fossil, biogenic = biomass_split(co2=sign * co2, biomass_fraction=biomass)
    return Emission(co2=fossil, biogenic_co2=biogenic)

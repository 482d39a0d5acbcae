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
        default=fuel.get("ncv"),  # type: ignore[misc]
        missing=f"{code} has no default ncv under {line.methodology.code}: give ncv",
    )
    return quantity * ncv


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
    """CO2 from burning a fuel.

    ``energy = quantity × ncv`` [GJ];
    ``CO2 = energy × carbon_content [tC/GJ] × oxidation_factor × 44/12`` (carbon content per energy),
    ``CO2 = quantity × carbon_content [tC/t] × oxidation_factor × 44/12`` (per mass or volume), or
    ``CO2 = energy × emission_factor [tCO2/GJ]``. The biomass share is a memo item
    (``biogenic_co2``); an ``exported`` line is subtracted.
    """
    fuels = methodology.section("fuels")
    code = line.code("fuel", fuels, what="fuel")
    fuel = fuels[code]
    if fuel.get("requires_parameters"):
        fuel = {key: value for key, value in fuel.items() if key == "biomass_fraction"}
    quantity, basis = line.quantity("quantity", QUANTITY_UNITS)  # type: ignore[misc]
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
        factor, unit = line.quantity(  # type: ignore[misc]
            "emission_factor",
            EMISSION_FACTOR_UNITS,
            default=fuel.get("emission_factor"),
            missing=f"{code} has no default factors under {methodology.code}: give emission_factor, "
            "or carbon_content and oxidation_factor",
        )
        energy = _energy(line, fuel, quantity, basis, code) if unit == "tCO2/GJ" else None
        co2 = _per_unit_base(line, "emission_factor", unit, quantity, basis, energy) * factor
    else:
        content, unit = line.quantity(  # type: ignore[misc]
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
        assert oxidation is not None
        base = _per_unit_base(line, "carbon_content", unit, quantity, basis, energy)
        co2 = base * content * oxidation * methodology.c_to_co2

    biomass = ZERO
    if line.has("biomass_fraction") or "biomass_fraction" in fuel:
        biomass = line.fraction("biomass_fraction", default=fuel.get("biomass_fraction")) or ZERO
    if biomass == ZERO:
        return Emission(co2=sign * co2)
    return Emission(co2=sign * co2 * (ONE - biomass), biogenic_co2=sign * co2 * biomass)

"""Purchased (or exported) electricity and heat: categories ``indirect_electricity`` and ``indirect_heat``.

References: MEE 2024 guidelines, purchased electricity and heat; pilot guidelines (2013-2015)
for the steam and hot-water enthalpy conventions.
"""

from __future__ import annotations

from decimal import Decimal

from accounting.lines import Emission, LineReader
from accounting.methodologies import Methodology
from accounting.registry import method

NATIONAL = "national"


def _grid_factor_default(line: LineReader, methodology: Methodology):  # type: ignore[no-untyped-def]
    """The grid factor for the report year: the latest published year not after it."""
    regions = methodology.section("grid_factors")
    region = line.code("grid", regions, what="grid region", default=NATIONAL)
    published = {int(year): factor for year, factor in regions[region].items()}
    year = line.context.year
    eligible = [y for y in published if year is None or y <= year]
    if not eligible:
        if line.has("emission_factor"):
            return None
        line.fail(
            "emission_factor",
            "required",
            f"no {region} grid factor is published for {year} or earlier under {methodology.code}: "
            "give emission_factor",
        )
    return published[max(eligible)]


@method(
    "electricity",
    variant="purchased_electricity",
    category="indirect_electricity",
    fields=("quantity", "emission_factor", "grid", "direction"),
    needs=("grid_factors.national",),
    reference="MEE 2024 guidelines, purchased electricity; MEE/NBS grid emission factors",
)
def purchased_electricity(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = electricity [MWh] × grid emission factor [tCO2/MWh]``; exported electricity is subtracted."""
    quantity, _ = line.quantity("quantity", ("MWh",))  # type: ignore[misc]
    sign = line.direction()
    default = (
        None
        if line.has("emission_factor") and not line.has("grid")
        else _grid_factor_default(line, methodology)
    )
    factor, _ = line.quantity("emission_factor", ("tCO2/MWh",), default=default)  # type: ignore[misc]
    return Emission(co2=sign * quantity * factor)


def _steam(line: LineReader, methodology: Methodology) -> Decimal:
    """steam heat [GJ] = mass [t] × (enthalpy [kJ/kg] − 83.74) × 10⁻³."""
    steam = line.nested("steam")
    steam.only(("mass", "enthalpy"))
    mass, _ = steam.quantity("mass", ("t",))  # type: ignore[misc]
    enthalpy, _ = steam.quantity("enthalpy", ("kJ/kg",))  # type: ignore[misc]
    reference = methodology.value("heat.steam_reference_enthalpy")
    if enthalpy < reference:
        steam.fail(
            "enthalpy", "out_of_range", f"steam enthalpy must be at least {reference} kJ/kg (the reference)"
        )
    return mass * (enthalpy - reference) / 1000


def _hot_water(line: LineReader, methodology: Methodology) -> Decimal:
    """hot-water heat [GJ] = mass [t] × (temperature [°C] − 20) × 4.1868 × 10⁻³."""
    water = line.nested("hot_water")
    water.only(("mass", "temperature"))
    mass, _ = water.quantity("mass", ("t",))  # type: ignore[misc]
    temperature = water.temperature("temperature")
    reference = methodology.value("heat.hot_water_reference_temperature")
    if temperature < reference:
        water.fail(
            "temperature", "out_of_range", f"hot water must be at least {reference} °C (the reference)"
        )
    return mass * (temperature - reference) * methodology.value("heat.water_specific_heat") / 1000


_HEAT_FORMS = {"steam": _steam, "hot_water": _hot_water}


@method(
    "heat",
    variant="purchased_heat",
    category="indirect_heat",
    fields=("quantity", "steam", "hot_water", "emission_factor", "direction"),
    needs=(
        "heat.emission_factor",
        "heat.steam_reference_enthalpy",
        "heat.hot_water_reference_temperature",
        "heat.water_specific_heat",
    ),
    reference="MEE 2024 guidelines, purchased heat; pilot guidelines (steam and hot water)",
)
def purchased_heat(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = heat [GJ] × emission factor [tCO2/GJ]`` (default 0.11), heat given as an energy,
    as steam ``{mass, enthalpy}`` or as hot water ``{mass, temperature}``."""
    given = [form for form in ("quantity", "steam", "hot_water") if line.has(form)]
    if len(given) != 1:
        line.fail(
            given[1] if len(given) > 1 else "quantity",
            "required" if not given else "conflicting_fields",
            "give exactly one of quantity, steam or hot_water",
        )
    form = given[0]
    if form == "quantity":
        heat, _ = line.quantity("quantity", ("GJ",))  # type: ignore[misc]
    else:
        heat = _HEAT_FORMS[form](line, methodology)
    sign = line.direction()
    factor, _ = line.quantity(
        "emission_factor",
        ("tCO2/GJ",),  # type: ignore[misc]
        default=methodology.factor("heat.emission_factor"),
    )
    return Emission(co2=sign * heat * factor)

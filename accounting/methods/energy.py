"""Purchased (or exported) electricity and heat: categories ``indirect_electricity`` and ``indirect_heat``.

References: MEE 2024 guidelines, purchased electricity and heat; pilot guidelines (2013-2015)
for the steam and hot-water enthalpy conventions.
"""

from __future__ import annotations

from decimal import Decimal

from accounting.lines import Emission, LineReader
from accounting.methodologies import Factor, Methodology
from accounting.registry import method

NATIONAL = "national"
THOUSAND = Decimal(1000)

# -- formulas: functions of plain numbers ---------------------------------------------------------


def purchased_electricity_co2(*, mwh: Decimal, emission_factor: Decimal) -> Decimal:
    r"""CO2 attributed to electricity bought from (or, negated, sold to) the grid.

    .. math::

        CO_2 = AD_{elec} \cdot EF_{grid}

    Parameters
    ----------
    mwh : Decimal
        Electricity purchased [MWh].
    emission_factor : Decimal
        Grid emission factor [tCO2/MWh] (China: the MEE/NBS national or regional average for the
        latest published data year not after the report year).

    Returns
    -------
    Decimal
        CO2 [t].

    References
    ----------
    China MEE accounting guidelines 2024 (CETS-AG-02.01-V01-2024, CETS-AG-04.01-V01-2024), emissions
    from purchased electricity; MEE/NBS releases of grid emission factors (data years 2021-2023).
    """
    return mwh * emission_factor


def purchased_heat_co2(*, heat_gj: Decimal, emission_factor: Decimal) -> Decimal:
    r"""CO2 attributed to heat bought as steam or hot water.

    .. math::

        CO_2 = AD_{heat} \cdot EF_{heat}

    Parameters
    ----------
    heat_gj : Decimal
        Heat purchased [GJ] (:func:`steam_heat`, :func:`hot_water_heat` from masses).
    emission_factor : Decimal
        Heat emission factor [tCO2/GJ] (China default 0.11).

    Returns
    -------
    Decimal
        CO2 [t].

    References
    ----------
    China MEE accounting guidelines 2024, emissions from purchased heat; NDRC pilot guidelines
    (2013-2015), purchased heat, default factor 0.11 tCO2/GJ.
    """
    return heat_gj * emission_factor


def steam_heat(*, mass: Decimal, enthalpy: Decimal, reference_enthalpy: Decimal) -> Decimal:
    r"""Heat carried by steam, above the enthalpy of water at the reference state.

    .. math::

        AD_{steam} = M_{st} \cdot (En_{st} - 83.74) \cdot 10^{-3}

    Parameters
    ----------
    mass : Decimal
        Steam mass [t].
    enthalpy : Decimal
        Specific enthalpy of the steam at its temperature and pressure [kJ/kg].
    reference_enthalpy : Decimal
        Enthalpy of the reference water [kJ/kg] (83.74 kJ/kg, water at 20 °C).

    Returns
    -------
    Decimal
        Heat [GJ].

    References
    ----------
    NDRC pilot guidelines for enterprise GHG accounting (2013-2015), purchased heat, steam formula;
    carried into the MEE accounting guidelines 2024.
    """
    return mass * (enthalpy - reference_enthalpy) / THOUSAND


def hot_water_heat(
    *, mass: Decimal, temperature: Decimal, reference_temperature: Decimal, specific_heat: Decimal
) -> Decimal:
    r"""Heat carried by hot water above the reference temperature.

    .. math::

        AD_{water} = M_w \cdot (T_w - 20) \cdot 4.1868 \cdot 10^{-3}

    Parameters
    ----------
    mass : Decimal
        Hot-water mass [t].
    temperature : Decimal
        Water temperature [°C].
    reference_temperature : Decimal
        Reference temperature [°C] (20 °C).
    specific_heat : Decimal
        Specific heat of water [kJ/(kg·K)] (4.1868).

    Returns
    -------
    Decimal
        Heat [GJ].

    References
    ----------
    NDRC pilot guidelines for enterprise GHG accounting (2013-2015), purchased heat, hot-water formula;
    carried into the MEE accounting guidelines 2024.
    """
    return mass * (temperature - reference_temperature) * specific_heat / THOUSAND


# -- the registered line methods --------------------------------------------------------------


def _grid_factor_default(line: LineReader, methodology: Methodology) -> Factor | None:
    """The grid factor for the report year: the latest published year not after it."""
    regions = methodology.section("grid_factors")
    region = line.code("grid", regions, what="grid region", default=NATIONAL)
    published: dict[int, Factor] = {int(year): factor for year, factor in regions[region].items()}
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
    """``CO2 = electricity [MWh] × grid emission factor [tCO2/MWh]`` (:func:`purchased_electricity_co2`);
    exported electricity is subtracted."""
    quantity, _ = line.quantity("quantity", ("MWh",))
    sign = line.direction()
    default = (
        None
        if line.has("emission_factor") and not line.has("grid")
        else _grid_factor_default(line, methodology)
    )
    factor, _ = line.quantity("emission_factor", ("tCO2/MWh",), default=default)
    return Emission(co2=sign * purchased_electricity_co2(mwh=quantity, emission_factor=factor))


def _steam(line: LineReader, methodology: Methodology) -> Decimal:
    """steam heat [GJ] = mass [t] × (enthalpy [kJ/kg] − 83.74) × 10⁻³ (:func:`steam_heat`)."""
    steam = line.nested("steam")
    steam.only(("mass", "enthalpy"))
    mass, _ = steam.quantity("mass", ("t",))
    enthalpy, _ = steam.quantity("enthalpy", ("kJ/kg",))
    reference = methodology.value("heat.steam_reference_enthalpy")
    if enthalpy < reference:
        steam.fail(
            "enthalpy", "out_of_range", f"steam enthalpy must be at least {reference} kJ/kg (the reference)"
        )
    return steam_heat(mass=mass, enthalpy=enthalpy, reference_enthalpy=reference)


def _hot_water(line: LineReader, methodology: Methodology) -> Decimal:
    """hot-water heat [GJ] = mass [t] × (temperature [°C] − 20) × 4.1868 × 10⁻³ (:func:`hot_water_heat`)."""
    water = line.nested("hot_water")
    water.only(("mass", "temperature"))
    mass, _ = water.quantity("mass", ("t",))
    temperature = water.temperature("temperature")
    reference = methodology.value("heat.hot_water_reference_temperature")
    if temperature < reference:
        water.fail(
            "temperature", "out_of_range", f"hot water must be at least {reference} °C (the reference)"
        )
    return hot_water_heat(
        mass=mass,
        temperature=temperature,
        reference_temperature=reference,
        specific_heat=methodology.value("heat.water_specific_heat"),
    )


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
    """``CO2 = heat [GJ] × emission factor [tCO2/GJ]`` (default 0.11, :func:`purchased_heat_co2`),
    heat given as an energy, as steam ``{mass, enthalpy}`` or as hot water ``{mass, temperature}``."""
    given = [form for form in ("quantity", "steam", "hot_water") if line.has(form)]
    if len(given) != 1:
        line.fail(
            given[1] if len(given) > 1 else "quantity",
            "required" if not given else "conflicting_fields",
            "give exactly one of quantity, steam or hot_water",
        )
    form = given[0]
    if form == "quantity":
        heat, _ = line.quantity("quantity", ("GJ",))
    else:
        heat = _HEAT_FORMS[form](line, methodology)
    sign = line.direction()
    factor, _ = line.quantity(
        "emission_factor", ("tCO2/GJ",), default=methodology.factor("heat.emission_factor")
    )
    return Emission(co2=sign * purchased_heat_co2(heat_gj=heat, emission_factor=factor))

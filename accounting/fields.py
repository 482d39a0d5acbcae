"""What each field of an activity line is: its shape, the units it takes, whether it is required and
where its default comes from.

The registered methods (:mod:`accounting.methods`) read their fields through the
:class:`~accounting.lines.LineReader`; this module declares the same fields for readers of the API:
the OpenAPI schema (one schema per line kind, discriminated by ``source``) and the import templates
are derived from it. Nothing here takes part in a calculation. Importing the module attaches each
kind's fields to its registered method(s) (:func:`accounting.registry.describe`); a test holds the
declared names to the names each method reads.

Every emission line (a category other than None) may also state its :data:`UNCERTAINTY`, which the
engine reads (:data:`accounting.registry.EMISSION_FIELDS`).

``units`` are the units a method computes in: a value given in any unit of the same dimension is
converted (``kg`` or ``kt`` for ``t``, ``MJ/kg`` for ``GJ/t``); :func:`spellings` lists the usual
spellings of those dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import accounting.methods  # noqa: F401  (the methods are registered before they are described)
from accounting import registry, uncertainty
from accounting.methods.production import PRODUCTS
from accounting.units import ACCEPTED, UnitError, conversion

#: A ``{"value", "unit"}`` quantity, converted into the first of ``units`` of its dimension.
QUANTITY = "quantity"
#: A dimensionless fraction: a plain number in [0, 1], or ``{"value": "65", "unit": "%"}``.
FRACTION = "fraction"
#: A number in one fixed unit (units pint cannot express): a plain number or ``{"value", "unit"}``.
COEFFICIENT = "coefficient"
#: A temperature ``{"value", "unit"}`` (degC, K or degF).
TEMPERATURE = "temperature"
#: A code from a table of the methodology (``codes`` names the table).
CODE = "code"
#: One of a fixed list of ``choices``.
CHOICE = "choice"
#: Free text.
LABEL = "label"
#: An object whose fields are ``parts``.
OBJECT = "object"
#: A list of objects whose fields are ``parts``.
LIST = "list"
#: A whole number, one of ``choices`` (written as numbers).
INTEGER = "integer"

SHAPES = (QUANTITY, FRACTION, COEFFICIENT, TEMPERATURE, CODE, CHOICE, LABEL, OBJECT, LIST, INTEGER)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an activity line, as a client writes it."""

    name: str
    shape: str
    description: str
    units: tuple[str, ...] = ()
    required: bool = False
    #: Where the methodology's default comes from when the field is absent ("" for none).
    default: str = ""
    choices: tuple[str, ...] = ()
    #: The methodology table whose keys the field takes (shape ``code``).
    codes: str = ""
    parts: tuple[Field, ...] = ()
    #: A fraction's upper bound, when it is not 1 (a current efficiency may be given in percent).
    upper: str = ""


def quantity(
    name: str, units: tuple[str, ...], description: str, *, required: bool = False, default: str = ""
) -> Field:
    return Field(name, QUANTITY, description, units=units, required=required, default=default)


def fraction(
    name: str, description: str, *, required: bool = False, default: str = "", upper: str = ""
) -> Field:
    return Field(name, FRACTION, description, units=("1",), required=required, default=default, upper=upper)


def coefficient(
    name: str, unit: str, description: str, *, required: bool = False, default: str = ""
) -> Field:
    return Field(name, COEFFICIENT, description, units=(unit,), required=required, default=default)


def code(name: str, codes: str, description: str, *, required: bool = False, default: str = "") -> Field:
    return Field(name, CODE, description, codes=codes, required=required, default=default)


def choice(name: str, choices: tuple[str, ...], description: str, *, default: str = "") -> Field:
    return Field(name, CHOICE, description, choices=choices, default=default)


#: The production unit a line belongs to (a clinker line, an electrolysis series, a steel process):
#: a short code of the operator's choosing. Results, totals and intensities are also given per unit,
#: because allocation is per unit. Any line kind may carry it (:data:`COMMON`).
UNIT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
UNIT_MAX_LENGTH = 32
UNIT = Field(
    "unit",
    LABEL,
    "production unit the line belongs to (e.g. kiln-1, potline-A, bof-1): letters, digits, '_', '.', '-', "
    f"at most {UNIT_MAX_LENGTH} characters; results and intensities are also given per unit",
)
#: Fields every line kind may carry besides ``source`` (``registry.COMMON_FIELDS``), as declared to clients.
COMMON = (
    Field("ref", LABEL, "your reference for the line"),
    Field("month", LABEL, "for monthly lines (1-12)"),
    UNIT,
)

MASS = ("t",)
PER_TONNE = ("tCO2/t",)
DIRECTION = choice(
    "direction",
    ("consumed", "exported"),
    "consumed (added) or exported (subtracted from the facility's total)",
    default="consumed",
)

_FUEL = (
    code("fuel", "fuels", "fuel code of the methodology's fuel table", required=True),
    quantity(
        "quantity",
        ("t", "10^4 Nm3", "m3", "GJ"),
        "amount burnt: a mass, a normal volume (gases), an actual volume, or an energy",
        required=True,
    ),
    quantity(
        "ncv",
        ("GJ/t", "GJ/10^4 Nm3", "GJ/m3"),
        "net calorific value, per unit of the quantity's basis (not used when the quantity is an energy)",
        default="fuels.<fuel>.ncv",
    ),
    quantity(
        "carbon_content",
        ("tC/GJ", "tC/t", "tC/10^4 Nm3", "tC/m3"),
        "carbon content per energy, or per unit of the quantity's basis",
        default="fuels.<fuel>.carbon_content",
    ),
    fraction(
        "oxidation_factor",
        "share of the carbon oxidised",
        default="fuels.<fuel>.oxidation_factor or constants.oxidation_factor",
    ),
    quantity(
        "emission_factor",
        ("tCO2/GJ", "tCO2/t", "tCO2/10^4 Nm3", "tCO2/m3"),
        "CO2 per energy or per unit of the quantity's basis, instead of carbon_content and oxidation_factor",
        default="fuels.<fuel>.emission_factor (where the table has one)",
    ),
    fraction("biomass_fraction", "biogenic share (a memo item)", default="fuels.<fuel>.biomass_fraction"),
    DIRECTION,
)
_STEAM = (
    quantity("mass", MASS, "steam mass", required=True),
    quantity("enthalpy", ("kJ/kg",), "specific enthalpy of the steam", required=True),
)
_HOT_WATER = (
    quantity("mass", MASS, "hot-water mass", required=True),
    Field("temperature", TEMPERATURE, "supply temperature", units=("degC",), required=True),
)
_STREAM = (
    Field("material", LABEL, "what the stream is", required=True),
    quantity("quantity", ("t", "10^4 Nm3"), "a mass, or a normal volume for gases", required=True),
    quantity(
        "carbon_content",
        ("tC/t", "tC/10^4 Nm3", "1"),
        "carbon per mass (a fraction or tC/t) or per normal volume (tC/10^4 Nm3); required unless the "
        "methodology carries a materials table (eu-mrr-2018) with the stream's material",
        default="materials.<material>.carbon_content",
    ),
)
_SUBSTITUTE = (
    code("material", "substitutes", "non-carbonate calcium/magnesium source", required=True),
    quantity("quantity", MASS, "mass used", required=True),
    quantity(
        "deduction_factor",
        PER_TONNE,
        "CO2 deducted per tonne",
        default="substitutes.<material>.deduction_factor",
    ),
)

LINE_FIELDS: dict[str, tuple[Field, ...]] = {
    "fuel_combustion": _FUEL,
    "electricity": (
        quantity("quantity", ("MWh",), "electricity purchased (or exported)", required=True),
        quantity(
            "emission_factor",
            ("tCO2/MWh",),
            "grid emission factor",
            default="grid_factors.<grid>: the latest published year not after the report year",
        ),
        code("grid", "grid_factors", "grid region", default="national"),
        DIRECTION,
    ),
    "heat": (
        quantity("quantity", ("GJ",), "heat as an energy (or give steam or hot_water)"),
        Field("steam", OBJECT, "heat as steam (or give quantity or hot_water)", parts=_STEAM),
        Field("hot_water", OBJECT, "heat as hot water (or give quantity or steam)", parts=_HOT_WATER),
        quantity("emission_factor", ("tCO2/GJ",), "heat emission factor", default="heat.emission_factor"),
        DIRECTION,
    ),
    "clinker_carbonate": (
        quantity("clinker", MASS, "clinker produced", required=True),
        quantity("kiln_dust", MASS, "cement kiln dust leaving the kiln system"),
        quantity("bypass_dust", MASS, "bypass dust leaving the kiln system"),
        fraction("cao_fraction", "CaO share of the clinker", default="clinker.cao_fraction"),
        fraction("cao_non_carbonate_fraction", "CaO from non-carbonate sources"),
        fraction(
            "mgo_fraction",
            "MgO share of the clinker (under ipcc-2006 the MgO term counts only when given)",
            default="clinker.mgo_fraction (cn-mee-2024)",
        ),
        fraction("mgo_non_carbonate_fraction", "MgO from non-carbonate sources"),
        fraction(
            "kiln_dust_carbonate_fraction",
            "IPCC Eq. 2.5 C_d: original carbonate in the discarded dust (ipcc-2006, with dust masses)",
        ),
        fraction(
            "kiln_dust_calcination_fraction",
            "IPCC Eq. 2.5 F_d: share of the dust's carbonate calcined (ipcc-2006, with dust masses)",
        ),
    ),
    "clinker_default": (
        quantity("clinker", MASS, "clinker produced", required=True),
        code("clinker_type", "clinker_types", "clinker type", default="portland"),
        quantity(
            "emission_factor", PER_TONNE, "CO2 per tonne of clinker", default="clinker_types.<clinker_type>"
        ),
        Field("substitutes", LIST, "non-carbonate raw materials deducted", parts=_SUBSTITUTE),
    ),
    "raw_meal_organic_carbon": (
        quantity("raw_meal", MASS, "raw meal consumed", required=True),
        fraction("organic_carbon_fraction", "organic carbon share of the raw meal", required=True),
    ),
    "production": (
        Field(
            "product",
            CHOICE,
            "what was produced (the sector's intensity product gives the intensity)",
            choices=tuple(sorted(PRODUCTS)),
            required=True,
        ),
        quantity("quantity", MASS, "quantity produced", required=True),
    ),
    "carbonate": (
        code("material", "carbonates", "carbonate consumed", required=True),
        quantity("quantity", MASS, "mass consumed", required=True),
        quantity("emission_factor", PER_TONNE, "CO2 per tonne", default="carbonates.<material>"),
    ),
    "electrode": (
        quantity("quantity", MASS, "electrodes consumed", required=True),
        quantity("emission_factor", PER_TONNE, "CO2 per tonne", default="electrode.emission_factor"),
    ),
    "carbon_input": (
        code("material", "carbon_inputs", "purchased carbon-bearing material", required=True),
        quantity("quantity", MASS, "mass purchased", required=True),
        quantity("emission_factor", PER_TONNE, "CO2 per tonne", default="carbon_inputs.<material>"),
    ),
    "carbon_fixed_output": (
        code("product", "fixed_carbon_products", "product holding carbon (subtracted)", required=True),
        quantity("quantity", MASS, "mass produced", required=True),
        quantity("emission_factor", PER_TONNE, "CO2 per tonne", default="fixed_carbon_products.<product>"),
    ),
    "carbon_mass_balance": (
        Field("inputs", LIST, "carbon-bearing inputs (at least one)", required=True, parts=_STREAM),
        Field("outputs", LIST, "carbon-bearing outputs", parts=_STREAM),
    ),
    "anode_consumption": (
        quantity("aluminium_production", MASS, "aluminium produced", required=True),
        quantity(
            "net_anode_consumption",
            ("tC/t", "1"),
            "net carbon anode consumed per tonne of aluminium",
            default="aluminium.net_anode_consumption",
        ),
        fraction("sulphur_fraction", "sulphur share of the anodes", default="aluminium.sulphur_fraction"),
        fraction("ash_fraction", "ash share of the anodes", default="aluminium.ash_fraction"),
    ),
    "anode_effect": (
        choice(
            "method",
            ("cn_mee", "slope", "overvoltage", "tier1"),
            "anode-effect method; each takes some of the fields below",
            default="the methodology's default anode-effect method",
        ),
        quantity("aluminium_production", MASS, "aluminium produced", required=True),
        code(
            "cell_technology",
            "cell_technologies",
            "cell technology (gives the slope, overvoltage and Tier 1 defaults)",
        ),
        coefficient(
            "anode_effect_minutes", "AE-min/cell-day", "anode-effect minutes per cell-day (cn_mee, slope)"
        ),
        coefficient(
            "cf4_emission_factor",
            "kg/t",
            "kg CF4 per tonne of aluminium (cn_mee without AE data, tier1)",
            default="anode_effect.cn_mee or cell_technologies.<cell_technology>.tier1_cf4",
        ),
        coefficient(
            "c2f6_emission_factor",
            "kg/t",
            "kg C2F6 per tonne of aluminium (cn_mee without AE data, tier1)",
            default="anode_effect.cn_mee or cell_technologies.<cell_technology>.tier1_c2f6",
        ),
        coefficient(
            "slope_cf4",
            "kg/t per AE-min/cell-day",
            "CF4 slope coefficient (slope)",
            default="cell_technologies.<cell_technology>.slope_cf4",
        ),
        coefficient(
            "c2f6_ratio",
            "1",
            "C2F6/CF4 mass ratio (slope, overvoltage)",
            default="cell_technologies.<cell_technology>",
        ),
        coefficient("overvoltage_mv", "mV", "anode-effect overvoltage (overvoltage)"),
        fraction(
            "current_efficiency", "current efficiency, a fraction or a percentage (overvoltage)", upper="100"
        ),
        coefficient(
            "overvoltage_coefficient",
            "kg/t per mV",
            "overvoltage coefficient (overvoltage)",
            default="cell_technologies.<cell_technology>.overvoltage_coefficient",
        ),
    ),
    "anode_baking": (
        quantity("green_anodes", MASS, "green anodes baked", required=True),
        quantity(
            "hydrogen_content",
            ("t", "1"),
            "hydrogen in the green anodes: a mass, or a fraction of them",
            required=True,
        ),
        quantity("baked_anodes", MASS, "baked anodes produced", required=True),
        quantity("waste_tar", MASS, "waste tar collected"),
        fraction("packing_coke_rate", "packing coke consumed per tonne of baked anodes", required=True),
        fraction(
            "packing_coke_sulphur_fraction",
            "sulphur share of the packing coke",
            default="aluminium.packing_coke_sulphur_fraction",
        ),
        fraction(
            "packing_coke_ash_fraction",
            "ash share of the packing coke",
            default="aluminium.packing_coke_ash_fraction",
        ),
    ),
}


_TIER_KINDS = ", ".join(sorted(uncertainty.TIERS))
#: The uncertainty every emission line may state (:data:`accounting.registry.EMISSION_FIELDS`; the engine
#: reads it, :mod:`accounting.uncertainty`).
UNCERTAINTY = Field(
    "uncertainty",
    OBJECT,
    "the line's uncertainty, ±% at 95 % (IPCC 2006 Vol. 1 Ch. 3 Approach 1): at least one of "
    "activity_percent, factor_percent, tier; a component not given counts as 0",
    parts=(
        coefficient(
            "activity_percent",
            "%",
            f"uncertainty of the activity data, 0 to {uncertainty.MAX_PERCENT} (or give tier)",
        ),
        coefficient(
            "factor_percent",
            "%",
            f"uncertainty of the factor(s) the line's emission is computed with, 0 to {uncertainty.MAX_PERCENT}",
        ),
        Field(
            "tier",
            INTEGER,
            f"tier of the activity data instead of activity_percent (lines: {_TIER_KINDS}); its EU MRR "
            "threshold gives the percent: "
            + ", ".join(
                f"{tier}: {percent} %" for tier, percent in uncertainty.TIERS["fuel_combustion"].items()
            ),
            choices=tuple(str(tier) for tier in uncertainty.TIERS["fuel_combustion"]),
        ),
    ),
)


@cache
def spellings(units: tuple[str, ...]) -> tuple[str, ...]:
    """The usual spellings (:data:`accounting.units.ACCEPTED`) that convert into one of ``units``."""
    found: list[str] = []
    for group in ACCEPTED.values():
        for spelling in group:
            if spelling in found:
                continue
            try:
                conversion(spelling, units)
            except UnitError:
                continue
            found.append(spelling)
    return tuple(found)


def fields_of(kind: str) -> tuple[Field, ...]:
    """The declared fields of line kind ``kind`` (empty for a kind nobody described)."""
    return LINE_FIELDS.get(kind, ())


for _kind, _fields in LINE_FIELDS.items():
    registry.describe(_kind, (*_fields, UNCERTAINTY))

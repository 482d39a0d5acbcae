"""Iron & steel (and any sector's carbonates), category ``process``; CO2 only.

References: MEE iron & steel guideline (2025) and the 2013 pilot guideline, enterprise formula;
IPCC 2006 Vol. 3 Ch. 4.2 (Eq. 4.9 mass balance); EU MRR Art. 25.
"""

from __future__ import annotations

from decimal import Decimal

from accounting.lines import Emission, LineReader
from accounting.methodologies import Factor, Methodology
from accounting.numbers import ZERO
from accounting.registry import method

MASS = ("t",)
PER_TONNE = ("tCO2/t",)


def _tonnes_times_factor(line: LineReader, default: Factor | None) -> Decimal:
    """``quantity [t] × emission_factor [tCO2/t]``, the factor defaulting to ``default``."""
    quantity, _ = line.quantity("quantity", MASS)  # type: ignore[misc]
    factor, _ = line.quantity("emission_factor", PER_TONNE, default=default)  # type: ignore[misc]
    return quantity * factor


def _mass_times_factor(
    line: LineReader, table: str, key: str, what: str, methodology: Methodology
) -> Decimal:
    """``quantity [t] × emission_factor [tCO2/t]`` with the factor defaulted by the code in ``key``."""
    entries = methodology.section(table)
    code = line.code(key, entries, what=what)
    return _tonnes_times_factor(line, entries[code].get("emission_factor"))


@method(
    "carbonate",
    category="process",
    fields=("material", "quantity", "emission_factor"),
    needs=("carbonates",),
    reference="MEE steel guideline, flux carbonates; IPCC 2006 Vol.3 Eq. 2.15 (carbonate factors)",
)
def carbonate(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = carbonate consumed [t] × emission_factor(material) [tCO2/t]``."""
    return Emission(co2=_mass_times_factor(line, "carbonates", "material", "carbonate material", methodology))


@method(
    "electrode",
    category="process",
    fields=("quantity", "emission_factor"),
    needs=("electrode.emission_factor",),
    reference="MEE steel guideline, electrodes consumed in electric furnaces",
)
def electrode(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = electrodes consumed [t] × emission_factor [tCO2/t]`` (default 3.663)."""
    return Emission(co2=_tonnes_times_factor(line, methodology.factor("electrode.emission_factor")))


@method(
    "carbon_input",
    category="process",
    fields=("material", "quantity", "emission_factor"),
    needs=("carbon_inputs",),
    reference="MEE steel guideline, purchased carbon-bearing materials (pig iron, DRI, ferroalloys, scrap)",
)
def carbon_input(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = purchased material [t] × emission_factor(material) [tCO2/t]``."""
    return Emission(
        co2=_mass_times_factor(line, "carbon_inputs", "material", "carbon-bearing material", methodology)
    )


@method(
    "carbon_fixed_output",
    category="process",
    fields=("product", "quantity", "emission_factor"),
    needs=("fixed_carbon_products",),
    reference="MEE steel guideline, carbon fixed in products (subtracted)",
)
def carbon_fixed_output(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = −product [t] × emission_factor(product) [tCO2/t]``: carbon leaving in products."""
    return Emission(co2=-_mass_times_factor(line, "fixed_carbon_products", "product", "product", methodology))


_CARBON_CONTENT = ("tC/t", "tC/10^4 Nm3", "1")
_BASIS = {"tC/t": "t", "1": "t", "tC/10^4 Nm3": "10^4 Nm3"}


def _carbon(streams: list[LineReader]) -> Decimal:
    """Σ quantity × carbon_content [tC] over a list of streams."""
    total = ZERO
    for stream in streams:
        stream.only(("material", "quantity", "carbon_content"))
        stream.label("material")
        quantity, basis = stream.quantity("quantity", ("t", "10^4 Nm3"))  # type: ignore[misc]
        content, unit = stream.quantity("carbon_content", _CARBON_CONTENT, plain_unit="1")  # type: ignore[misc]
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
    category="process",
    fields=("inputs", "outputs"),
    needs=("constants.c_to_co2",),
    reference="MEE steel guideline 2025 (mass balance); IPCC 2006 Vol.3 Eq. 4.9; EU MRR Art. 25",
)
def carbon_mass_balance(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = (Σ inputs × carbon_content − Σ outputs × carbon_content) × C-to-CO2``.

    Carbon content as a mass fraction (tC/t) or per volume for gases (tC/10^4 Nm3). A negative
    net carbon is refused.
    """
    carbon_in = _carbon(line.items("inputs"))
    carbon_out = _carbon(line.items("outputs", required=False))
    if carbon_out > carbon_in:
        line.fail(
            "outputs",
            "negative_net_carbon",
            f"carbon in outputs ({carbon_out:f} tC) exceeds carbon in inputs ({carbon_in:f} tC)",
        )
    return Emission(co2=(carbon_in - carbon_out) * methodology.c_to_co2)

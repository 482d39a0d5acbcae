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

# -- formulas: functions of plain numbers ---------------------------------------------------------


def carbonate_co2(*, quantity: Decimal, emission_factor: Decimal) -> Decimal:
    r"""CO2 released by a carbonate (limestone, dolomite…) calcined as a flux or raw material.

    .. math::

        CO_2 = AD_{carbonate} \cdot EF_{carbonate}

    Parameters
    ----------
    quantity : Decimal
        Carbonate consumed [t].
    emission_factor : Decimal
        CO2 per tonne of the carbonate [tCO2/t] (China: limestone 0.440, dolomite 0.471; IPCC 2006
        stoichiometric: calcite 0.43971, dolomite 0.47732).

    Returns
    -------
    Decimal
        CO2 [t].

    References
    ----------
    China MEE iron and steel guideline (2025) and NDRC pilot guideline (2013), flux (carbonate)
    emissions; IPCC 2006 Vol. 3 Ch. 2, Eq. 2.15 (carbonate use) and Table 2.1.
    """
    return quantity * emission_factor


def carbon_input_co2(*, quantity: Decimal, emission_factor: Decimal) -> Decimal:
    r"""CO2 from carbon-bearing material entering the works (electrodes, pig iron, DRI, ferroalloys, scrap).

    .. math::

        CO_2 = AD_{i} \cdot EF_{i}

    Parameters
    ----------
    quantity : Decimal
        Material consumed or purchased [t].
    emission_factor : Decimal
        CO2 per tonne of the material, its carbon content × 44/12 [tCO2/t] (electrodes 3.663).

    Returns
    -------
    Decimal
        CO2 [t].

    References
    ----------
    China MEE iron and steel guideline (2025) and NDRC pilot guideline (2013), enterprise formula:
    electrodes consumed in electric furnaces and purchased carbon-bearing materials.
    """
    return quantity * emission_factor


def fixed_carbon_co2(*, quantity: Decimal, emission_factor: Decimal) -> Decimal:
    r"""CO2 *not* emitted because the carbon leaves the works in a product: a negative figure.

    .. math::

        CO_2 = -AD_{product} \cdot EF_{product}

    Parameters
    ----------
    quantity : Decimal
        Product leaving the works (crude steel, methanol…) [t].
    emission_factor : Decimal
        Carbon fixed in the product × 44/12 [tCO2/t] (crude steel 0.0154).

    Returns
    -------
    Decimal
        CO2 [t], zero or negative.

    References
    ----------
    China MEE iron and steel guideline (2025) and NDRC pilot guideline (2013), enterprise formula:
    carbon fixed in products, subtracted.
    """
    return -(quantity * emission_factor)


def carbon_mass_balance_co2(*, carbon_in: Decimal, carbon_out: Decimal, c_to_co2: Decimal) -> Decimal:
    r"""CO2 from a carbon mass balance: the carbon that enters and does not leave in a product is emitted.

    .. math::

        CO_2 = \left( \sum_i Q_i \cdot C_i - \sum_o Q_o \cdot C_o \right) \cdot \frac{44}{12}

    Parameters
    ----------
    carbon_in : Decimal
        Carbon in the inputs, :math:`\sum_i Q_i \cdot C_i` [tC] (quantity [t] × carbon mass fraction
        [tC/t], or [10^4 Nm3] × [tC/10^4 Nm3] for gases).
    carbon_out : Decimal
        Carbon in the products, by-products and wastes leaving, :math:`\sum_o Q_o \cdot C_o` [tC].
    c_to_co2 : Decimal
        Mass ratio of CO2 to carbon, 44/12 [tCO2/tC] (EU MRR: 3.664).

    Returns
    -------
    Decimal
        CO2 [t].

    References
    ----------
    China MEE iron and steel guideline (2025), mass-balance approach; IPCC 2006 Vol. 3 Ch. 4.2,
    Eq. 4.9 (Tier 2 carbon balance); EU MRR 2018/2066 Art. 25 and Annex II §3.
    """
    return (carbon_in - carbon_out) * c_to_co2


# -- the registered line methods --------------------------------------------------------------


def _tonnes_and_factor(line: LineReader, default: Factor | None) -> tuple[Decimal, Decimal]:
    """``(quantity [t], emission_factor [tCO2/t])`` of a line, the factor defaulting to ``default``."""
    quantity, _ = line.quantity("quantity", MASS)
    factor, _ = line.quantity("emission_factor", PER_TONNE, default=default)
    return quantity, factor


def _mass_and_factor(
    line: LineReader, table: str, key: str, what: str, methodology: Methodology
) -> tuple[Decimal, Decimal]:
    """``(quantity [t], emission_factor [tCO2/t])`` with the factor defaulted by the code in ``key``."""
    entries = methodology.section(table)
    code = line.code(key, entries, what=what)
    return _tonnes_and_factor(line, entries[code].get("emission_factor"))


@method(
    "carbonate",
    category="process",
    fields=("material", "quantity", "emission_factor"),
    needs=("carbonates",),
    reference="MEE steel guideline, flux carbonates; IPCC 2006 Vol.3 Eq. 2.15 (carbonate factors)",
)
def carbonate(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = carbonate consumed [t] × emission_factor(material) [tCO2/t]`` (:func:`carbonate_co2`)."""
    quantity, factor = _mass_and_factor(line, "carbonates", "material", "carbonate material", methodology)
    return Emission(co2=carbonate_co2(quantity=quantity, emission_factor=factor))


@method(
    "electrode",
    category="process",
    fields=("quantity", "emission_factor"),
    needs=("electrode.emission_factor",),
    reference="MEE steel guideline, electrodes consumed in electric furnaces",
)
def electrode(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = electrodes consumed [t] × emission_factor [tCO2/t]`` (default 3.663; :func:`carbon_input_co2`)."""
    quantity, factor = _tonnes_and_factor(line, methodology.factor("electrode.emission_factor"))
    return Emission(co2=carbon_input_co2(quantity=quantity, emission_factor=factor))


@method(
    "carbon_input",
    category="process",
    fields=("material", "quantity", "emission_factor"),
    needs=("carbon_inputs",),
    reference="MEE steel guideline, purchased carbon-bearing materials (pig iron, DRI, ferroalloys, scrap)",
)
def carbon_input(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = purchased material [t] × emission_factor(material) [tCO2/t]`` (:func:`carbon_input_co2`)."""
    quantity, factor = _mass_and_factor(
        line, "carbon_inputs", "material", "carbon-bearing material", methodology
    )
    return Emission(co2=carbon_input_co2(quantity=quantity, emission_factor=factor))


@method(
    "carbon_fixed_output",
    category="process",
    fields=("product", "quantity", "emission_factor"),
    needs=("fixed_carbon_products",),
    reference="MEE steel guideline, carbon fixed in products (subtracted)",
)
def carbon_fixed_output(line: LineReader, methodology: Methodology) -> Emission:
    """``CO2 = −product [t] × emission_factor(product) [tCO2/t]``: carbon leaving in products
    (:func:`fixed_carbon_co2`)."""
    quantity, factor = _mass_and_factor(line, "fixed_carbon_products", "product", "product", methodology)
    return Emission(co2=fixed_carbon_co2(quantity=quantity, emission_factor=factor))


_CARBON_CONTENT = ("tC/t", "tC/10^4 Nm3", "1")
_BASIS = {"tC/t": "t", "1": "t", "tC/10^4 Nm3": "10^4 Nm3"}


def _carbon(streams: list[LineReader]) -> Decimal:
    """Σ quantity × carbon_content [tC] over a list of streams."""
    total = ZERO
    for stream in streams:
        stream.only(("material", "quantity", "carbon_content"))
        stream.label("material")
        quantity, basis = stream.quantity("quantity", ("t", "10^4 Nm3"))
        content, unit = stream.quantity("carbon_content", _CARBON_CONTENT, plain_unit="1")
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
    """``CO2 = (Σ inputs × carbon_content − Σ outputs × carbon_content) × C-to-CO2``
    (:func:`carbon_mass_balance_co2`).

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
    return Emission(
        co2=carbon_mass_balance_co2(carbon_in=carbon_in, carbon_out=carbon_out, c_to_co2=methodology.c_to_co2)
    )

"""Production lines: no emissions; they give the denominators of intensities."""

from __future__ import annotations

from accounting.lines import LineReader, Production
from accounting.methodologies import Methodology
from accounting.registry import method

#: Products a production line may name. The intensity product of each sector is set by the
#: methodology (``[products]``): clinker, crude_steel, aluminium_liquid.
PRODUCTS = frozenset(
    {
        "clinker",
        "cement",
        "crude_steel",
        "hot_metal",
        "pig_iron",
        "sinter",
        "pellets",
        "coke",
        "dri",
        "eaf_steel",
        "bof_steel",
        "hot_rolled_steel",
        "aluminium_liquid",
        "aluminium_ingot",
        "alumina",
        "carbon_anode",
    }
)


@method(
    "production",
    category=None,
    fields=("product", "quantity"),
    reference="MEE 2024 guidelines, production data for intensity",
)
def production(line: LineReader, methodology: Methodology) -> Production:
    """Records ``quantity`` [t] of ``product``; emits nothing."""
    product = line.code("product", PRODUCTS, what="product")
    quantity, _ = line.quantity("quantity", ("t",))
    return Production(product=product, quantity=quantity)

"""Calculation methods, one module per source family; importing this package registers them all."""

from accounting.methods import aluminium, cement, energy, eu_mrr, fuel, production, steel

# isort: split
import accounting.fields  # noqa: F401  (describes each kind's fields, once every method is registered)

__all__ = ["aluminium", "cement", "energy", "eu_mrr", "fuel", "production", "steel"]

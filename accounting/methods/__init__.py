"""Calculation methods, one module per source family; importing this package registers them all."""

from accounting.methods import aluminium, cement, energy, fuel, production, steel

__all__ = ["aluminium", "cement", "energy", "fuel", "production", "steel"]

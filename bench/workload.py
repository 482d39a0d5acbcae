"""Generated activity lines: a mixed batch across the three sectors, values as JSON text."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any


def _q(value: float, unit: str, places: int = 3) -> dict[str, str]:
    return {"value": f"{value:.{places}f}", "unit": unit}


def _cement(r: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "source": "clinker_carbonate",
            "clinker": _q(r.uniform(5e5, 2e6), "t"),
            "cao_fraction": _q(r.uniform(63, 67), "%"),
            "mgo_fraction": f"{r.uniform(0.01, 0.03):.4f}",
            "kiln_dust": _q(r.uniform(1e3, 9e3), "t"),
        },
        {
            "source": "raw_meal_organic_carbon",
            "raw_meal": _q(r.uniform(8e5, 3e6), "t"),
            "organic_carbon_fraction": f"{r.uniform(0.001, 0.003):.4f}",
        },
        {
            "source": "fuel_combustion",
            "fuel": "bituminous_coal",
            "quantity": _q(r.uniform(5e4, 2e5), "t"),
            "ncv": _q(r.uniform(20, 26), "GJ/t"),
            "carbon_content": _q(r.uniform(0.025, 0.027), "tC/GJ", 5),
            "oxidation_factor": _q(r.uniform(92, 99), "%"),
        },
        {"source": "fuel_combustion", "fuel": "diesel", "quantity": _q(r.uniform(100, 900), "t")},
        {"source": "electricity", "quantity": _q(r.uniform(5e7, 1.5e8), "kWh", 0)},
        {"source": "production", "product": "clinker", "quantity": _q(r.uniform(5e5, 2e6), "t")},
    ]


def _steel(r: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "source": "fuel_combustion",
            "fuel": "coke",
            "quantity": _q(r.uniform(5e5, 2e6), "t"),
            "ncv": _q(r.uniform(27, 29), "GJ/t"),
            "carbon_content": _q(r.uniform(28, 30), "tC/TJ", 2),
            "oxidation_factor": f"{r.uniform(0.9, 0.99):.2f}",
        },
        {"source": "fuel_combustion", "fuel": "natural_gas", "quantity": _q(r.uniform(1e6, 3e7), "Nm3", 0)},
        {
            "source": "fuel_combustion",
            "fuel": "blast_furnace_gas",
            "direction": "exported",
            "quantity": _q(r.uniform(1e4, 2e5), "10^4 Nm3"),
        },
        {"source": "carbonate", "material": "limestone", "quantity": _q(r.uniform(1e5, 5e5), "t")},
        {"source": "electrode", "quantity": _q(r.uniform(100, 2000), "t")},
        {"source": "carbon_input", "material": "pig_iron", "quantity": _q(r.uniform(1e4, 1e5), "t")},
        {"source": "carbon_fixed_output", "product": "crude_steel", "quantity": _q(r.uniform(1e6, 5e6), "t")},
        {"source": "heat", "quantity": _q(r.uniform(1e4, 5e5), "GJ")},
        {"source": "production", "product": "crude_steel", "quantity": _q(r.uniform(1e6, 5e6), "t")},
    ]


def _aluminium(r: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "source": "anode_consumption",
            "aluminium_production": _q(r.uniform(1e5, 8e5), "t"),
            "net_anode_consumption": _q(r.uniform(0.38, 0.45), "t/t"),
            "sulphur_fraction": _q(r.uniform(1, 3), "%"),
        },
        {
            "source": "anode_effect",
            "method": "cn_mee",
            "aluminium_production": _q(r.uniform(1e5, 8e5), "t"),
            "anode_effect_minutes": f"{r.uniform(0.01, 0.5):.3f}",
        },
        {
            "source": "anode_effect",
            "method": "slope",
            "cell_technology": "CWPB",
            "aluminium_production": _q(r.uniform(1e5, 8e5), "t"),
            "anode_effect_minutes": f"{r.uniform(0.01, 0.5):.3f}",
        },
        {
            "source": "electricity",
            "quantity": _q(r.uniform(1e6, 1e7), "MWh"),
            "emission_factor": _q(0.5366, "tCO2/MWh", 4),
        },
        {"source": "production", "product": "aluminium_liquid", "quantity": _q(r.uniform(1e5, 8e5), "t")},
    ]


SECTORS: dict[str, Callable[[random.Random], list[dict[str, Any]]]] = {
    "cement": _cement,
    "steel": _steel,
    "aluminium": _aluminium,
}


def mixed_batch(count: int, seed: int = 2024) -> list[dict[str, Any]]:
    """``count`` activity lines, cycling through cement, steel and aluminium facility templates."""
    r = random.Random(seed)
    lines: list[dict[str, Any]] = []
    builders = list(SECTORS.values())
    while len(lines) < count:
        for build in builders:
            lines.extend(build(r))
    return lines[:count]


#: What a mixed-batch line needs besides to be computable under every methodology (eu-mrr-2018 carries no
#: grid or heat factor, its gas NCVs are per mass, it has no China anode-effect method): values in the
#: same ranges, so the same batch runs under each regime.
_PORTABLE: dict[str, dict[str, Any]] = {
    "electricity": {"emission_factor": {"value": "0.5366", "unit": "tCO2/MWh"}},
    "heat": {"emission_factor": {"value": "0.11", "unit": "tCO2/GJ"}},
    "natural_gas": {"ncv": {"value": "389.31", "unit": "GJ/10^4 Nm3"}},
    "blast_furnace_gas": {"ncv": {"value": "33.000", "unit": "GJ/10^4 Nm3"}},
    "anode_consumption": {"ash_fraction": "0.004"},
}


def portable_batch(count: int, seed: int = 2024) -> list[dict[str, Any]]:
    """:func:`mixed_batch` with what each line needs to be computed under cn-mee-2024, ipcc-2006 and
    eu-mrr-2018 alike: the same lines, the same quantities."""
    lines = []
    for line in mixed_batch(count, seed):
        extra = _PORTABLE.get(line.get("fuel", line["source"]), {})
        portable = {**line, **{k: v for k, v in extra.items() if k not in line}}
        if portable.get("method") == "cn_mee":
            portable = {**portable, "method": "slope", "cell_technology": "CWPB"}
        lines.append(portable)
    return lines


def with_uncertainty(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``lines`` with an uncertainty on every emission line (a tier on fuel lines, percents elsewhere)."""
    stated = []
    for line in lines:
        if line["source"] == "production":
            stated.append(line)
        elif line["source"] == "fuel_combustion":
            stated.append({**line, "uncertainty": {"tier": 2, "factor_percent": "3"}})
        else:
            stated.append({**line, "uncertainty": {"activity_percent": "2.5", "factor_percent": "5"}})
    return stated


def sector_report(sector: str, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` monthly lines of one facility of ``sector``."""
    r = random.Random(seed)
    lines: list[dict[str, Any]] = []
    while len(lines) < count:
        for line in SECTORS[sector](r):
            lines.append({**line, "month": len(lines) % 12 + 1})
    return lines[:count]

"""Crafted reports for the verification tests: one plausible, and one per planted fault."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.mrv.reporting_helpers import lines


def q(value: str, unit: str) -> dict[str, str]:
    return {"value": value, "unit": unit}


def plausible_cement() -> list[dict[str, Any]]:
    """Every parameter measured, intensity inside the cement band, electricity present."""
    return [
        {
            "ref": "clinker",
            "source": "clinker_carbonate",
            "clinker": q("1000000", "t"),
            "cao_fraction": q("65", "%"),
            "mgo_fraction": q("2.0", "%"),
        },
        {
            "ref": "coal",
            "source": "fuel_combustion",
            "fuel": "bituminous_coal",
            "quantity": q("130000", "t"),
            "ncv": q("23", "GJ/t"),
            "carbon_content": q("0.02618", "tC/GJ"),
            "oxidation_factor": "0.93",
        },
        {
            "ref": "grid",
            "source": "electricity",
            "quantity": q("95000", "MWh"),
            "emission_factor": q("0.5366", "tCO2/MWh"),
        },
        {"ref": "out", "source": "production", "product": "clinker", "quantity": q("1000000", "t")},
    ]


def plausible_aluminium() -> list[dict[str, Any]]:
    return [
        {
            "ref": "anodes",
            "source": "anode_consumption",
            "aluminium_production": q("500000", "t"),
            "net_anode_consumption": q("0.40", "t/t"),
            "sulphur_fraction": q("2", "%"),
            "ash_fraction": q("0.4", "%"),
        },
        {
            "ref": "pfc",
            "source": "anode_effect",
            "method": "cn_mee",
            "aluminium_production": q("500000", "t"),
            "anode_effect_minutes": "0.05",
        },
        {
            "ref": "grid",
            "source": "electricity",
            "quantity": q("6750000", "MWh"),
            "emission_factor": q("0.5366", "tCO2/MWh"),
        },
        {
            "ref": "fuel",
            "source": "fuel_combustion",
            "fuel": "natural_gas",
            "quantity": q("2000", "10^4 Nm3"),
            "ncv": q("389.31", "GJ/10^4 Nm3"),
            "carbon_content": q("0.0153", "tC/GJ"),
            "oxidation_factor": "0.99",
        },
        {"ref": "out", "source": "production", "product": "aluminium_liquid", "quantity": q("500000", "t")},
    ]


def with_change(base: list[dict[str, Any]], ref: str, **fields: Any) -> list[dict[str, Any]]:
    changed = copy.deepcopy(base)
    for line in changed:
        if line["ref"] == ref:
            line.update(fields)
    return changed


#: (name, sector, lines, expected finding code, pointer)
FAULTS = [
    (
        "percent-as-fraction",
        "cement",
        with_change(plausible_cement(), "clinker", cao_fraction=q("0.65", "%")),
        "unit_slip_percent",
        "/lines/0/cao_fraction",
    ),
    (
        "gas-nm3-as-10e4",
        "aluminium",
        with_change(plausible_aluminium(), "fuel", quantity=q("20000000", "10^4 Nm3")),
        "unit_slip_gas_volume",
        "/lines/3/quantity",
    ),
    (
        "kwh-as-mwh",
        "aluminium",
        with_change(plausible_aluminium(), "grid", quantity=q("6750000000", "MWh")),
        "unit_slip_electricity",
        "/lines/2/quantity",
    ),
    (
        "coal-kg-as-t",
        "cement",
        with_change(plausible_cement(), "coal", quantity=q("130000000", "t")),
        "unit_slip_mass",
        "/lines/1/quantity",
    ),
    (
        "missing-clinker",
        "cement",
        [line for line in plausible_cement() if line["ref"] != "clinker"],
        "incomplete_sector",
        "/lines",
    ),
    (
        "implausible-ncv",
        "cement",
        with_change(plausible_cement(), "coal", ncv=q("35", "GJ/t")),
        "implausible_coal_ncv",
        "/lines/1/ncv",
    ),
    (
        "defaults",
        "cement",
        [
            *plausible_cement()[:1],
            {"ref": "diesel", "source": "fuel_combustion", "fuel": "diesel", "quantity": q("500", "t")},
            *plausible_cement()[1:],
        ],
        "default_share",
        "/totals",
    ),
    (
        "months-missing",
        "cement",
        [
            *plausible_cement(),
            *[
                {
                    "ref": f"gas-{m}",
                    "source": "fuel_combustion",
                    "fuel": "natural_gas",
                    "month": m,
                    "quantity": q("10", "10^4 Nm3"),
                    "ncv": q("389.31", "GJ/10^4 Nm3"),
                    "carbon_content": q("0.0153", "tC/GJ"),
                    "oxidation_factor": "0.99",
                }
                for m in range(1, 7)
            ],
        ],
        "monthly_lines_incomplete",
        "/lines/4/month",
    ),
]


def example(sector: str) -> list[dict[str, Any]]:
    return lines(sector)


EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"


def example_request(name: str) -> dict[str, Any]:
    """The request of a public worked example (``fixtures/examples/<name>.json``)."""
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))["request"]

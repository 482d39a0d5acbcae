"""The baseline the engine is measured against: the same lines computed with a pint Quantity per
operation (the obvious implementation), on the project's own registry. Same formulas, same
defaults; only the arithmetic differs, so the ratio shows what cached factors buy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounting import methodologies
from accounting.units import normalise, registry

M = methodologies.get("cn-mee-2024")


def _Q(raw: Any, unit: str | None = None) -> Any:
    ureg = registry()
    if isinstance(raw, dict):
        return ureg.Quantity(Decimal(raw["value"]), normalise(raw["unit"]) or "dimensionless")
    return ureg.Quantity(Decimal(raw), normalise(unit) if unit else "dimensionless")


def _default(path: str) -> Any:
    factor = M.factor(path)
    assert factor is not None
    return _Q(str(factor.value), factor.unit)


def _fraction(line: dict[str, Any], key: str, default: str | None = None) -> Any:
    if key in line:
        return _Q(line[key]).to("dimensionless")
    return _default(default) if default else _Q("0")


def line_co2e(line: dict[str, Any]) -> Decimal:
    """tonnes CO2e of one line, every operation on pint Quantities."""
    c_to_co2 = _Q(str(M.c_to_co2), "tCO2/tC")
    source = line["source"]
    if source == "fuel_combustion":
        fuel = line["fuel"]
        quantity = _Q(line["quantity"])
        ncv = _Q(line["ncv"]) if "ncv" in line else _default(f"fuels.{fuel}.ncv")
        content = (
            _Q(line["carbon_content"])
            if "carbon_content" in line
            else _default(f"fuels.{fuel}.carbon_content")
        )
        oxidation = _fraction(line, "oxidation_factor", f"fuels.{fuel}.oxidation_factor")
        co2 = (quantity * ncv * content * oxidation * c_to_co2).to("tCO2")
        sign = -1 if line.get("direction") == "exported" else 1
        return sign * co2.magnitude
    if source == "electricity":
        factor = (
            _Q(line["emission_factor"])
            if "emission_factor" in line
            else _default("grid_factors.national.2023")
        )
        return (_Q(line["quantity"]) * factor).to("tCO2").magnitude
    if source == "heat":
        return (_Q(line["quantity"]) * _default("heat.emission_factor")).to("tCO2").magnitude
    if source == "clinker_carbonate":
        mass = _Q(line["clinker"]) + (_Q(line["kiln_dust"]) if "kiln_dust" in line else _Q("0", "t"))
        cao = _fraction(line, "cao_fraction") * _Q(str(M.constant("cao_to_co2")))
        mgo = _fraction(line, "mgo_fraction") * _Q(str(M.constant("mgo_to_co2")))
        return (mass * (cao + mgo)).to("t").magnitude
    if source == "raw_meal_organic_carbon":
        return (
            (_Q(line["raw_meal"]) * _fraction(line, "organic_carbon_fraction") * _Q(str(M.c_to_co2)))
            .to("t")
            .magnitude
        )
    if source in ("carbonate", "carbon_input", "carbon_fixed_output", "electrode"):
        table = {
            "carbonate": "carbonates",
            "carbon_input": "carbon_inputs",
            "carbon_fixed_output": "fixed_carbon_products",
        }.get(source)
        code = line.get("material") or line.get("product")
        factor = _default(f"{table}.{code}.emission_factor" if table else "electrode.emission_factor")
        co2 = (_Q(line["quantity"]) * factor).to("tCO2").magnitude
        return -co2 if source == "carbon_fixed_output" else co2
    if source == "anode_consumption":
        production = _Q(line["aluminium_production"])
        consumption = _Q(line["net_anode_consumption"]).to("dimensionless")
        impurities = _fraction(line, "sulphur_fraction", "aluminium.sulphur_fraction") + _fraction(
            line, "ash_fraction", "aluminium.ash_fraction"
        )
        return (production * consumption * (1 - impurities) * _Q(str(M.c_to_co2))).to("t").magnitude
    if source == "anode_effect":
        production = _Q(line["aluminium_production"])
        minutes = _Q(line["anode_effect_minutes"])
        if line.get("method") == "slope":
            slope, ratio = (
                M.section("cell_technologies")[line["cell_technology"]][k].value
                for k in ("slope_cf4", "c2f6_ratio")
            )
        else:
            cn = M.section("anode_effect")["cn_mee"]
            slope, ratio = cn["cf4_slope"].value, cn["c2f6_to_cf4"].value
        cf4 = (minutes * _Q(str(slope), "kg/t") * production).to("t")
        c2f6 = cf4 * _Q(str(ratio))
        return (cf4 * _Q(str(M.gwp["CF4"])) + c2f6 * _Q(str(M.gwp["C2F6"]))).to("t").magnitude
    if source == "production":
        _Q(line["quantity"]).to("t")
        return Decimal(0)
    raise ValueError(f"naive baseline has no method for {source}")


def total_co2e(lines: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(line_co2e(line)) for line in lines), Decimal(0))

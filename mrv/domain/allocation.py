"""Allocation rules and compliance arithmetic (SPEC §11): pure functions on exact Decimals, no database.

Decisions, stated once:

- **Products.** A rule is keyed by a sector's intensity product: ``clinker`` (cement), ``crude_steel``
  (steel), ``aluminium_liquid`` (aluminium): the methodology's ``[products]``. A facility is allocated
  under the rule of its sector's product. The rule applies to each production unit (``unit`` on the
  activity lines) whose verified production includes the product; a facility whose verified report names
  no such unit is allocated as one unit, ``""``, with the facility's figures.
- **Methods.** ``verified_emissions``: the unit's verified direct emissions (combustion + process,
  tCO2e). ``intensity_benchmark``: ``benchmark (tCO2/t) × the unit's verified output of the product
  (t) × the product of the rule's factors``.
- **Pre-allocation.** ``preallocation_share ×`` the entitlement computed on the previous year's verified
  report (the same rule applied to that year's figures). **Final**: the entitlement on the verified
  report of the plan's year; a unit pre-allocated but absent from that report gets a final 0.
  ``adjustment = final - preallocated`` (a missing pre-allocation counts 0).
- **Rounding** (at the boundary only): every allocation (pre-allocated, final) and the obligation are
  rounded to whole allowances (1 allowance = 1 tCO2e) half up, each on its own exact figure; the
  adjustment is the difference of the two whole figures.
- **Obligation** = the verified direct emissions of the year (whole, half up); compliance uses direct
  emissions only. Offsets (CCER) surrendered for a year may not exceed ``offset_limit_share ×
  obligation`` in total.
- **Status.** ``open``: no verified report yet, or the obligation is not yet covered and the due date
  has not passed; ``compliant``: allowances + offsets cover the obligation, the covering surrender made
  on or before ``surrender_due``; ``late``: covered, but only by a surrender after ``surrender_due``;
  ``deficit``: ``surrender_due`` has passed and the obligation is not covered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

T = TypeVar("T")

VERIFIED_EMISSIONS = "verified_emissions"
INTENSITY_BENCHMARK = "intensity_benchmark"
METHODS = (VERIFIED_EMISSIONS, INTENSITY_BENCHMARK)
#: Product a rule names → the sector that makes it (the methodology's intensity products).
PRODUCT_SECTORS = {"clinker": "cement", "crude_steel": "steel", "aluminium_liquid": "aluminium"}
SECTOR_PRODUCTS = {sector: product for product, sector in PRODUCT_SECTORS.items()}
BENCHMARK_UNITS = ("tCO2/t", "tCO2e/t")
FACTOR_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_FACTORS = 10
MAX_FIGURE = Decimal("1e12")
WHOLE = Decimal(1)
ZERO = Decimal(0)

OPEN, COMPLIANT, DEFICIT, LATE = "open", "compliant", "deficit", "late"
STATUSES = (OPEN, COMPLIANT, DEFICIT, LATE)


def whole(value: Decimal) -> Decimal:
    """Whole allowances, half up (the one rounding, at the boundary)."""
    return value.quantize(WHOLE, rounding=ROUND_HALF_UP)


def _decimal(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _positive(raw: Any, pointer: str, errors: list[dict[str, str]]) -> Decimal | None:
    value = _decimal(raw)
    if value is None:
        errors.append({"pointer": pointer, "code": "invalid", "detail": "expected a decimal number"})
        return None
    if not ZERO < value < MAX_FIGURE:
        errors.append({"pointer": pointer, "code": "out_of_range", "detail": "must be greater than 0"})
        return None
    return value


def validate_rules(rules: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """``rules`` cleaned (decimals as text) and the errors found, each with its JSON pointer."""
    errors: list[dict[str, str]] = []
    if not isinstance(rules, Mapping) or not rules:
        return {}, [
            {
                "pointer": "/rules",
                "code": "invalid",
                "detail": "rules must be an object with a rule per product (clinker, crude_steel, aluminium_liquid)",
            }
        ]
    clean: dict[str, Any] = {}
    for product, rule in rules.items():
        at = f"/rules/{product}"
        if product not in PRODUCT_SECTORS:
            errors.append(
                {
                    "pointer": at,
                    "code": "invalid_choice",
                    "detail": "a rule names a product: clinker, crude_steel or aluminium_liquid",
                }
            )
            continue
        if not isinstance(rule, Mapping):
            errors.append({"pointer": at, "code": "invalid", "detail": "expected an object"})
            continue
        for key in rule:
            if key not in ("method", "benchmark", "factors"):
                errors.append(
                    {
                        "pointer": f"{at}/{key}",
                        "code": "unknown_field",
                        "detail": "a rule has only method, benchmark and factors",
                    }
                )
        method = rule.get("method")
        if method not in METHODS:
            errors.append(
                {
                    "pointer": f"{at}/method",
                    "code": "invalid_choice",
                    "detail": "method must be verified_emissions or intensity_benchmark",
                }
            )
            continue
        entry: dict[str, Any] = {"method": method}
        if method == VERIFIED_EMISSIONS:
            for key in ("benchmark", "factors"):
                if key in rule:
                    errors.append(
                        {
                            "pointer": f"{at}/{key}",
                            "code": "not_allowed",
                            "detail": "a verified_emissions rule takes no benchmark and no factors",
                        }
                    )
            clean[product] = entry
            continue
        benchmark = rule.get("benchmark")
        if not isinstance(benchmark, Mapping) or set(benchmark) != {"value", "unit"}:
            errors.append(
                {
                    "pointer": f"{at}/benchmark",
                    "code": "required",
                    "detail": "an intensity_benchmark rule needs benchmark: {value, unit} in tCO2/t",
                }
            )
        else:
            value = _positive(benchmark["value"], f"{at}/benchmark/value", errors)
            if benchmark["unit"] not in BENCHMARK_UNITS:
                errors.append(
                    {
                        "pointer": f"{at}/benchmark/unit",
                        "code": "invalid_choice",
                        "detail": "the benchmark unit is tCO2/t (tonnes CO2 per tonne of the product)",
                    }
                )
            elif value is not None:
                entry["benchmark"] = {"value": str(value), "unit": benchmark["unit"]}
        factors = rule.get("factors", {})
        if not isinstance(factors, Mapping) or len(factors) > MAX_FACTORS:
            errors.append(
                {
                    "pointer": f"{at}/factors",
                    "code": "invalid",
                    "detail": "factors must be an object of at most 10 named decimal factors",
                }
            )
            factors = {}
        clean_factors: dict[str, str] = {}
        for name, raw in factors.items():
            if not FACTOR_NAME.match(str(name)):
                errors.append(
                    {
                        "pointer": f"{at}/factors/{name}",
                        "code": "invalid",
                        "detail": "a factor name is lower-case letters, digits and '_'",
                    }
                )
                continue
            factor = _positive(raw, f"{at}/factors/{name}", errors)
            if factor is not None:
                clean_factors[str(name)] = str(factor)
        entry["factors"] = clean_factors
        clean[product] = entry
    return clean, errors


@dataclass(frozen=True, slots=True)
class Basis:
    """One production unit's verified figures: direct emissions and output of the product."""

    unit: str
    product: str
    direct: Decimal
    output: Decimal


def bases(totals: Mapping[str, Any], product: str) -> list[Basis]:
    """The units of a verified revision's stored figures (``ReportRevision.totals``) that make
    ``product``; the facility as unit ``""`` when none does."""
    found: list[Basis] = []
    for name, figures in (totals.get("units") or {}).items():
        output = Decimal(str((figures.get("production") or {}).get(product, "0")))
        if output > ZERO:
            found.append(Basis(name, product, Decimal(str(figures["direct"])), output))
    if found:
        return found
    intensity = totals.get("intensity") or {}
    output = Decimal(str(intensity["production"])) if intensity.get("product") == product else ZERO
    direct = Decimal(str((totals.get("totals") or {}).get("direct", "0")))
    return [Basis("", product, direct, output)]


def entitlement(rule: Mapping[str, Any], basis: Basis) -> Decimal:
    """The exact entitlement of one unit under ``rule`` (see the module's decisions)."""
    if rule["method"] == VERIFIED_EMISSIONS:
        return basis.direct
    value = Decimal(rule["benchmark"]["value"]) * basis.output
    for factor in rule.get("factors", {}).values():
        value *= Decimal(factor)
    return value


def basis_json(
    rule: Mapping[str, Any], basis: Basis, *, year: int, revision: int, exact: Decimal
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "year": year,
        "revision": revision,
        "direct": str(basis.direct),
        "exact": str(exact),
    }
    if rule["method"] == INTENSITY_BENCHMARK:
        found["output"] = str(basis.output)
        found["benchmark"] = rule["benchmark"]["value"]
        found["factors"] = dict(rule.get("factors", {}))
    return found


def obligation(verified_direct: Decimal | None) -> Decimal | None:
    return None if verified_direct is None else whole(verified_direct)


def offsets_allowed(obligation_: Decimal, share: Decimal) -> Decimal:
    """The most offsets a year's surrenders may hold in total (exact)."""
    return obligation_ * share


@dataclass(frozen=True, slots=True)
class Surrendered:
    allowances: Decimal
    offsets: Decimal
    on: date


def first_covering(obligation_: Decimal | None, surrendered: Iterable[tuple[T, Decimal]]) -> T | None:
    """The key of the first of ``surrendered`` (``(key, allowances + offsets)`` in the order they were
    recorded) after which the running total covers the obligation; None when none does (or there is no
    obligation yet)."""
    if obligation_ is None:
        return None
    total = ZERO
    for key, amount in surrendered:
        total += amount
        if total >= obligation_:
            return key
    return None


def status(
    *, obligation_: Decimal | None, surrenders: Iterable[Surrendered], due: date, today: date
) -> tuple[str, Decimal, Decimal]:
    """``(status, allowances, offsets)`` surrendered for a year (see the module's decisions)."""
    ordered = sorted(surrenders, key=lambda s: s.on)
    allowances = sum((s.allowances for s in ordered), ZERO)
    offsets = sum((s.offsets for s in ordered), ZERO)
    if obligation_ is None:
        return OPEN, allowances, offsets
    covered_on = first_covering(obligation_, ((s.on, s.allowances + s.offsets) for s in ordered))
    if covered_on is not None:
        return (COMPLIANT if covered_on <= due else LATE), allowances, offsets
    return (DEFICIT if today > due else OPEN), allowances, offsets

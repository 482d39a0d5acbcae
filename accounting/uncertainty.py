"""Uncertainty of emission figures: IPCC 2006 Vol. 1 Ch. 3, Approach 1 (propagation of error).

A line may state its uncertainty as ``uncertainty: {activity_percent?, factor_percent?, tier?}``: the
half-width of the 95 % confidence interval of its activity data and of its factor, in percent of the
value (±%), or instead of ``activity_percent`` the ``tier`` of the activity data, whose maximum
permissible uncertainty the EU MRR gives (:data:`TIERS`). A component the line does not state counts
as 0 (exact).

* A line's emission is a product (activity × factor): its relative uncertainty is
  ``U = sqrt(U_activity² + U_factor²)`` (Eq. 3.2).
* A sum of lines (a category, direct, indirect, the total): ``U = sqrt(Σ (U_i × x_i)²) / |Σ x_i|``
  (Eq. 3.1), x_i the line's CO2e. Lines that state no uncertainty count as exact (0 %): the result
  says how much of the emissions the stated uncertainties cover (``coverage``), and with less
  than full coverage the sum's uncertainty is a lower bound.

Approach 1 assumes uncertainties well below 100 % (IPCC 2006 Vol. 1 §3.2.3.1); a stated value above
:data:`MAX_PERCENT` is refused (a larger uncertainty needs Approach 2, Monte Carlo). Every figure is a
Decimal computed in :data:`accounting.numbers.CONTEXT` (34 significant digits, half even; ``sqrt`` is
correctly rounded in it) and presented to :data:`PLACES` decimal places of a percent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from accounting.errors import FieldError
from accounting.lines import escape
from accounting.numbers import CONTEXT, ZERO, NumberError, parse_decimal, present

#: Significant digits of every uncertainty computation (the engine's context).
PRECISION = CONTEXT.prec
#: Decimal places of a percent in results (half even).
PLACES = 4
#: Largest ±% accepted for a component (Approach 1 does not hold beyond).
MAX_PERCENT = Decimal(100)
FIELDS = ("activity_percent", "factor_percent", "tier")
_FIELD_SET = frozenset(FIELDS)
#: Where the tier thresholds come from.
TIER_SOURCE = (
    "EU MRR 2018/2066 Annex II section 1, Table 1 (tiers for activity data, combustion of fuels; as in "
    "601/2012 Annex II): maximum permissible uncertainty over the reporting period"
)
#: Line kind → tier → maximum permissible uncertainty of the activity data [±% at 95 %]. Only the kinds
#: whose thresholds the reference carries; other kinds state ``activity_percent``.
TIERS: Mapping[str, Mapping[int, Decimal]] = MappingProxyType(
    {
        "fuel_combustion": MappingProxyType(
            {1: Decimal("7.5"), 2: Decimal("5"), 3: Decimal("2.5"), 4: Decimal("1.5")}
        ),
    }
)
#: How lines that state no uncertainty are counted in a sum (a code, documented in the README).
WITHOUT = "counted_as_exact"
METHOD = "IPCC 2006 Vol. 1 Ch. 3 Approach 1: Eq. 3.2 per line, Eq. 3.1 for sums; ±% at 95 %"


@dataclass(frozen=True, slots=True)
class Stated:
    """A line's stated uncertainty: each component in ±% at 95 % (None: not stated, counted as 0), with
    what follows from it, computed once (:func:`stated`): many lines share one statement."""

    activity: Decimal | None
    factor: Decimal | None
    tier: int | None
    #: ``U_activity² + U_factor²`` [%²]: the square of the line's relative uncertainty (Eq. 3.2).
    squared: Decimal
    #: ``U = sqrt(U_activity² + U_factor²)`` [%] (IPCC 2006 Vol. 1 Eq. 3.2), exact in the context.
    percent: Decimal
    #: ``percent`` as results show it (:data:`PLACES` decimals).
    shown: Decimal

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"activity_percent": self.activity, "factor_percent": self.factor}
        if self.tier is not None:
            body["tier"] = self.tier
            body["tier_source"] = TIER_SOURCE
        return body


def stated(activity: Decimal | None, factor: Decimal | None, tier: int | None = None) -> Stated:
    """The :class:`Stated` uncertainty of components ``activity`` and ``factor`` [±%] (None counts as 0)."""
    squared = squared_percent(activity or ZERO, factor or ZERO)
    percent = squared.sqrt(CONTEXT)
    return Stated(activity, factor, tier, squared, percent, present(percent, PLACES))


def squared_percent(*percents: Decimal) -> Decimal:
    """``Σ U_i²`` [%²]: the square of a product's relative uncertainty (IPCC 2006 Vol. 1 Eq. 3.2)."""
    return sum((CONTEXT.multiply(u, u) for u in percents), ZERO)


def product_percent(*percents: Decimal) -> Decimal:
    """``U = sqrt(Σ U_i²)`` [%]: a product's relative uncertainty (IPCC 2006 Vol. 1 Eq. 3.2)."""
    return squared_percent(*percents).sqrt(CONTEXT)


def variance_term(squared: Decimal, x: Decimal) -> Decimal:
    """``(U_i × x_i)²`` [%²·t²] from ``U_i²`` [%²] and ``x_i`` [t]: one term of Eq. 3.1's numerator."""
    return CONTEXT.multiply(squared, CONTEXT.multiply(x, x))


def percent_of_sum(variance: Decimal, total: Decimal) -> Decimal | None:
    """``U = sqrt(variance) / |total|`` [%], ``variance = Σ (U_i × x_i)²`` and ``total = Σ x_i`` (Eq. 3.1);
    None when the total is zero (the relative uncertainty of a zero sum is undefined)."""
    if not total:
        return None
    return CONTEXT.divide(variance.sqrt(CONTEXT), abs(total))


def sum_percent(terms: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """``U = sqrt(Σ (U_i × x_i)²) / |Σ x_i|`` [%] over ``(U_i², x_i)`` pairs (IPCC 2006 Vol. 1 Eq. 3.1).

    Taking ``U_i²`` (not U_i) keeps the one square root at the end. None when ``Σ x_i`` is zero.
    """
    variance, total = ZERO, ZERO
    for squared, x in terms:
        variance = CONTEXT.add(variance, variance_term(squared, x))
        total = CONTEXT.add(total, x)
    return percent_of_sum(variance, total)


def _percent(raw: Any, pointer: str, key: str, errors: list[FieldError]) -> Decimal | None:
    where = f"{pointer}/{key}"
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in ("value", "unit")]
        if unknown or raw.get("unit") != "%":
            errors.append(
                FieldError(
                    f"{where}/unit", "wrong_dimension", f"{key} is a plain number of percent, or in '%'"
                )
            )
            return None
        raw, where = raw.get("value"), f"{where}/value"
    if isinstance(raw, (list, Mapping)):
        errors.append(FieldError(where, "invalid_type", f"{key} must be a number"))
        return None
    try:
        value = parse_decimal(raw)
    except NumberError as error:
        errors.append(FieldError(where, error.code, f"{key}: {error.detail}"))
        return None
    if value < ZERO:
        errors.append(FieldError(where, "negative", f"{key} must not be negative"))
        return None
    if value > MAX_PERCENT:
        errors.append(
            FieldError(
                where,
                "out_of_range",
                f"{key} must lie between 0 and {MAX_PERCENT} %: error propagation (Approach 1) does not "
                "hold for larger uncertainties (use a Monte Carlo analysis, Approach 2)",
            )
        )
        return None
    return value


def _tier(raw: Any, pointer: str, kind: str, errors: list[FieldError]) -> tuple[int, Decimal] | None:
    where = f"{pointer}/tier"
    thresholds = TIERS.get(kind)
    if thresholds is None:
        errors.append(
            FieldError(
                where,
                "no_tier_thresholds",
                f"no tier thresholds are carried for {kind} lines (only for "
                f"{', '.join(sorted(TIERS))}): give activity_percent",
            )
        )
        return None
    low, high = min(thresholds), max(thresholds)
    try:
        value = parse_decimal(raw) if not isinstance(raw, (list, Mapping)) else None
    except NumberError:
        value = None
    if value is None or value != value.to_integral_value() or int(value) not in thresholds:
        errors.append(FieldError(where, "out_of_range", f"must be a whole number from {low} to {high}"))
        return None
    return int(value), thresholds[int(value)]


#: Most distinct statements remembered (a batch's lines mostly repeat a few).
CACHE_SIZE = 4096
_SIMPLE = (str, int, type(None))
_known: dict[tuple[Any, ...], Stated] = {}


def read(raw: Any, pointer: str, kind: str, errors: list[FieldError]) -> Stated | None:
    """The uncertainty a ``kind`` line states at ``pointer`` (``…/uncertainty``), or None with every
    invalid field appended to ``errors``.

    A statement of plain texts and whole numbers that was valid before is not read again: its
    :class:`Stated` (immutable) is remembered by kind and the exact values and their types.
    """
    if type(raw) is dict and raw.keys() <= _FIELD_SET:
        a, f, t = raw.get("activity_percent"), raw.get("factor_percent"), raw.get("tier")
        if type(a) in _SIMPLE and type(f) in _SIMPLE and type(t) in _SIMPLE:
            key = (kind, type(a), a, type(f), f, type(t), t)
            found = _known.get(key)
            if found is None:
                found = _read(raw, pointer, kind, errors)
                if found is not None and len(_known) < CACHE_SIZE:
                    _known[key] = found
            return found
    return _read(raw, pointer, kind, errors)


def _read(raw: Any, pointer: str, kind: str, errors: list[FieldError]) -> Stated | None:
    if not isinstance(raw, Mapping):
        errors.append(FieldError(pointer, "invalid_type", "uncertainty must be an object"))
        return None
    before = len(errors)
    for key in raw:
        if key not in FIELDS:
            errors.append(
                FieldError(
                    f"{pointer}/{escape(str(key))}",
                    "unknown_field",
                    f"{str(key)[:64]!r} is not a field here; expected {', '.join(FIELDS)}",
                )
            )
    given = {key: raw[key] for key in FIELDS if raw.get(key) is not None}
    if not given:
        errors.append(
            FieldError(
                pointer,
                "required",
                "give activity_percent, factor_percent or tier (±% at 95 %, or the tier of the activity data)",
            )
        )
        return None
    if "tier" in given and "activity_percent" in given:
        errors.append(
            FieldError(f"{pointer}/tier", "conflict", "give either tier or activity_percent, not both")
        )
    activity, factor = (
        _percent(given[key], pointer, key, errors) if key in given else None
        for key in ("activity_percent", "factor_percent")
    )
    tier = None
    if "tier" in given:
        found = _tier(given["tier"], pointer, kind, errors)
        if found is not None:
            tier, activity = found
    if len(errors) > before:
        return None
    return stated(activity, factor, tier)


__all__ = [
    "FIELDS",
    "MAX_PERCENT",
    "METHOD",
    "PLACES",
    "PRECISION",
    "TIERS",
    "TIER_SOURCE",
    "WITHOUT",
    "Stated",
    "percent_of_sum",
    "product_percent",
    "read",
    "squared_percent",
    "stated",
    "sum_percent",
    "variance_term",
]

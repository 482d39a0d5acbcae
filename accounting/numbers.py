"""Decimal arithmetic for emission figures: one context, exact parsing, rounding at the boundary.

Every figure in the engine is a :class:`decimal.Decimal`. Inputs are parsed from their text
(never from a binary float); results are kept unrounded and only quantized when they are
presented (:func:`present`) or reported by a methodology's rounding rule (:func:`round_to`).
"""

from __future__ import annotations

import re
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction

#: Context used for every calculation: 34 significant digits (IEEE decimal128), exceptions
#: trapped so that a NaN or an overflow can never travel silently into a result.
CONTEXT = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow, Clamped],
)

ZERO = Decimal(0)
ONE = Decimal(1)

#: Largest magnitude accepted for any input number (a quadrillion, far above any facility's
#: annual activity in any unit this service accepts).
MAX_MAGNITUDE = Decimal("1e15")
#: Most significant digits accepted in one input number.
MAX_DIGITS = 40

#: Decimal places shown for tonnes in results (the exact value is kept internally).
TONNE_PLACES = 6
#: Decimal places shown for intensities (tonnes per tonne of product).
INTENSITY_PLACES = 12

_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


class NumberError(ValueError):
    """A value that is not an acceptable number; ``code`` says why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_decimal(raw: object) -> Decimal:
    """Read a number exactly from a JSON string, a JSON number (already a Decimal or int) or text.

    Refuses booleans, NaN and infinities, exponent notation beyond the accepted range and more
    than :data:`MAX_DIGITS` significant digits. A Python float is read through its shortest
    ``repr`` (``0.1`` is one tenth), never through its binary value.
    """
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, bool):
        raise NumberError("not_a_number", "expected a number, got a boolean")
    elif isinstance(raw, int):
        if abs(raw) > 10**15:
            raise NumberError("number_out_of_range", f"magnitude must not exceed {MAX_MAGNITUDE:f}")
        return Decimal(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if len(text) > 64 or not _NUMBER_TEXT.fullmatch(text):
            raise NumberError("not_a_number", f"{raw[:40]!r} is not a decimal number")
        value = Decimal(text)
    elif isinstance(raw, float):
        value = Decimal(repr(raw))
    else:
        raise NumberError("not_a_number", f"expected a number, got {type(raw).__name__}")
    if not value.is_finite():
        raise NumberError("not_a_number", "NaN and Infinity are not numbers")
    sign, digits, exponent = value.as_tuple()
    if len(digits) > MAX_DIGITS or not isinstance(exponent, int) or exponent < -MAX_DIGITS:
        raise NumberError("number_out_of_range", f"at most {MAX_DIGITS} significant digits")
    if value.adjusted() > 15 or abs(value) > MAX_MAGNITUDE:
        raise NumberError("number_out_of_range", f"magnitude must not exceed {MAX_MAGNITUDE:f}")
    return value


def parse_ratio(text: str) -> Decimal:
    """Read a constant written as a decimal or an exact ratio such as ``"44/12"``."""
    if "/" in text:
        fraction = Fraction(text)
        return CONTEXT.divide(Decimal(fraction.numerator), Decimal(fraction.denominator))
    return Decimal(text)


def present(value: Decimal, places: int = TONNE_PLACES) -> Decimal:
    """Quantize an exact figure for display (half even) and drop trailing zeros; no exponent."""
    quantized = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN, context=CONTEXT)
    if quantized.is_zero():
        return ZERO
    normal = quantized.normalize(CONTEXT)
    # normalize() turns 50000 into 5E+4; bring such values back to an integer exponent of 0.
    if normal.as_tuple().exponent > 0:  # type: ignore[operator]
        return normal.quantize(ONE, context=CONTEXT)
    return normal


def round_to(value: Decimal, places: int, mode: str) -> Decimal:
    """Round an exact figure by a reporting rule (``places`` decimals, ``mode`` half_up|half_even)."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUNDING_MODES[mode], context=CONTEXT)
    return rounded if not rounded.is_zero() else abs(rounded)


def plain(value: Decimal) -> str:
    """Render a Decimal in plain decimal notation (never with an exponent)."""
    return format(value, "f")

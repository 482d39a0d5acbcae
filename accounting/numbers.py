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
MAX_ADJUSTED = 15
#: Smallest magnitude accepted (10^-MAX_DIGITS) for a non-zero input number.
MAX_DIGITS = 40

#: Decimal places shown for tonnes in results (the exact value is kept internally).
TONNE_PLACES = 6
#: Decimal places shown for intensities (tonnes per tonne of product).
INTENSITY_PLACES = 12


ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}


class NumberError(ValueError):
    """A value that is not an acceptable number; ``code`` says why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


#: Characters written between groups of digits (space, no-break and thin spaces, apostrophe, underscore).
_GROUP_MARKS = " \u00a0\u202f\u2009'_"
_SEPARATED = re.compile(r"[+-]?\d[\d.,\u00a0\u202f\u2009'_ ]*\d")
_SEPARATOR_RULE = "the decimal mark is '.' and digits are not grouped"


def separator_hint(text: str) -> str:
    """How to write ``text`` (a number with a decimal comma or grouped digits) as this service reads
    numbers, or ``""`` when it does not look like one. The value itself is never guessed: a comma
    followed by exactly three digits may group thousands or be a decimal comma, and both readings
    are offered."""
    text = text.strip()
    if not _SEPARATED.fullmatch(text):
        return ""
    sign = text[0] if text[0] in "+-" else ""
    body = text[len(sign) :]
    commas, dots = body.count(","), body.count(".")
    decimal: str = ""
    group: str = ""
    if commas and dots:  # the last of the two is the decimal mark, the other groups digits
        decimal, group = (",", ".") if body.rfind(",") > body.rfind(".") else (".", ",")
    elif commas > 1 or dots > 1:  # 1,234,567 or 1.234.567
        group = "," if commas else "."
    elif commas:
        decimal = ","
    elif dots:
        decimal = "."
    if decimal and body.count(decimal) > 1:
        return ""
    whole, _, fraction = body.partition(decimal) if decimal else (body, "", "")
    groups = re.split("[" + re.escape(_GROUP_MARKS + group) + "]", whole)
    if len(groups) > 1 and not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
        return ""
    digits = "".join(groups)
    if not digits.isdigit() or (decimal and not fraction.isdigit()):
        return ""
    if decimal == "," and len(groups) == 1 and len(whole) <= 3 and len(fraction) == 3:
        return (
            f"{_SEPARATOR_RULE}: write {sign}{whole}{fraction} if ',' groups thousands, "
            f"or {sign}{whole}.{fraction} if it is a decimal comma"
        )
    reading = sign + digits + (f".{fraction}" if decimal else "")
    return f"{_SEPARATOR_RULE}: did you mean {reading}?" if reading != text else ""


def _not_a_number(text: str) -> NumberError:
    hint = separator_hint(text) if len(text) <= 64 else ""
    return NumberError(
        "not_a_number", f"{text[:40]!r} is not a decimal number" + (f"; {hint}" if hint else "")
    )


def parse_decimal(raw: object) -> Decimal:
    """Read a number exactly from a JSON string, a JSON number (already a Decimal or int) or text.

    Refuses booleans, NaN and infinities, digit separators, magnitudes above
    :data:`MAX_MAGNITUDE` and values finer than 10^-:data:`MAX_DIGITS`. A Python float is read
    through its shortest ``repr`` (``0.1`` is one tenth), never through its binary value. A number
    written with a decimal comma or grouped digits (``"1000,5"``, ``"85,000"``, ``"85 000"``) is
    refused with a hint (:func:`separator_hint`), never read.
    """
    kind = type(raw)
    if kind is str and not raw.isascii():  # type: ignore[attr-defined]
        _refuse_full_width(raw)  # type: ignore[arg-type]
    if kind is str:
        text: str = raw  # type: ignore[assignment]
        if len(text) > 64 or "_" in text:
            raise _not_a_number(text)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _not_a_number(text) from None
    elif kind is Decimal:
        value = raw  # type: ignore[assignment]
    elif kind is int:
        value = Decimal(raw)  # type: ignore[arg-type]
    elif kind is float:
        value = Decimal(repr(raw))
    elif isinstance(raw, bool):
        raise NumberError("not_a_number", "expected a number, got a boolean")
    elif isinstance(raw, (Decimal, int)):
        value = Decimal(raw)
    else:
        raise NumberError("not_a_number", f"expected a number, got {type(raw).__name__}")
    if not value.is_finite():
        raise NumberError("not_a_number", "NaN and Infinity are not numbers")
    if value:
        adjusted = value.adjusted()
        if adjusted > MAX_ADJUSTED or (adjusted == MAX_ADJUSTED and abs(value) > MAX_MAGNITUDE):
            raise NumberError("number_out_of_range", f"magnitude must not exceed {MAX_MAGNITUDE:f}")
        if adjusted < -MAX_DIGITS:
            raise NumberError("number_out_of_range", f"values below 1e-{MAX_DIGITS} are not accepted")
    return value


def _refuse_full_width(text: str) -> None:
    """Full-width digits and separators (０-９，．) and CJK punctuation (the ideographic space 　, 。、) are
    refused with a hint (SPEC §12): Decimal would read ０-９ as digits."""
    if any("\uff01" <= character <= "\uff5e" or "\u3000" <= character <= "\u303f" for character in text):
        raise NumberError(
            "not_a_number",
            f"{text[:40]!r} is written with full-width characters: write half-width digits 0-9 and '.' "
            "(for example 1000.5, not １０００．５)",
        )


def parse_ratio(text: str) -> Decimal:
    """Read a constant written as a decimal or an exact ratio such as ``"44/12"``."""
    if "/" in text:
        fraction = Fraction(text)
        return CONTEXT.divide(Decimal(fraction.numerator), Decimal(fraction.denominator))
    return Decimal(text)


_STEPS = {places: Decimal(1).scaleb(-places) for places in range(0, 19)}


def present(value: Decimal, places: int = TONNE_PLACES) -> Decimal:
    """Quantize an exact figure for display (half even) and drop trailing zeros; no exponent."""
    normal = value.quantize(_STEPS[places], rounding=ROUND_HALF_EVEN, context=CONTEXT).normalize(CONTEXT)
    if not normal:
        return ZERO  # also turns -0 into 0
    # normalize() writes 50000 as 5E+4 and zero as 0E-6: integral values get exponent 0 back.
    if normal == normal.to_integral_value():
        return normal.quantize(ONE, context=CONTEXT)
    return normal


def round_to(value: Decimal, places: int, mode: str) -> Decimal:
    """Round an exact figure by a reporting rule (``places`` decimals, ``mode`` half_up|half_even)."""
    rounded = value.quantize(_STEPS[places], rounding=ROUNDING_MODES[mode], context=CONTEXT)
    return rounded if not rounded.is_zero() else abs(rounded)


def plain(value: Decimal) -> str:
    """Render a Decimal in plain decimal notation (never with an exponent)."""
    return format(value, "f")

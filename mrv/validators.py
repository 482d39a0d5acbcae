"""Validators for identifiers that regulation defines.

The Unified Social Credit Code (统一社会信用代码, GB 32100-2015) identifies every legal person and
organisation in China: 18 characters from a 31-character alphabet (digits and capital letters
without I, O, Z, S, V), the last one a check character computed from the first 17:

    check = (31 - Σ value(c_i) × 3^i mod 31) mod 31        for i = 0 … 16

where ``value`` is a character's index in the alphabet (GB 32100-2015, section 5 and annex B).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_LENGTH = 18
_USCC_VALUE = {character: value for value, character in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(USCC_LENGTH - 1)]


def uscc_check_character(body: str) -> str:
    """The check character for the first 17 characters of a Unified Social Credit Code."""
    if len(body) != USCC_LENGTH - 1 or any(character not in _USCC_VALUE for character in body):
        raise ValueError(f"expected 17 characters from {USCC_ALPHABET!r}, got {body!r}")
    weighted = sum(
        _USCC_VALUE[character] * weight for character, weight in zip(body, _USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - weighted % 31) % 31]


def validate_credit_code(value: str) -> None:
    """Reject anything that is not an 18-character USCC with a correct check character."""
    if len(value) != USCC_LENGTH:
        raise ValidationError(
            "A Unified Social Credit Code has %(length)d characters, not %(given)d.",
            code="credit_code_length",
            params={"length": USCC_LENGTH, "given": len(value)},
        )
    illegal = sorted({character for character in value if character not in _USCC_VALUE})
    if illegal:
        raise ValidationError(
            "A Unified Social Credit Code uses digits and capital letters other than I, O, Z, S, V; "
            "found %(illegal)s.",
            code="credit_code_characters",
            params={"illegal": ", ".join(repr(character) for character in illegal)},
        )
    expected = uscc_check_character(value[:-1])
    if value[-1] != expected:
        raise ValidationError(
            "The check character of this Unified Social Credit Code should be %(expected)s, not %(given)s.",
            code="credit_code_check_character",
            params={"expected": expected, "given": value[-1]},
        )

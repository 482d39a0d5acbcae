"""Units: one pint registry for the process, accepted spellings, cached conversion factors.

Pint is used at the edge only: to parse a unit text, check its dimension and work out the
factor to the unit a method computes in. The factor is cached per ``(unit text, targets)``
pair, so the hot loop multiplies Decimals and never builds a pint Quantity.

Spellings that reports use but pint does not read (``Nm3``, ``10^4 Nm3``, ``%``, ``kt``,
``kcal``) are mapped through an explicit table; ambiguous spellings (``ton``, ``cal``) are
refused with a hint, never guessed. The Chinese spellings of reports (SPEC §12: 吨, 千吨, 万吨,
标立方米, 万标立方米, 万Nm3, 千瓦时, 万千瓦时, 兆瓦时, 吉焦, 千卡/千克, and their compounds such as
吉焦/万标立方米) read as the units they name; results show the unit a method computes in, in its
canonical spelling (``t``, ``10^4 Nm3``, ``MWh``). Full-width characters (``１０``, ``／``, ``　``)
are refused with a hint.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import pint

from accounting.numbers import CONTEXT

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WAN_NM3 = re.compile(
    r"10\s*(?:\^|\*\*)\s*4\s*\*?\s*N\s*m\s*(?:\^\s*3|3|³)|10⁴\s*N\s*m\s*(?:\^\s*3|3|³)|万\s*Nm3"
)
_NM3 = re.compile(r"Nm\s*(?:\^\s*3|³)")
_M3 = re.compile(r"(?<![A-Za-z_])m3(?![A-Za-z0-9_])")
#: Chinese unit words (SPEC §12) and the spelling each stands for; 万 (10^4) before t, kWh, Nm3: _WAN.
CHINESE: dict[str, str] = {
    "标立方米": "Nm3",
    "千瓦时": "kWh",
    "兆瓦时": "MWh",
    "千吨": "kt",
    "吉焦": "GJ",
    "千卡": "kcal",
    "千克": "kg",
    "吨": "t",
}
_CHINESE_WORD = re.compile("|".join(sorted(CHINESE, key=len, reverse=True)))
_WAN = re.compile(r"万\s*(t|kWh)(?![A-Za-z0-9_])")
#: Full-width forms (０-９, Ａ-Ｚ, ，．／…) and CJK punctuation (the ideographic space 　, 。、):
#: refused with a hint, never read as their half-width look-alikes.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000-\u303f]")
#: What a unit text may contain: letters, digits, blanks, operators, parentheses, and the few symbols
#: reports use. Anything else (quotes, control characters, NUL) is refused before pint sees it.
_ALLOWED = re.compile(r"[A-Za-z0-9_ .*/^()%‰°³⁴万千吨标立方米瓦时兆吉焦卡克\-]+")
#: An exponent: a small integer, optionally signed or in parentheses (``m**3``, ``m^-1``, ``s**(-2)``).
_POWER = re.compile(r"\*\*\s*(\(\s*-?\s*\d+\s*\)|-?\s*\d+)(?!\s*\.?\d)")
MAX_EXPONENT = 4

#: Token spellings mapped to registry names.
_ALIASES = {
    "kt": "kilotonne",
    "Mt": "megatonne",
    "tonne": "metric_ton",
    "tonnes": "metric_ton",
    "kcal": "kilocalorie_it",
    "pct": "percent",
}

#: Tokens refused because they are ambiguous, with the hint shown to the client.
_AMBIGUOUS = {
    "ton": "'ton' is ambiguous (short ton of 907.18 kg or metric tonne?): write 't' for the metric tonne",
    "tons": "'tons' is ambiguous (short tons or metric tonnes?): write 't' for metric tonnes",
    "short_ton": "short tons are not used in these reports: write 't' for metric tonnes",
    "cal": "'cal' is ambiguous (thermochemical 4.184 J or international 4.1868 J?): write 'kcal' "
    "(international table) or give the value in kJ",
    "calorie": "'calorie' is ambiguous: write 'kcal' (international table) or give the value in kJ",
    "Mcal": "write 'kcal' (international table) or give the value in MJ",
    "Gcal": "write 'kcal' (international table) or give the value in GJ",
}

#: Spellings clients most often send, grouped by what they measure (served at /api/v1/units/).
ACCEPTED: dict[str, tuple[str, ...]] = {
    "mass": ("t", "kt", "Mt", "kg", "g", "Gg"),
    "energy": ("GJ", "TJ", "MJ", "kJ", "kWh", "MWh", "GWh", "tce"),
    "normal volume (gases)": ("Nm3", "10^4 Nm3"),
    "volume": ("m3", "L"),
    "fraction": ("1", "%", "t/t"),
    "net calorific value": ("GJ/t", "MJ/kg", "kJ/kg", "kcal/kg", "GJ/10^4 Nm3", "MJ/Nm3", "kJ/Nm3"),
    "carbon content": ("tC/GJ", "tC/TJ", "kgC/GJ", "tC/t", "tC/10^4 Nm3"),
    "emission factor": ("tCO2/TJ", "tCO2/GJ", "kgCO2/GJ", "tCO2/t", "tCO2/MWh", "kgCO2/kWh", "tCO2/10^4 Nm3"),
    "specific enthalpy": ("kJ/kg", "GJ/t"),
    "temperature": ("degC", "K"),
    "voltage": ("mV", "V"),
}


class UnitError(ValueError):
    """A unit text that cannot be used where it was given; ``code`` says why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@cache
def registry() -> pint.UnitRegistry:  # type: ignore[type-arg]
    """The process-wide registry (Decimal magnitudes), built on first use (about 0.2 s)."""
    ureg: pint.UnitRegistry = pint.UnitRegistry(  # type: ignore[type-arg]
        non_int_type=Decimal, autoconvert_offset_to_baseunit=False
    )
    definitions = resources.files("accounting.data").joinpath("units.txt").read_text(encoding="utf-8")
    for line in definitions.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            ureg.define(line)
    return ureg


def normalise(text: str) -> str:
    """Rewrite a client's unit text into a pint expression over this registry's names."""
    if not isinstance(text, str) or not text.strip() or len(text) > 64:
        raise UnitError("unknown_unit", "a unit must be a non-empty text of at most 64 characters")
    if _FULL_WIDTH.search(text):
        raise UnitError(
            "unknown_unit",
            f"unknown unit {text!r}: full-width characters are not read; write the unit in half-width "
            "characters (for example '10^4 Nm3', 'GJ/t', '万Nm3')",
        )
    if not _ALLOWED.fullmatch(text):
        raise UnitError(
            "unknown_unit",
            f"unknown unit {text!r}: a unit is written with letters, digits, spaces, '*', '/', '^' and "
            "parentheses (for example 't', 'GJ/t', '10^4 Nm3', 'kgCO2/kWh')",
        )
    expression = _CHINESE_WORD.sub(lambda match: CHINESE[match.group(0)], text.strip())
    expression = _WAN.sub(lambda match: f" wan_{match.group(1)} ", _WAN_NM3.sub(" wanNm3 ", expression))
    expression = (
        _M3.sub("m**3", _NM3.sub("Nm3", expression))
        .replace("m³", "m**3")
        .replace("°C", "degC")
        .replace("^", "**")
    )
    expression = expression.replace("%", " percent ").replace("‰", " permille ")
    if expression.strip() == "1":
        return ""

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in _AMBIGUOUS:
            raise UnitError("ambiguous_unit", _AMBIGUOUS[token])
        return _ALIASES.get(token, token)

    expression = _TOKEN.sub(substitute, expression)
    _check_powers(text, expression)
    return expression


def _check_powers(text: str, expression: str) -> None:
    """Exponents are small integers, one per factor: ``t**9**9**9`` would never finish converting."""
    powers = list(_POWER.finditer(expression))
    if expression.count("**") != len(powers):
        raise UnitError("unknown_unit", f"unknown unit {text!r}: an exponent must be a whole number")
    for power in powers:
        exponent = int(re.sub(r"[\s()]", "", power.group(1)))
        if abs(exponent) > MAX_EXPONENT:
            raise UnitError(
                "unknown_unit", f"unknown unit {text!r}: exponents larger than {MAX_EXPONENT} are not used"
            )
        following = expression[power.end() :].lstrip()
        if following.startswith("**"):
            raise UnitError("unknown_unit", f"unknown unit {text!r}: a power of a power is not a unit")


def _known_spellings() -> list[str]:
    return sorted({spelling for group in ACCEPTED.values() for spelling in group} | {"tonne", "tCO2"})


def suggestion(text: str) -> str:
    """The nearest accepted spelling of a refused unit text (``kwh`` → ``kWh``), or ``""``."""
    if not isinstance(text, str) or not text.isascii():  # 万GJ is not GJ: no guess across a Chinese word
        return ""
    spellings = _known_spellings()
    folded = {spelling.casefold(): spelling for spelling in spellings}
    key = text.strip().replace(" ", "").casefold()
    if key in folded:
        return folded[key]
    close = difflib.get_close_matches(text.strip(), spellings, n=1, cutoff=0.75)
    return close[0] if close else ""


def _unknown(text: str) -> UnitError:
    hint = suggestion(text)
    detail = f"unknown unit {text!r}" + (f"; did you mean {hint!r}?" if hint and hint != text else "")
    return UnitError("unknown_unit", detail)


def _parse(text: str) -> Any:
    expression = normalise(text)
    try:
        units = registry().parse_units(expression) if expression else registry().dimensionless
    except Exception as error:  # the edge of untrusted text: whatever pint raises is a refusal
        raise _unknown(text) from error
    if not isinstance(units, pint.Unit):
        raise _unknown(text)
    return units


@lru_cache(maxsize=8192)
def conversion(text: str, targets: tuple[str, ...]) -> tuple[str, Decimal]:
    """Find the target unit with the same dimension as ``text`` and the factor into it.

    Returns ``(target, factor)`` such that ``value [text] × factor = value [target]``.
    Raises :class:`UnitError` (``unknown_unit``, ``ambiguous_unit``, ``wrong_dimension``).
    """
    units = _parse(text)
    ureg = registry()
    for target in targets:
        target_units = _parse(target)
        if units.dimensionality == target_units.dimensionality:
            try:
                magnitude = ureg.Quantity(Decimal(1), units).to(target_units).magnitude
                factor = CONTEXT.plus(Decimal(magnitude)).normalize(CONTEXT)
            except ArithmeticError as error:
                raise UnitError("unknown_unit", f"unit {text!r} is out of any useful range") from error
            if not factor.is_finite() or factor == 0:
                raise UnitError("unknown_unit", f"unit {text!r} is out of any useful range")
            return target, factor
    expected = " or ".join(repr(t) if t != "1" else "a plain fraction" for t in targets)
    raise UnitError("wrong_dimension", f"{text!r} cannot be converted to {expected}")


@lru_cache(maxsize=64)
def temperature_conversion(text: str, target: str = "degC") -> tuple[Decimal, Decimal]:
    """Affine conversion of a temperature unit: ``value [text] × a + b = value [target]``."""
    units = _parse(text)
    ureg = registry()
    target_units = _parse(target)
    if units.dimensionality != target_units.dimensionality:
        raise UnitError("wrong_dimension", f"{text!r} is not a temperature unit")
    offset = Decimal(ureg.Quantity(Decimal(0), units).to(target_units).magnitude)
    scale = Decimal(ureg.Quantity(Decimal(1), units).to(target_units).magnitude) - offset
    return CONTEXT.plus(scale).normalize(CONTEXT), CONTEXT.plus(offset).normalize(CONTEXT)


def accepted_units() -> dict[str, list[str]]:
    """Accepted spellings by what they measure (every pint expression of a right dimension works too)."""
    return {dimension: list(spellings) for dimension, spellings in ACCEPTED.items()}


def refused_spellings() -> dict[str, str]:
    """Spellings refused as ambiguous, with the hint given to the client."""
    return dict(_AMBIGUOUS)

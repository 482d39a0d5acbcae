"""Reading one activity line: typed, unit-checked field access that records every parameter used.

A method asks the :class:`LineReader` for what it needs (``quantity``, ``fraction``, ``code``…),
passing the methodology's default where there is one. The reader validates the field, converts
it with a cached factor into the unit the method computes in, records the value with its origin
(``measured`` when the line gave it, ``default`` when the methodology supplied it), and on the
first invalid field raises :class:`LineInvalid` carrying the JSON pointer of that field.

A required field that is absent is different: when the reader has a ``missing`` list (the engine
gives it one), the absence is noted there and the method goes on with a stand-in value (0 in the
target unit, the table's first code, no items), so that one answer names every absent field of the line. The
stand-ins never reach a result: a line with a missing field is refused.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, NoReturn, overload

from accounting.errors import FieldError
from accounting.numbers import ONE, ZERO, NumberError, parse_decimal
from accounting.units import UnitError, conversion, temperature_conversion

if TYPE_CHECKING:
    from accounting.methodologies import Factor, Methodology

MEASURED = "measured"
DEFAULT = "default"
#: Most entries accepted in one nested list of a line (substitutes, inputs, outputs).
MAX_ITEMS = 1000
_QUANTITY_KEYS = frozenset({"value", "unit"})


class LineInvalid(Exception):
    """Raised inside a method when a field of the line is invalid; the engine collects it."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(error.detail)
        self.error = error


@dataclass(frozen=True, slots=True)
class Context:
    """What a line may need to know about the calculation it belongs to."""

    year: int | None
    sector: str | None


@dataclass(slots=True)
class Parameter:
    """A value a method used, in the unit it computed in, with its origin and provenance."""

    name: str
    value: Decimal
    unit: str
    origin: str
    factor: Factor | None = None


@dataclass(slots=True)
class Emission:
    """What a method returns: tonnes of each gas, counted and memo."""

    co2: Decimal = ZERO
    biogenic_co2: Decimal = ZERO
    cf4: Decimal | None = None
    c2f6: Decimal | None = None


@dataclass(slots=True)
class Production:
    """What a ``production`` line returns: the product and its quantity in tonnes."""

    product: str
    quantity: Decimal


def escape(key: str) -> str:
    """Escape a key for a JSON pointer (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


@dataclass(slots=True)
class LineReader:
    data: Mapping[str, Any]
    pointer: str
    methodology: Methodology
    context: Context
    parameters: list[Parameter] = field(default_factory=list)
    prefix: str = ""
    uses_defaults: bool = False
    parent: LineReader | None = None
    #: Required fields found absent (see the module docstring); None: the first one raises.
    missing: list[FieldError] | None = None

    # -- errors -------------------------------------------------------------------------------
    def fail(self, key: str, code: str, detail: str, suffix: str = "") -> NoReturn:
        pointer = f"{self.pointer}/{escape(key)}{suffix}" if key else self.pointer
        raise LineInvalid(FieldError(pointer, code, detail))

    def absent(self, key: str, detail: str) -> None:
        """Required field ``key`` is absent: noted in ``missing`` (the caller goes on with a stand-in),
        or raised at once when the reader keeps no such list."""
        error = FieldError(f"{self.pointer}/{escape(key)}", "required", detail)
        if self.missing is None:
            raise LineInvalid(error)
        self.missing.append(error)

    def only(self, allowed: Collection[str]) -> None:
        """Refuse keys of this (nested) object that are not in ``allowed``."""
        for key in self.data:
            if key not in allowed:
                self.fail(
                    key,
                    "unknown_field",
                    f"{key!r} is not a field here; expected {', '.join(sorted(allowed))}",
                )

    def _only_value_and_unit(self, key: str, raw: Mapping[str, Any]) -> None:
        for extra in raw:
            if extra not in _QUANTITY_KEYS:
                self.fail(
                    key, "unknown_field", "a quantity has only 'value' and 'unit'", f"/{escape(str(extra))}"
                )

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def record(self, key: str, value: Decimal, unit: str, factor: Factor | None = None) -> None:
        name = self.prefix + key if self.prefix else key
        if factor is None:
            self.parameters.append(Parameter(name, value, unit, MEASURED, None))
        else:
            self.parameters.append(Parameter(name, value, unit, DEFAULT, factor))
            reader: LineReader | None = self
            while reader is not None:  # a nested object's default is the line's default too
                reader.uses_defaults = True
                reader = reader.parent

    # -- numbers and quantities ---------------------------------------------------------------
    def _number(self, raw: Any, key: str, suffix: str) -> Decimal:
        try:
            return parse_decimal(raw)
        except NumberError as error:
            self.fail(key, error.code, f"{key}: {error.detail}", suffix)

    def _default(self, key: str, default: Factor, targets: tuple[str, ...]) -> tuple[Decimal, str]:
        try:
            unit, factor = conversion(default.unit, targets)
        except UnitError:
            # The default exists but on another basis (e.g. a gas NCV per 10^4 Nm3 for a quantity
            # given in tonnes): the client must give the value or change the basis.
            self.fail(
                key,
                "no_applicable_default",
                f"the {self.methodology.code} default for {key} is in {default.unit}, which does not fit "
                f"this line; give {key} in one of: {', '.join(targets)}",
            )
        value = default.value * factor if factor != ONE else default.value
        self.record(key, value, unit, default)
        return value, unit

    @overload
    def quantity(
        self,
        key: str,
        targets: tuple[str, ...],
        *,
        default: Factor | None = ...,
        required: Literal[True] = ...,
        plain_unit: str | None = ...,
        allow_negative: bool = ...,
        missing: str = ...,
    ) -> tuple[Decimal, str]: ...

    @overload
    def quantity(
        self,
        key: str,
        targets: tuple[str, ...],
        *,
        default: Factor | None = ...,
        required: bool,
        plain_unit: str | None = ...,
        allow_negative: bool = ...,
        missing: str = ...,
    ) -> tuple[Decimal, str] | None: ...

    def quantity(
        self,
        key: str,
        targets: tuple[str, ...],
        *,
        default: Factor | None = None,
        required: bool = True,
        plain_unit: str | None = None,
        allow_negative: bool = False,
        missing: str = "",
    ) -> tuple[Decimal, str] | None:
        """A quantity ``{"value", "unit"}`` converted into the first of ``targets`` of its dimension.

        ``plain_unit``: a bare number is accepted and taken in this unit (``"1"`` for fractions).
        Returns ``(value, target unit)``; a required field (the default) always gives one, an absent
        optional field (``required=False``, no default) gives ``None``.
        """
        raw = self.data.get(key)
        if raw is None:
            if default is not None:
                return self._default(key, default, targets)
            if required:
                self.absent(key, missing or f"{key} is required for this line")
                return ZERO, targets[0]
            return None
        if type(raw) is dict or isinstance(raw, Mapping):
            if len(raw) != 2 or "value" not in raw or "unit" not in raw:
                self._only_value_and_unit(key, raw)
            if "value" not in raw:
                self.fail(key, "required", f"{key}: value is required", "/value")
            value = self._number(raw["value"], key, "/value")
            unit_text = raw.get("unit")
            if not isinstance(unit_text, str):
                self.fail(
                    key, "required", f"{key}: unit is required (a text such as {targets[0]!r})", "/unit"
                )
            try:
                unit, factor = conversion(unit_text, targets)
            except UnitError as error:
                self.fail(key, error.code, f"{key}: {error.detail}", "/unit")
            suffix = "/value"
        elif plain_unit is not None and not isinstance(raw, (list, dict)):
            value = self._number(raw, key, "")
            unit, factor, suffix = plain_unit, ONE, ""
        else:
            self.fail(
                key,
                "unit_required",
                f'{key} needs a value with its unit, e.g. {{"value": "100", "unit": "{targets[0]}"}}',
            )
        if value < 0 and not allow_negative:
            self.fail(key, "negative", f"{key} must not be negative", suffix)
        if factor != ONE:
            value = value * factor
        self.record(key, value, unit)
        return value, unit

    @overload
    def fraction(
        self,
        key: str,
        *,
        default: Factor | None = ...,
        required: Literal[True] = ...,
        upper: Decimal = ...,
        missing: str = ...,
    ) -> Decimal: ...

    @overload
    def fraction(
        self,
        key: str,
        *,
        default: Factor | None = ...,
        required: bool,
        upper: Decimal = ...,
        missing: str = ...,
    ) -> Decimal | None: ...

    def fraction(
        self,
        key: str,
        *,
        default: Factor | None = None,
        required: bool = True,
        upper: Decimal = ONE,
        missing: str = "",
    ) -> Decimal | None:
        """A dimensionless fraction in [0, 1]: ``"0.93"``, ``{"value": "93", "unit": "%"}`` or ``t/t``."""
        found = self.quantity(
            key, ("1",), default=default, required=required, plain_unit="1", missing=missing
        )
        if found is None:
            return None
        value = found[0]
        if value > upper and self.has(key):
            suffix = "/value" if isinstance(self.data.get(key), Mapping) else ""
            self.fail(
                key, "fraction_out_of_range", f"{key} must lie between 0 and {upper} (or 0-100 %)", suffix
            )
        return value

    @overload
    def coefficient(
        self,
        key: str,
        unit: str,
        *,
        default: Factor | None = ...,
        required: Literal[True] = ...,
        missing: str = ...,
    ) -> Decimal: ...

    @overload
    def coefficient(
        self, key: str, unit: str, *, default: Factor | None = ..., required: bool, missing: str = ...
    ) -> Decimal | None: ...

    def coefficient(
        self, key: str, unit: str, *, default: Factor | None = None, required: bool = True, missing: str = ""
    ) -> Decimal | None:
        """A method coefficient in a fixed unit (``unit``): a bare number, or ``{"value", "unit": unit}``.

        Used for values whose units pint cannot express (kg CF4/t Al per AE-minute per cell-day).
        """
        raw = self.data.get(key)
        if raw is None:
            if default is not None:
                self.record(key, default.value, default.unit, default)
                return default.value
            if required:
                self.absent(key, missing or f"{key} is required for this line")
                return ZERO
            return None
        suffix = ""
        if isinstance(raw, Mapping):
            self._only_value_and_unit(key, raw)
            if raw.get("unit") != unit:
                self.fail(key, "wrong_dimension", f"{key} is given in {unit!r}", "/unit")
            raw, suffix = raw.get("value"), "/value"
        elif isinstance(raw, list):
            self.fail(key, "invalid_type", f"{key} must be a number")
        value = self._number(raw, key, suffix)
        if value < 0:
            self.fail(key, "negative", f"{key} must not be negative", suffix)
        self.record(key, value, unit)
        return value

    def temperature(self, key: str) -> Decimal:
        """A temperature in degrees Celsius (``{"value": "90", "unit": "degC"}``; K and degF convert)."""
        raw = self.data.get(key)
        if raw is None:
            self.absent(key, f"{key} is required for this line")
            return ZERO
        if not isinstance(raw, Mapping) or not isinstance(raw.get("unit"), str) or "value" not in raw:
            self.fail(
                key,
                "unit_required",
                f'{key} needs a value with its unit, e.g. {{"value": "90", "unit": "degC"}}',
            )
        self._only_value_and_unit(key, raw)
        value = self._number(raw["value"], key, "/value")
        try:
            scale, offset = temperature_conversion(raw["unit"])
        except UnitError as error:
            self.fail(key, error.code, f"{key}: {error.detail}", "/unit")
        celsius = value * scale + offset
        if celsius < Decimal("-273.15"):
            self.fail(key, "out_of_range", f"{key} is below absolute zero", "/value")
        self.record(key, celsius, "degC")
        return celsius

    # -- codes and choices --------------------------------------------------------------------
    def code(
        self, key: str, known: Mapping[str, Any] | Collection[str], *, what: str, default: str | None = None
    ) -> str:
        """A code from ``known`` (fuel, material, product…); unknown codes are refused with a hint."""
        raw = self.data.get(key)
        if raw is None:
            if default is not None:
                return default
            listing = ", ".join(sorted(known)[:60])
            self.absent(key, f"{key} is required for this line: one of {listing}")
            if not known:
                self.fail(key, "required", f"{key} is required for this line")
            return str(sorted(known)[0])
        if not isinstance(raw, str):
            self.fail(key, "invalid_type", f"{key} must be a text code")
        if raw not in known:
            listing = ", ".join(sorted(known)[:60])
            self.fail(
                key,
                "unknown_code",
                f"unknown {what} {raw[:64]!r} under {self.methodology.code}; known: {listing}",
            )
        return raw

    def label(self, key: str, *, max_length: int = 128) -> str:
        """A free text label (a material in a carbon mass balance)."""
        raw = self.data.get(key)
        if raw is None:
            self.absent(key, f"{key} is required for this line: a text of at most {max_length} characters")
            return key
        if not isinstance(raw, str) or not raw.strip() or len(raw) > max_length:
            self.fail(
                key, "invalid_type", f"{key} must be a non-empty text of at most {max_length} characters"
            )
        return raw

    def direction(self) -> Decimal:
        """+1 for ``consumed`` (the default), -1 for ``exported`` (subtracted from the facility's total)."""
        value = self.code("direction", ("consumed", "exported"), what="direction", default="consumed")
        return ONE if value == "consumed" else -ONE

    # -- nested objects -----------------------------------------------------------------------
    def nested(self, key: str) -> LineReader:
        raw = self.data.get(key)
        if not isinstance(raw, Mapping):
            self.fail(key, "invalid_type", f"{key} must be an object")
        return LineReader(
            raw,
            f"{self.pointer}/{escape(key)}",
            self.methodology,
            self.context,
            self.parameters,
            f"{self.prefix}{key}/",
            parent=self,
            missing=self.missing,
        )

    def items(self, key: str, *, required: bool = True) -> list[LineReader]:
        raw = self.data.get(key)
        if raw is None:
            if required:
                self.absent(key, f"{key} is required for this line: a non-empty list of objects")
            return []
        if not isinstance(raw, list) or (required and not raw):
            self.fail(key, "invalid_type", f"{key} must be a non-empty list of objects")
        if len(raw) > MAX_ITEMS:
            self.fail(key, "too_many_items", f"{key} has more than {MAX_ITEMS} entries")
        readers = []
        for index, item in enumerate(raw):
            if not isinstance(item, Mapping):
                self.fail(key, "invalid_type", f"{key}/{index} must be an object", f"/{index}")
            readers.append(
                LineReader(
                    item,
                    f"{self.pointer}/{escape(key)}/{index}",
                    self.methodology,
                    self.context,
                    self.parameters,
                    f"{self.prefix}{key}/{index}/",
                    parent=self,
                    missing=self.missing,
                )
            )
        return readers

"""The calculation: a methodology and a list of activity lines → per-line results and totals.

:func:`calculate` validates the whole request, collecting every invalid field (each with its
JSON pointer) before it gives up, so a client can fix a file in one round. Figures are exact
Decimals; :meth:`Calculation.as_json` presents them (6 decimals for tonnes) with the
methodology's rounded reporting figures beside them.
"""

from __future__ import annotations

import difflib
import gc
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from accounting import methodologies
from accounting import uncertainty as propagation
from accounting.errors import FieldError, InvalidInput, UnknownMethodology
from accounting.fields import UNIT_MAX_LENGTH, UNIT_PATTERN
from accounting.lines import Context, Emission, LineInvalid, LineReader, Parameter, Production, escape
from accounting.methodologies import GASES, Methodology
from accounting.numbers import CONTEXT, INTENSITY_PLACES, ZERO, NumberError, parse_decimal, present, round_to
from accounting.registry import CATEGORIES, DIRECT_CATEGORIES
from accounting.uncertainty import Stated

SECTORS = ("cement", "steel", "aluminium")
#: Most lines in one calculation (a facility-year of monthly lines for ~800 sources).
MAX_LINES = 10_000
#: Most errors reported for one request; the rest are summarised.
MAX_ERRORS = 200
MAX_REF_LENGTH = 64
TOP_LEVEL_FIELDS = frozenset({"methodology", "methodology_version", "sector", "year", "lines"})
_UNIT = re.compile(UNIT_PATTERN)


@dataclass(slots=True)
class LineResult:
    """The result of one activity line. Figures are exact; ``as_json`` presents them."""

    ref: str
    source: str
    month: int | None
    method: str
    category: str | None
    gases: dict[str, Decimal]
    co2e: Decimal
    biogenic_co2: Decimal
    parameters: list[Parameter]
    uses_defaults: bool = False
    product: str | None = None
    production: Decimal | None = None
    #: The uncertainty the line states (None: it states none).
    uncertainty: Stated | None = None
    #: The production unit the line belongs to (``unit`` of the line), if any.
    unit: str | None = None

    def as_json(self) -> dict[str, Any]:
        parameters: dict[str, Any] = {}
        for p in self.parameters:
            entry: dict[str, Any] = {"value": p.value, "unit": p.unit, "origin": p.origin}
            if p.factor is not None:
                entry["source"] = p.factor.citation
                entry["table"] = p.factor.table
                entry["confidence"] = p.factor.confidence
            parameters[p.name] = entry
        body: dict[str, Any] = {
            "ref": self.ref,
            "source": self.source,
            "month": self.month,
            "method": self.method,
            "category": self.category,
            "gases": {gas: present(value) for gas, value in self.gases.items()},
            "co2e": present(self.co2e),
            "biogenic_co2": present(self.biogenic_co2),
            "origin": "default" if self.uses_defaults else "measured",
            "parameters": parameters,
        }
        if self.product is not None:
            body["product"] = self.product
            body["quantity"] = present(self.production or ZERO)
        if self.uncertainty is not None:
            body["uncertainty_percent"] = self.uncertainty.shown
            body["uncertainty"] = self.uncertainty.as_json()
        if self.unit is not None:
            body["unit"] = self.unit
        return body


@dataclass(slots=True)
class UnitTotals:
    """The figures of one production unit: its lines' emissions and production.

    Intensity of a unit (decision): the unit's direct emissions (combustion + process, tCO2e) divided by
    the unit's production of the calculation's intensity product (clinker t for cement, crude steel t
    for steel, liquid aluminium t for aluminium: the methodology's ``[products]``); none when the unit
    produced none of it. Indirect emissions are given beside it but are not in the intensity.
    """

    by_category: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, ZERO))
    produced: dict[str, Decimal] = field(default_factory=dict)
    lines: int = 0

    @property
    def direct(self) -> Decimal:
        return sum((self.by_category[c] for c in CATEGORIES if c in DIRECT_CATEGORIES), ZERO)

    @property
    def indirect(self) -> Decimal:
        return sum((self.by_category[c] for c in CATEGORIES if c not in DIRECT_CATEGORIES), ZERO)

    def as_json(self, product: str | None) -> dict[str, Any]:
        production = self.produced.get(product, ZERO) if product is not None else ZERO
        intensity = None
        if product is not None and production > ZERO:
            intensity = {
                "product": product,
                "production": present(production),
                "direct": present(self.direct / production, INTENSITY_PLACES),
            }
        return {
            "lines": self.lines,
            "direct": present(self.direct),
            "indirect": present(self.indirect),
            "total": present(self.direct + self.indirect),
            "by_category": {c: present(v) for c, v in self.by_category.items()},
            "production": {p: present(v) for p, v in sorted(self.produced.items())},
            "intensity": intensity,
        }


@dataclass(slots=True)
class Totals:
    by_category: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, ZERO))
    by_gas: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(GASES, ZERO))
    biogenic_co2: Decimal = ZERO
    default_co2e: Decimal = ZERO

    @property
    def direct(self) -> Decimal:
        return sum((self.by_category[c] for c in CATEGORIES if c in DIRECT_CATEGORIES), ZERO)

    @property
    def indirect(self) -> Decimal:
        return sum((self.by_category[c] for c in CATEGORIES if c not in DIRECT_CATEGORIES), ZERO)

    @property
    def total(self) -> Decimal:
        return self.direct + self.indirect


@dataclass(slots=True)
class Calculation:
    """Everything a calculation produced, exact."""

    methodology: Methodology
    sector: str | None
    year: int | None
    lines: list[LineResult]
    totals: Totals
    intensity_product: str | None
    production: Decimal
    #: Whether any line states an uncertainty (the totals then carry theirs).
    has_uncertainty: bool = False
    #: Figures per production unit (lines that name a ``unit``), in order of first appearance.
    units: dict[str, UnitTotals] = field(default_factory=dict)

    def units_json(self) -> dict[str, Any]:
        """Per production unit: emissions, production and the unit's direct intensity (see :class:`UnitTotals`)."""
        return {name: figures.as_json(self.intensity_product) for name, figures in self.units.items()}

    def intensity(self) -> dict[str, Any] | None:
        if self.intensity_product is None or self.production <= ZERO:
            return None
        return {
            "product": self.intensity_product,
            "production": present(self.production),
            "direct": present(self.totals.direct / self.production, INTENSITY_PLACES),
            "total": present(self.totals.total / self.production, INTENSITY_PLACES),
        }

    def uncertainty_json(self) -> dict[str, Any] | None:
        """The totals' uncertainty (IPCC 2006 Vol. 1 Eq. 3.1 over the lines; :mod:`accounting.uncertainty`),
        or None when no line states one. Lines that state none count as exact (0 %)."""
        if not self.has_uncertainty:
            return None
        variance = dict.fromkeys(CATEGORIES, ZERO)  # Σ (U_i × x_i)² by category [%²·t²]
        covered = every = ZERO
        stated = emitting = 0
        for line in self.lines:
            if line.category is None:
                continue
            emitting += 1
            every += abs(line.co2e)
            if line.uncertainty is not None:
                stated += 1
                covered += abs(line.co2e)
                variance[line.category] += propagation.variance_term(line.uncertainty.squared, line.co2e)
        by_category = self.totals.by_category

        def percent(categories: tuple[str, ...]) -> Decimal | None:
            found = propagation.percent_of_sum(
                sum((variance[c] for c in categories), ZERO), sum((by_category[c] for c in categories), ZERO)
            )
            return None if found is None else present(found, propagation.PLACES)

        direct = tuple(c for c in CATEGORIES if c in DIRECT_CATEGORIES)
        indirect = tuple(c for c in CATEGORIES if c not in DIRECT_CATEGORIES)
        return {
            "direct_percent": percent(direct),
            "indirect_percent": percent(indirect),
            "total_percent": percent(CATEGORIES),
            "by_category": {c: percent((c,)) for c in CATEGORIES},
            "coverage": {
                "lines": stated,
                "emission_lines": emitting,
                "co2e_share": present(covered / every, INTENSITY_PLACES) if every else ZERO,
            },
            "lines_without_uncertainty": propagation.WITHOUT,
            "method": propagation.METHOD,
        }

    def totals_json(self) -> dict[str, Any]:
        t = self.totals
        places, mode = self.methodology.rounding_places, self.methodology.rounding_mode
        exact = {"direct": t.direct, "indirect": t.indirect, "total": t.total}
        body = {
            **{name: present(value) for name, value in exact.items()},
            "co2e": present(t.total),
            "by_category": {c: present(v) for c, v in t.by_category.items()},
            "by_gas": {g: present(v) for g, v in t.by_gas.items()},
            "biogenic_co2": present(t.biogenic_co2),
            "default_share": present(t.default_co2e / t.total, INTENSITY_PLACES) if t.total > ZERO else ZERO,
            "reported": {
                **{name: round_to(value, places, mode) for name, value in exact.items()},
                "co2e": round_to(t.total, places, mode),
                "by_category": {c: round_to(v, places, mode) for c, v in t.by_category.items()},
                "biogenic_co2": round_to(t.biogenic_co2, places, mode),
                "rounding": {"places": places, "mode": mode},
            },
        }
        spread = self.uncertainty_json()
        if spread is not None:
            body["uncertainty_percent"] = spread["total_percent"]
            body["uncertainty"] = spread
        return body

    def as_summary(self) -> dict[str, Any]:
        """Everything but the lines: methodology, totals and intensity."""
        with localcontext(CONTEXT):
            return {
                "methodology": self.methodology.code,
                "methodology_version": self.methodology.version,
                "gwp": self.methodology.gwp_set,
                "totals": self.totals_json(),
                "intensity": self.intensity(),
                "units": self.units_json(),
            }

    def as_json(self) -> dict[str, Any]:
        with localcontext(CONTEXT), _cyclic_gc_paused(len(self.lines) >= GC_PAUSE_LINES):
            return {
                "methodology": self.methodology.code,
                "methodology_version": self.methodology.version,
                "gwp": self.methodology.gwp_set,
                "sector": self.sector,
                "year": self.year,
                "lines": [line.as_json() for line in self.lines],
                "totals": self.totals_json(),
                "intensity": self.intensity(),
                "units": self.units_json(),
            }


def _integer(raw: Any, pointer: str, low: int, high: int, errors: list[FieldError]) -> int | None:
    try:
        value = parse_decimal(raw)
    except NumberError as error:
        errors.append(FieldError(pointer, error.code, error.detail))
        return None
    if value != value.to_integral_value() or not low <= value <= high:
        errors.append(FieldError(pointer, "out_of_range", f"must be a whole number from {low} to {high}"))
        return None
    return int(value)


def _header(
    payload: Any, errors: list[FieldError], allow_empty: bool = False
) -> tuple[Methodology | None, str | None, int | None, Any]:
    if not isinstance(payload, Mapping):
        raise InvalidInput(
            "the body must be a JSON object", [FieldError("", "invalid_type", "expected an object")]
        )
    for key in payload:
        if key not in TOP_LEVEL_FIELDS:
            errors.append(
                FieldError(
                    f"/{escape(str(key))}",
                    "unknown_field",
                    f"{key!r} is not a field; expected {', '.join(sorted(TOP_LEVEL_FIELDS))}",
                )
            )
    methodology = None
    code = payload.get("methodology") or methodologies.DEFAULT_CODE
    version = payload.get("methodology_version")
    if not isinstance(code, str):
        errors.append(FieldError("/methodology", "invalid_type", "methodology must be a code"))
    elif version is not None and not isinstance(version, str):
        errors.append(
            FieldError("/methodology_version", "invalid_type", "methodology_version must be a string")
        )
    else:
        try:
            methodology = methodologies.get(code)
        except UnknownMethodology as error:
            errors.append(FieldError("/methodology", error.code, error.detail))
        else:
            if version is not None:
                try:
                    methodology = methodologies.get(code, version)
                except UnknownMethodology as error:
                    methodology = None
                    errors.append(FieldError("/methodology_version", error.code, error.detail))
    sector = payload.get("sector")
    if sector is not None and sector not in SECTORS:
        errors.append(FieldError("/sector", "unknown_code", f"sector must be one of {', '.join(SECTORS)}"))
        sector = None
    year = payload.get("year")
    if year is not None:
        year = _integer(year, "/year", 1990, 2100, errors)
    lines = payload.get("lines")
    if allow_empty and lines is None:
        lines = []
    if not isinstance(lines, list) or not (lines or allow_empty):
        errors.append(FieldError("/lines", "required", "lines must be a non-empty list of activity lines"))
        lines = None
    elif len(lines) > MAX_LINES:
        errors.append(FieldError("/lines", "too_many_items", f"at most {MAX_LINES} lines per calculation"))
        lines = None
    return methodology, sector, year, lines


def calculate(payload: Mapping[str, Any], *, allow_empty: bool = False) -> Calculation:
    """Calculate emissions for ``{methodology?, sector?, year?, lines: [...]}`` (SPEC §4).

    ``allow_empty``: no lines (absent or ``[]``) is a calculation with zero totals (a report's draft
    before its lines are imported), not an error. Raises :class:`~accounting.errors.InvalidInput`
    listing every invalid field.
    """
    errors: list[FieldError] = []
    methodology, sector, year, lines = _header(payload, errors, allow_empty)
    if methodology is None or lines is None:
        raise InvalidInput("the request is invalid", errors)
    with localcontext(CONTEXT), _cyclic_gc_paused(len(lines) >= GC_PAUSE_LINES):
        return _calculate(methodology, sector, year, lines, errors)


#: From this many lines on, the cyclic garbage collector is paused during the calculation.
GC_PAUSE_LINES = 1_000


@contextmanager
def _cyclic_gc_paused(pause: bool) -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while a large batch is calculated.

    A calculation allocates a few small objects per line and creates no reference cycles (reference
    counting frees everything), yet the collector would rescan the growing results again and again:
    a quarter of a 10,000-line calculation's time, and a third of presenting it (:meth:`Calculation.as_json`
    builds a few dicts per line). The collector is restored as it was, whatever happens.
    """
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _calculate(
    methodology: Methodology,
    sector: str | None,
    year: int | None,
    lines: Sequence[Any],
    errors: list[FieldError],
) -> Calculation:
    context = Context(year=year, sector=sector)
    methods = methodology.methods
    gwp_cf4, gwp_c2f6 = methodology.gwp["CF4"], methodology.gwp["C2F6"]
    results: list[LineResult] = []
    refs: set[str] = set()
    totals = Totals()
    by_category, by_gas = totals.by_category, totals.by_gas
    produced: dict[str, Decimal] = {}
    has_uncertainty = False
    units: dict[str, UnitTotals] = {}

    for index, line in enumerate(lines):
        pointer = f"/lines/{index}"
        if len(errors) >= MAX_ERRORS:
            break
        if type(line) is not dict and not isinstance(line, Mapping):
            errors.append(FieldError(pointer, "invalid_type", "an activity line must be an object"))
            continue
        source = line.get("source")
        found = methods.get(source) if isinstance(source, str) else None
        if found is None:
            errors.append(
                FieldError(
                    f"{pointer}/source",
                    "unknown_source",
                    f"source must be one of {', '.join(sorted(methods))}",
                )
            )
            continue
        allowed = found.allowed_fields
        if not allowed.issuperset(line):
            errors.extend(
                _unknown_field(pointer, key, found.kind, allowed) for key in line if key not in allowed
            )
            continue
        ref = line.get("ref")
        if ref is not None and (not isinstance(ref, str) or not ref or len(ref) > MAX_REF_LENGTH):
            errors.append(
                FieldError(
                    f"{pointer}/ref",
                    "invalid_type",
                    f"ref must be a non-empty text of at most {MAX_REF_LENGTH} characters",
                )
            )
            continue
        if ref is not None:
            if ref in refs:
                errors.append(
                    FieldError(f"{pointer}/ref", "duplicate", f"ref {ref!r} is used by an earlier line")
                )
                continue
            refs.add(ref)
        month = line.get("month")
        if month is not None:
            month = _integer(month, f"{pointer}/month", 1, 12, errors)
            if month is None:
                continue
        stated: Stated | None = None
        raw_uncertainty = line.get("uncertainty")
        if raw_uncertainty is not None:  # only emission lines allow the field (registry.EMISSION_FIELDS)
            stated = propagation.read(raw_uncertainty, f"{pointer}/uncertainty", found.kind, errors)
        unit = line.get("unit")
        if unit is not None and (
            not isinstance(unit, str) or len(unit) > UNIT_MAX_LENGTH or not _UNIT.match(unit)
        ):
            errors.append(
                FieldError(
                    f"{pointer}/unit",
                    "invalid_type",
                    f"unit must be a production unit code: letters, digits, '_', '.', '-', at most "
                    f"{UNIT_MAX_LENGTH} characters, starting with a letter or digit",
                )
            )
            continue
        reader = LineReader(line, pointer, methodology, context, [], missing=[])
        try:
            outcome = found.function(reader, methodology)
        except LineInvalid as invalid:
            errors.extend(_line_errors(reader.missing, invalid.error))
            continue
        except Exception:
            # a method that went on with stand-ins for absent fields may fail on them: those are the errors
            if not reader.missing:
                raise
            errors.extend(reader.missing)
            continue
        if reader.missing:
            errors.extend(reader.missing)
            continue
        if errors:
            continue  # keep validating, but results are no longer needed
        parameters = reader.parameters
        result = LineResult(
            ref or "",
            found.kind,
            month,
            found.variant,
            found.category,
            {},
            ZERO,
            ZERO,
            parameters,
            reader.uses_defaults,
        )
        if stated is not None:
            result.uncertainty = stated
            has_uncertainty = True
        figures = None
        if unit is not None:
            result.unit = unit
            figures = units.get(unit)
            if figures is None:
                figures = units[unit] = UnitTotals()
            figures.lines += 1
        if isinstance(outcome, Production):
            result.product, result.production = outcome.product, outcome.quantity
            produced[outcome.product] = produced.get(outcome.product, ZERO) + outcome.quantity
            if figures is not None:
                figures.produced[outcome.product] = (
                    figures.produced.get(outcome.product, ZERO) + outcome.quantity
                )
        else:
            _account(result, outcome, gwp_cf4, gwp_c2f6)
            category = found.category
            assert category is not None
            by_category[category] += result.co2e
            for gas, value in result.gases.items():
                by_gas[gas] += value
            totals.biogenic_co2 += result.biogenic_co2
            if result.uses_defaults:
                totals.default_co2e += result.co2e
            if figures is not None:
                figures.by_category[category] += result.co2e
        results.append(result)

    if errors:
        if len(errors) >= MAX_ERRORS:
            errors.append(
                FieldError("/lines", "too_many_errors", f"validation stopped after {MAX_ERRORS} errors")
            )
        raise InvalidInput(f"{len(errors)} invalid field(s)", errors)
    _assign_refs(results, refs)
    product = _intensity_product(methodology, sector, produced)
    return Calculation(
        methodology,
        sector,
        year,
        results,
        totals,
        product,
        produced.get(product, ZERO) if product else ZERO,
        has_uncertainty,
        units,
    )


def _unknown_field(pointer: str, key: Any, source: str, allowed: frozenset[str]) -> FieldError:
    """``key`` is not a field of a ``source`` line: the error lists the fields it has (and the nearest)."""
    name = str(key)
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.7)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return FieldError(
        f"{pointer}/{escape(name)}",
        "unknown_field",
        f"{name[:64]!r} is not a field of {source} lines; {hint}their fields are: {', '.join(sorted(allowed))}",
    )


def _line_errors(missing: list[FieldError] | None, error: FieldError) -> list[FieldError]:
    """The errors of a line the method refused with ``error``, once every absent field was noted.

    After the first absent field the method runs on stand-in values, so a later refusal may be an
    effect of a stand-in: only a refusal for another absent field (code ``required``) is kept.
    """
    if not missing:
        return [error]
    if error.code == "required" and all(error.pointer != found.pointer for found in missing):
        return [*missing, error]
    return list(missing)


def _account(result: LineResult, emission: Emission, gwp_cf4: Decimal, gwp_c2f6: Decimal) -> None:
    result.gases["CO2"] = emission.co2
    co2e = emission.co2
    if emission.cf4 is not None:
        result.gases["CF4"] = emission.cf4
        co2e += emission.cf4 * gwp_cf4
    if emission.c2f6 is not None:
        result.gases["C2F6"] = emission.c2f6
        co2e += emission.c2f6 * gwp_c2f6
    result.co2e = co2e
    result.biogenic_co2 = emission.biogenic_co2


def _assign_refs(results: list[LineResult], taken: set[str]) -> None:
    """Give lines without a ``ref`` one (``line-N``, N counted from 1), never reusing a given ref."""
    for number, result in enumerate(results, start=1):
        if not result.ref:
            candidate, suffix = f"line-{number}", 1
            while candidate in taken:
                suffix += 1
                candidate = f"line-{number}-{suffix}"
            taken.add(candidate)
            result.ref = candidate


def _intensity_product(
    methodology: Methodology, sector: str | None, produced: Mapping[str, Decimal]
) -> str | None:
    """The sector's product (clinker, crude steel, liquid aluminium), or the one such product the lines name."""
    if sector is not None:
        return methodology.product_for(sector)
    candidates = [p for p in methodology.section("products").values() if p in produced]
    return candidates[0] if len(candidates) == 1 else None

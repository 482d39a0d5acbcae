"""CBAM embedded emissions of goods (Regulation (EU) 2023/956, definitive period from 2026). Pure: no Django.

:func:`embedded_emissions` takes ``{installation, year, methodology?, methodology_version?, processes: [...]}``
(SPEC §9) and returns, per production process, the attributed emissions, the activity level and the
specific embedded emissions (SEE) of its goods, direct and indirect, recursive through the precursors the
installation makes itself:

.. math::

    AttrEm_{dir} = \\max(0,\\ DirEm + Em_{H,imp} - Em_{H,exp} - WG_{exp} - Em_{el,prod})

    AttrEm_{indir} = E_{el,cons} \\cdot EF_{el}

    SEE_g = (AttrEm_g + \\sum_i M_i \\cdot SEE_i) / AL_g   \\quad (direct and indirect separately)

References: Implementing Regulation (EU) 2025/2547 Annex I (goods, precursors) and the attribution rules
it sets (equation forms as reproduced in the domain notes EU-CBAM.md section 3). ``DirEm`` is the direct
total (combustion + process, CO2e) of the process's activity lines, calculated by :mod:`accounting.engine`
under ``eu-mrr-2018`` (the monitoring rules CBAM refers to) unless the request names another methodology.

Every invalid field is reported with its JSON pointer (:class:`~accounting.errors.InvalidInput`), a cycle of
precursor processes included. Figures are exact Decimals; SEE is reported to 5 decimals (half up) beside the
exact figure, attributed emissions to whole tonnes beside the exact figure.

Default values: the goods table ships in ``accounting/data/cbam.toml``; a default SEE is used (for a
precursor without actual values) or shown (beside a good's actual SEE, with the year's mark-up) only when
its entry there is verified. None is today: the notes give third-party, pre-correction figures only.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import cache
from importlib import resources
from typing import Any

from accounting import methodologies
from accounting.engine import Calculation, calculate
from accounting.errors import FieldError, InvalidInput, MethodologyDataError, UnknownMethodology
from accounting.lines import Context, LineInvalid, LineReader, escape
from accounting.methodologies import Factor, Methodology
from accounting.numbers import CONTEXT, INTENSITY_PLACES, ONE, ZERO, NumberError, parse_decimal, present

#: The monitoring rules CBAM refers to: the lines of a process are calculated under this methodology.
DEFAULT_METHODOLOGY = "eu-mrr-2018"
#: SEE is reported to this many decimals (2025/2547: at most 5), rounded half up.
SEE_PLACES = 5
#: Attributed emissions are reported in whole tonnes, rounded half up.
EMISSION_PLACES = 0
MAX_PROCESSES = 100
MAX_ITEMS = 1000
MAX_REF_LENGTH = 64
MAX_NAME_LENGTH = 200
ELECTRICITY_BASES = ("grid_default", "supplier", "ppa")
PRECURSOR_BASES = ("actual", "default")
#: Line kinds that are not direct emissions of a process: CBAM takes them from ``electricity`` and ``heat``.
INDIRECT_SOURCES = ("electricity", "heat")

TOP_LEVEL_FIELDS = frozenset({"installation", "year", "methodology", "methodology_version", "processes"})
INSTALLATION_FIELDS = frozenset({"name", "country", "unlocode", "address"})
PROCESS_FIELDS = frozenset(
    {"ref", "category", "route", "lines", "heat", "waste_gases", "electricity", "goods", "precursors"}
)
GOOD_FIELDS = frozenset({"cn_code", "quantity"})
PRECURSOR_FIELDS = frozenset(
    {"cn_code", "quantity", "country", "see_direct", "see_indirect", "process", "basis"}
)
ELECTRICITY_FIELDS = frozenset({"consumed", "emission_factor", "basis", "produced_emissions"})
HEAT_FIELDS = frozenset({"imported", "exported"})
HEAT_FLOW_FIELDS = frozenset({"quantity", "emission_factor"})
WASTE_GAS_FIELDS = frozenset({"exported"})
WASTE_GAS_FLOW_FIELDS = frozenset({"quantity", "ncv", "emission_factor", "correction"})

_COUNTRY = re.compile(r"[A-Z]{2}")
_UNLOCODE = re.compile(r"[A-Z]{2} ?[A-Z2-9]{3}")
_CN_CODE = re.compile(r"[0-9]{8}")
HUNDRED = Decimal(100)


# -- the goods table, default values and mark-ups (accounting/data/cbam.toml) ------------------------------
@dataclass(frozen=True, slots=True)
class Category:
    """An aggregated goods category (2025/2547 Annex I)."""

    code: str
    label: str
    sector: str
    cn_prefixes: tuple[str, ...]
    indirect_counted: bool
    precursors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DefaultValue:
    """A verified default SEE (tCO2e/t) for goods of a CN code (prefix) from a country, before mark-up."""

    country: str
    cn_prefix: str
    see_direct: Decimal
    see_indirect: Decimal
    source: str
    confidence: str
    what: str = ""


@dataclass(frozen=True, slots=True)
class Markup:
    """The mark-up on default values from ``from_year`` on (percent)."""

    from_year: int
    percent: Decimal
    source: str
    confidence: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The goods table with the default values a calculation may use (verified ones only)."""

    categories: Mapping[str, Category]
    defaults: tuple[DefaultValue, ...]
    markups: tuple[Markup, ...]
    waste_gas_correction: Factor
    #: Candidate default values found but not verified (never used; listed for transparency).
    unverified_defaults: int = 0

    def category_of(self, cn_code: str) -> Category | None:
        """The category whose CN prefix ``cn_code`` starts with (the longest prefix wins)."""
        best: Category | None = None
        length = 0
        for category in self.categories.values():
            for prefix in category.cn_prefixes:
                if cn_code.startswith(prefix) and len(prefix) > length:
                    best, length = category, len(prefix)
        return best

    def default_for(self, cn_code: str, country: str) -> DefaultValue | None:
        """The verified default value for ``cn_code`` from ``country`` (the longest CN prefix), or None."""
        found = [d for d in self.defaults if d.country == country and cn_code.startswith(d.cn_prefix)]
        return max(found, key=lambda d: len(d.cn_prefix)) if found else None

    def markup_for(self, year: int) -> Markup | None:
        """The mark-up that applies to default values in ``year`` (None before the first)."""
        applicable = [m for m in self.markups if m.from_year <= year]
        return max(applicable, key=lambda m: m.from_year) if applicable else None


def _load_catalogue(text: str) -> Catalogue:
    data = tomllib.loads(text)
    sources: Mapping[str, str] = data.get("sources", {})
    categories: dict[str, Category] = {}
    for code, entry in data["categories"].items():
        categories[code] = Category(
            code,
            str(entry["label"]),
            str(entry["sector"]),
            tuple(str(p) for p in entry["cn"]),
            bool(entry["indirect"]),
            tuple(str(p) for p in entry["precursors"]),
        )
    for category in categories.values():
        unknown = [p for p in category.precursors if p not in categories]
        if unknown:
            raise MethodologyDataError(f"cbam.toml: {category.code} names unknown precursors {unknown}")
    defaults: list[DefaultValue] = []
    unverified = 0
    for entry in data.get("defaults", []):
        if entry.get("verified") is not True:
            unverified += 1
            continue
        if "see_direct" not in entry or "see_indirect" not in entry or entry.get("source") not in sources:
            raise MethodologyDataError(
                f"cbam.toml: a verified default needs see_direct, see_indirect and a known source: {entry}"
            )
        defaults.append(
            DefaultValue(
                str(entry["country"]),
                str(entry["cn"]),
                Decimal(str(entry["see_direct"])),
                Decimal(str(entry["see_indirect"])),
                sources[entry["source"]],
                str(entry.get("confidence", "")),
                str(entry.get("what", "")),
            )
        )
    markups = tuple(
        Markup(int(m["from_year"]), Decimal(str(m["percent"])), sources[m["source"]], str(m["confidence"]))
        for m in data.get("markup", [])
    )
    correction = data["waste_gas"]["correction"]
    factor = Factor(
        Decimal(str(correction["value"])),
        "1",
        str(correction["source"]),
        sources[correction["source"]],
        "exported waste gas: efficiency correction of natural gas use",
        str(correction["confidence"]),
    )
    return Catalogue(categories, tuple(defaults), markups, factor, unverified)


@cache
def catalogue() -> Catalogue:
    """The shipped goods table (loaded once)."""
    text = resources.files("accounting.data").joinpath("cbam.toml").read_text(encoding="utf-8")
    return _load_catalogue(text)


# -- formulas: functions of numbers ---------------------------------------------------------------------------
def heat_emissions(*, heat_gj: Decimal, emission_factor: Decimal) -> Decimal:
    """Emissions attributed to a measurable heat flow: ``Em_heat = EF_heat × Q`` [t CO2]; Q [GJ],
    EF_heat [tCO2/GJ]. Reference: 2025/2547, attribution of heat flows (EU-CBAM.md §3)."""
    return emission_factor * heat_gj


def waste_gas_exported_emissions(
    *, energy_gj: Decimal, natural_gas_factor: Decimal, correction: Decimal
) -> Decimal:
    """Emissions deducted for an exported waste gas: ``WG_exp = V × NCV × EF_NG × Corr_η`` [t CO2]; V × NCV
    the gas's energy [GJ], EF_NG [tCO2/GJ], Corr_η = 0.667 by default (EU-CBAM.md §3, equation form [3P])."""
    return energy_gj * natural_gas_factor * correction


def attributed_direct_emissions(
    *,
    direct_emissions: Decimal,
    heat_imported: Decimal,
    heat_exported: Decimal,
    waste_gases_exported: Decimal,
    electricity_produced: Decimal,
) -> Decimal:
    """``AttrEm_dir = DirEm + Em_H,imp − Em_H,exp − WG_exp − Em_el,prod``, not below 0 [t CO2e]."""
    value = direct_emissions + heat_imported - heat_exported - waste_gases_exported - electricity_produced
    return value if value > ZERO else ZERO


def attributed_indirect_emissions(*, electricity_mwh: Decimal, emission_factor: Decimal) -> Decimal:
    """``AttrEm_indir = E_el,consumed × EF_el`` [t CO2]; E [MWh], EF [tCO2/MWh]."""
    return electricity_mwh * emission_factor


def specific_embedded_emissions(
    *, attributed: Decimal, precursors: Sequence[tuple[Decimal, Decimal]], activity_level: Decimal
) -> Decimal:
    """``SEE = (AttrEm + Σ M_i × SEE_i) / AL`` [tCO2e/t]; ``precursors`` as ``(M_i [t], SEE_i [tCO2e/t])``,
    AL [t] the goods leaving the process. Applied to direct and to indirect emissions separately."""
    embedded = attributed + sum((mass * see for mass, see in precursors), ZERO)
    return embedded / activity_level


# -- the parsed request -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Installation:
    name: str
    country: str
    unlocode: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Good:
    cn_code: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Precursor:
    pointer: str
    cn_code: str
    category: Category
    quantity: Decimal
    country: str
    see_direct: Decimal | None = None
    see_indirect: Decimal | None = None
    process: str | None = None
    basis: str = "actual"


@dataclass(frozen=True, slots=True)
class Electricity:
    consumed_mwh: Decimal
    emission_factor: Decimal
    basis: str
    produced_emissions: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Process:
    pointer: str
    ref: str
    category: Category
    route: str | None
    calculation: Calculation
    goods: tuple[Good, ...]
    precursors: tuple[Precursor, ...]
    electricity: Electricity | None
    heat_imported: Decimal = ZERO
    heat_exported: Decimal = ZERO
    waste_gases_exported: Decimal = ZERO

    @property
    def activity_level(self) -> Decimal:
        return sum((good.quantity for good in self.goods), ZERO)


@dataclass(frozen=True, slots=True)
class Request:
    installation: Installation
    year: int
    methodology: Methodology
    processes: tuple[Process, ...]


# -- results --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PrecursorResult:
    precursor: Precursor
    see_direct: Decimal
    see_indirect: Decimal
    #: ``actual`` (given, or from a process of this installation) or ``default``.
    basis: str
    #: ``process`` (made here), ``given`` (from the request) or ``default_value`` (the shipped table).
    origin: str
    default: DefaultValue | None = None
    markup: Markup | None = None
    default_share: Decimal = ZERO

    @property
    def embedded_direct(self) -> Decimal:
        return self.precursor.quantity * self.see_direct

    @property
    def embedded_indirect(self) -> Decimal:
        return self.precursor.quantity * self.see_indirect


@dataclass(slots=True)
class ProcessResult:
    process: Process
    attributed_direct: Decimal
    attributed_indirect: Decimal
    precursors: list[PrecursorResult]
    see_direct: Decimal
    see_indirect: Decimal
    default_share: Decimal
    heat_imported: Decimal = ZERO
    heat_exported: Decimal = ZERO
    goods_defaults: dict[str, tuple[DefaultValue, Markup | None]] = field(default_factory=dict)

    @property
    def indirect_counted(self) -> bool:
        return self.process.category.indirect_counted

    @property
    def see_total(self) -> Decimal:
        """Direct, plus indirect where the category counts it (cement goods in the definitive period)."""
        return self.see_direct + (self.see_indirect if self.indirect_counted else ZERO)


def _see(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-SEE_PLACES), rounding=ROUND_HALF_UP, context=CONTEXT)


def _tonnes(value: Decimal) -> Decimal:
    rounded = value.quantize(ONE, rounding=ROUND_HALF_UP, context=CONTEXT)
    return abs(rounded) if rounded.is_zero() else rounded


def _exact(value: Decimal) -> Decimal:
    return present(value, INTENSITY_PLACES)


def _default_json(default: DefaultValue, markup: Markup | None, indirect_counted: bool) -> dict[str, Any]:
    total = default.see_direct + (default.see_indirect if indirect_counted else ZERO)
    factor = ONE + (markup.percent / HUNDRED if markup else ZERO)
    return {
        "see_direct": default.see_direct,
        "see_indirect": default.see_indirect,
        "see_total": total,
        "markup_percent": markup.percent if markup else ZERO,
        "markup_source": markup.source if markup else None,
        "see_total_with_markup": _exact(total * factor),
        "source": default.source,
        "confidence": default.confidence,
    }


@dataclass(slots=True)
class Result:
    request: Request
    processes: list[ProcessResult]
    catalogue: Catalogue

    def as_json(self) -> dict[str, Any]:
        with localcontext(CONTEXT):
            request = self.request
            methodology = request.methodology
            installation = request.installation
            return {
                "installation": {
                    "name": installation.name,
                    "country": installation.country,
                    "unlocode": installation.unlocode,
                    "address": installation.address,
                },
                "year": request.year,
                "period": {"start": f"{request.year}-01-01", "end": f"{request.year}-12-31"},
                "methodology": methodology.code,
                "methodology_version": methodology.version,
                "rounding": {
                    "see_places": SEE_PLACES,
                    "emissions_places": EMISSION_PLACES,
                    "mode": "half_up",
                },
                "defaults_shipped": len(self.catalogue.defaults),
                "processes": [self._process_json(result) for result in self.processes],
            }

    def _process_json(self, result: ProcessResult) -> dict[str, Any]:
        process = result.process
        calculation = process.calculation
        totals = calculation.totals
        direct = totals.direct
        electricity = process.electricity
        al = process.activity_level
        embedded_direct = result.see_direct * al
        embedded_indirect = result.see_indirect * al
        reported = {
            "see_direct": _see(result.see_direct),
            "see_indirect": _see(result.see_indirect),
            "see_total": _see(result.see_total),
            "attributed_direct": _tonnes(result.attributed_direct),
            "attributed_indirect": _tonnes(result.attributed_indirect),
        }
        goods = []
        for good in process.goods:
            found = result.goods_defaults.get(good.cn_code)
            goods.append(
                {
                    "cn_code": good.cn_code,
                    "quantity": present(good.quantity),
                    "see_direct": _exact(result.see_direct),
                    "see_indirect": _exact(result.see_indirect),
                    "see_total": _exact(result.see_total),
                    "reported": {k: reported[k] for k in ("see_direct", "see_indirect", "see_total")},
                    "default": _default_json(found[0], found[1], result.indirect_counted) if found else None,
                }
            )
        return {
            "ref": process.ref,
            "category": process.category.code,
            "category_label": process.category.label,
            "sector": process.category.sector,
            "route": process.route,
            "indirect_counted": result.indirect_counted,
            "activity_level": present(al),
            "direct_emissions": present(direct),
            "attribution": {
                "direct_emissions": present(direct),
                "heat_imported": present(process.heat_imported),
                "heat_exported": present(process.heat_exported),
                "waste_gases_exported": present(process.waste_gases_exported),
                "electricity_produced": present(electricity.produced_emissions if electricity else ZERO),
            },
            "attributed_direct": present(result.attributed_direct),
            "attributed_indirect": present(result.attributed_indirect),
            "electricity": None
            if electricity is None
            else {
                "consumed_mwh": present(electricity.consumed_mwh),
                "emission_factor": electricity.emission_factor,
                "unit": "tCO2/MWh",
                "basis": electricity.basis,
            },
            "precursors": [_precursor_json(p) for p in result.precursors],
            "embedded_direct": present(embedded_direct),
            "embedded_indirect": present(embedded_indirect),
            "see_direct": _exact(result.see_direct),
            "see_indirect": _exact(result.see_indirect),
            "see_total": _exact(result.see_total),
            "reported": reported,
            "default_share": _exact(result.default_share),
            "lines_default_share": _exact(totals.default_co2e / direct) if direct > ZERO else ZERO,
            "goods": goods,
            "lines": [line.as_json() for line in calculation.lines],
        }


def _precursor_json(result: PrecursorResult) -> dict[str, Any]:
    precursor = result.precursor
    return {
        "cn_code": precursor.cn_code,
        "category": precursor.category.code,
        "quantity": present(precursor.quantity),
        "country": precursor.country,
        "process": precursor.process,
        "basis": result.basis,
        "origin": result.origin,
        "see_direct": _exact(result.see_direct),
        "see_indirect": _exact(result.see_indirect),
        "embedded_direct": present(result.embedded_direct),
        "embedded_indirect": present(result.embedded_indirect),
        "default": None
        if result.default is None
        else _default_json(result.default, result.markup, precursor.category.indirect_counted),
    }


# -- parsing ------------------------------------------------------------------------------------------------------
class _Fields:
    """Collects the errors of a request; each field read that fails adds one and yields None."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, pointer: str, code: str, detail: str) -> None:
        """Record the error of the field at ``pointer`` (reading goes on)."""
        self.errors.append(FieldError(pointer, code, detail))

    def unknown(self, data: Mapping[str, Any], pointer: str, allowed: frozenset[str]) -> bool:
        """Refuse keys of ``data`` not in ``allowed``; True when every key is known."""
        ok = True
        for key in data:
            if key not in allowed:
                ok = False
                self.fail(
                    f"{pointer}/{escape(str(key))}",
                    "unknown_field",
                    f"{str(key)[:64]!r} is not a field; expected {', '.join(sorted(allowed))}",
                )
        return ok

    def text(
        self, data: Mapping[str, Any], key: str, pointer: str, *, required: bool, limit: int
    ) -> str | None:
        raw = data.get(key)
        if raw is None:
            if required:
                self.fail(
                    f"{pointer}/{key}",
                    "required",
                    f"{key} must be a non-empty text of at most {limit} characters",
                )
            return None
        if not isinstance(raw, str) or not raw.strip() or len(raw) > limit:
            self.fail(
                f"{pointer}/{key}",
                "invalid_type",
                f"{key} must be a non-empty text of at most {limit} characters",
            )
            return None
        return raw

    def country(self, data: Mapping[str, Any], key: str, pointer: str, *, required: bool) -> str | None:
        raw = data.get(key)
        if raw is None and not required:
            return None
        if not isinstance(raw, str) or not _COUNTRY.fullmatch(raw):
            self.fail(
                f"{pointer}/{key}",
                "required" if raw is None else "invalid",
                f"{key} must be a country code of ISO 3166-1 alpha-2 in capitals, e.g. CN",
            )
            return None
        return raw

    def cn_code(self, data: Mapping[str, Any], pointer: str) -> str | None:
        raw = data.get("cn_code")
        code = raw.replace(" ", "") if isinstance(raw, str) else None
        if code is None or not _CN_CODE.fullmatch(code):
            self.fail(
                f"{pointer}/cn_code",
                "required" if raw is None else "invalid",
                "cn_code must be a CN code of 8 digits (spaces allowed), e.g. 2523 10 00",
            )
            return None
        return code

    def choice(
        self, data: Mapping[str, Any], key: str, pointer: str, choices: Sequence[str], *, default: str | None
    ) -> str | None:
        raw = data.get(key)
        if raw is None and default is not None:
            return default
        if not isinstance(raw, str) or raw not in choices:
            self.fail(
                f"{pointer}/{key}",
                "required" if raw is None else "unknown_code",
                f"{key} must be one of {', '.join(choices)}",
            )
            return None
        return raw

    def read(self, reader: LineReader, key: str, targets: tuple[str, ...], **options: Any) -> Decimal | None:
        """A quantity through the engine's reader (units, signs); an error is collected, None returned."""
        try:
            found = reader.quantity(key, targets, **options)
        except LineInvalid as invalid:
            self.errors.append(invalid.error)
            return None
        return None if found is None else found[0]

    def mapping(self, data: Mapping[str, Any], key: str, pointer: str) -> Mapping[str, Any] | None:
        raw = data.get(key)
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            self.fail(f"{pointer}/{key}", "invalid_type", f"{key} must be an object")
            return None
        return raw

    def objects(self, data: Mapping[str, Any], key: str, pointer: str, *, required: bool) -> list[Any]:
        raw = data.get(key)
        if raw is None and not required:
            return []
        if not isinstance(raw, list) or (required and not raw):
            self.fail(
                f"{pointer}/{key}",
                "required" if raw is None else "invalid_type",
                f"{key} must be a non-empty list of objects",
            )
            return []
        if len(raw) > MAX_ITEMS:
            self.fail(f"{pointer}/{key}", "too_many_items", f"{key} has more than {MAX_ITEMS} entries")
            return []
        return raw


def _year(raw: Any, fields: _Fields) -> int | None:
    try:
        value = parse_decimal(raw)
    except NumberError as error:
        fields.fail(
            "/year",
            "required" if raw is None else error.code,
            "year must be a whole number from 2023 to 2100",
        )
        return None
    if value != value.to_integral_value() or not 2023 <= value <= 2100:
        fields.fail("/year", "out_of_range", "year must be a whole number from 2023 to 2100")
        return None
    return int(value)


def _methodology(payload: Mapping[str, Any], fields: _Fields) -> Methodology | None:
    code = payload.get("methodology") or DEFAULT_METHODOLOGY
    version = payload.get("methodology_version")
    if not isinstance(code, str):
        fields.fail("/methodology", "invalid_type", "methodology must be a code")
        return None
    if version is not None and not isinstance(version, str):
        fields.fail("/methodology_version", "invalid_type", "methodology_version must be a string")
        return None
    try:
        return methodologies.get(code, version)
    except UnknownMethodology as error:
        fields.fail(
            "/methodology_version" if version is not None else "/methodology", error.code, error.detail
        )
        return None


def _installation(payload: Mapping[str, Any], fields: _Fields) -> Installation | None:
    raw = payload.get("installation")
    if not isinstance(raw, Mapping):
        fields.fail("/installation", "required", "installation must be an object with name and country")
        return None
    fields.unknown(raw, "/installation", INSTALLATION_FIELDS)
    name = fields.text(raw, "name", "/installation", required=True, limit=MAX_NAME_LENGTH)
    country = fields.country(raw, "country", "/installation", required=True)
    unlocode = raw.get("unlocode")
    if unlocode is not None and (not isinstance(unlocode, str) or not _UNLOCODE.fullmatch(unlocode)):
        fields.fail(
            "/installation/unlocode",
            "invalid",
            "unlocode must be a UN/LOCODE: the country code and 3 letters or digits, e.g. CNSHA",
        )
        unlocode = None
    address = fields.text(raw, "address", "/installation", required=False, limit=500)
    if name is None or country is None:
        return None
    return Installation(name, country, unlocode, address)


def _reader(data: Mapping[str, Any], pointer: str, methodology: Methodology, year: int | None) -> LineReader:
    return LineReader(data, pointer, methodology, Context(year=year, sector=None), [])


def _electricity(
    raw: Mapping[str, Any], pointer: str, methodology: Methodology, year: int | None, fields: _Fields
) -> Electricity | None:
    if not fields.unknown(raw, pointer, ELECTRICITY_FIELDS):
        return None
    reader = _reader(raw, pointer, methodology, year)
    consumed = fields.read(
        reader, "consumed", ("MWh",), missing="consumed is required: the electricity the process consumed"
    )
    basis = fields.choice(raw, "basis", pointer, ELECTRICITY_BASES, default=None)
    factor = fields.read(reader, "emission_factor", ("tCO2/MWh",), required=False)
    if factor is None and "emission_factor" not in raw:
        fields.fail(
            f"{pointer}/emission_factor",
            "required",
            "no verified default grid factor is shipped: give emission_factor (tCO2/MWh) and its basis "
            "(grid_default: the country's value in 2025/2621 Annex II; supplier; ppa)",
        )
    produced = fields.read(reader, "produced_emissions", ("tCO2",), required=False)
    if consumed is None or basis is None or factor is None:
        return None
    return Electricity(consumed, factor, basis, produced or ZERO)


def _heat_flow(
    raw: Mapping[str, Any],
    key: str,
    pointer: str,
    methodology: Methodology,
    year: int | None,
    fields: _Fields,
) -> Decimal | None:
    flow = fields.mapping(raw, key, pointer)
    if flow is None:
        return ZERO if key not in raw else None
    here = f"{pointer}/{key}"
    if not fields.unknown(flow, here, HEAT_FLOW_FIELDS):
        return None
    reader = _reader(flow, here, methodology, year)
    heat = fields.read(
        reader, "quantity", ("GJ",), missing="quantity is required: the heat in GJ (or TJ, MWh)"
    )
    factor = fields.read(
        reader,
        "emission_factor",
        ("tCO2/GJ",),
        missing="emission_factor is required: the heat's emission factor (tCO2/TJ or tCO2/GJ)",
    )
    if heat is None or factor is None:
        return None
    return heat_emissions(heat_gj=heat, emission_factor=factor)


def _waste_gas(
    raw: Mapping[str, Any],
    pointer: str,
    methodology: Methodology,
    year: int | None,
    fields: _Fields,
    table: Catalogue,
) -> Decimal | None:
    flow = fields.mapping(raw, "exported", pointer)
    if flow is None:
        return ZERO if "exported" not in raw else None
    here = f"{pointer}/exported"
    if not fields.unknown(flow, here, WASTE_GAS_FLOW_FIELDS):
        return None
    reader = _reader(flow, here, methodology, year)
    try:
        quantity, basis = reader.quantity("quantity", ("GJ", "t", "10^4 Nm3", "m3"))
        if basis == "GJ":
            if reader.has("ncv"):
                reader.fail("ncv", "not_applicable", "ncv is not used when the quantity is already an energy")
            energy = quantity
        else:
            ncv, _ = reader.quantity(
                "ncv", (f"GJ/{basis}",), missing=f"ncv is required for a quantity in {basis}"
            )
            energy = quantity * ncv
        natural_gas = methodology.factor("fuels.natural_gas.emission_factor")
        factor, _ = reader.quantity(
            "emission_factor",
            ("tCO2/GJ",),
            default=natural_gas,
            missing="emission_factor is required: the natural gas emission factor (tCO2/TJ)",
        )
        correction = reader.fraction("correction", default=table.waste_gas_correction)
    except LineInvalid as invalid:
        fields.errors.append(invalid.error)
        return None
    return waste_gas_exported_emissions(energy_gj=energy, natural_gas_factor=factor, correction=correction)


def _goods(
    raw: Mapping[str, Any],
    pointer: str,
    category: Category | None,
    methodology: Methodology,
    fields: _Fields,
    table: Catalogue,
) -> tuple[Good, ...]:
    goods: list[Good] = []
    for index, item in enumerate(fields.objects(raw, "goods", pointer, required=True)):
        here = f"{pointer}/goods/{index}"
        if not isinstance(item, Mapping):
            fields.fail(here, "invalid_type", "a good must be an object with cn_code and quantity")
            continue
        if not fields.unknown(item, here, GOOD_FIELDS):
            continue
        code = fields.cn_code(item, here)
        quantity = fields.read(_reader(item, here, methodology, None), "quantity", ("t",))
        if code is None or quantity is None:
            continue
        found = table.category_of(code)
        if found is None:
            fields.fail(
                f"{here}/cn_code",
                "not_cbam_good",
                f"CN code {code} is not a CBAM good of cement, iron and steel or aluminium (2025/2547 Annex I)",
            )
            continue
        if category is not None and found.code != category.code:
            fields.fail(
                f"{here}/cn_code",
                "wrong_category",
                f"CN code {code} belongs to {found.code}, not to this process's category {category.code}; "
                "goods of another category go in a process of their own",
            )
            continue
        goods.append(Good(code, quantity))
    return tuple(goods)


def _precursors(
    raw: Mapping[str, Any],
    pointer: str,
    category: Category | None,
    country: str | None,
    methodology: Methodology,
    fields: _Fields,
    table: Catalogue,
) -> tuple[Precursor, ...]:
    found: list[Precursor] = []
    for index, item in enumerate(fields.objects(raw, "precursors", pointer, required=False)):
        here = f"{pointer}/precursors/{index}"
        if not isinstance(item, Mapping):
            fields.fail(here, "invalid_type", "a precursor must be an object with cn_code and quantity")
            continue
        if not fields.unknown(item, here, PRECURSOR_FIELDS):
            continue
        code = fields.cn_code(item, here)
        reader = _reader(item, here, methodology, None)
        quantity = fields.read(reader, "quantity", ("t",))
        process = fields.text(item, "process", here, required=False, limit=MAX_REF_LENGTH)
        given = [key for key in ("see_direct", "see_indirect", "basis") if key in item]
        if process is not None and given:
            fields.fail(
                f"{here}/{given[0]}",
                "not_applicable",
                "give either process (made in this installation) or see_direct and see_indirect, not both",
            )
            continue
        origin = fields.country(item, "country", here, required=process is None)
        see_direct = fields.read(reader, "see_direct", ("tCO2/t",), required=False, plain_unit="tCO2/t")
        see_indirect = fields.read(reader, "see_indirect", ("tCO2/t",), required=False, plain_unit="tCO2/t")
        basis = fields.choice(item, "basis", here, PRECURSOR_BASES, default="actual")
        for key in ("see_direct", "see_indirect"):
            other = "see_indirect" if key == "see_direct" else "see_direct"
            if key not in item and other in item:
                fields.fail(
                    f"{here}/{key}",
                    "required",
                    f"give both see_direct and see_indirect (tCO2e/t); {key} is missing",
                )
        if code is None or quantity is None or basis is None:
            continue
        precursor_category = table.category_of(code)
        if precursor_category is None:
            fields.fail(
                f"{here}/cn_code",
                "not_cbam_good",
                f"CN code {code} is not a CBAM good of cement, iron and steel or aluminium (2025/2547 Annex I)",
            )
            continue
        if category is not None and precursor_category.code not in category.precursors:
            allowed = ", ".join(category.precursors) or "none"
            fields.fail(
                f"{here}/cn_code",
                "not_a_precursor",
                f"CN code {code} belongs to {precursor_category.code}, which is not a precursor of "
                f"{category.code} (its precursors: {allowed})",
            )
            continue
        if origin is None and process is None:
            continue
        found.append(
            Precursor(
                here,
                code,
                precursor_category,
                quantity,
                origin or country or "",
                see_direct,
                see_indirect,
                process,
                basis,
            )
        )
    return tuple(found)


def _lines(
    raw: Mapping[str, Any],
    pointer: str,
    category: Category | None,
    methodology: Methodology,
    year: int | None,
    fields: _Fields,
) -> Calculation | None:
    lines = raw.get("lines")
    if lines is None:
        lines = []
    if not isinstance(lines, list):
        fields.fail(f"{pointer}/lines", "invalid_type", "lines must be a list of activity lines")
        return None
    refused = False
    for index, line in enumerate(lines):
        if isinstance(line, Mapping) and line.get("source") in INDIRECT_SOURCES:
            refused = True
            fields.fail(
                f"{pointer}/lines/{index}/source",
                "not_applicable",
                f"{line.get('source')} lines are not direct emissions of a process: give the electricity "
                "consumed in electricity and heat imported or exported in heat",
            )
    if refused:
        return None
    try:
        return calculate(
            {
                "methodology": methodology.code,
                "methodology_version": methodology.version,
                "sector": category.sector if category else None,
                "year": year,
                "lines": lines,
            },
            allow_empty=True,
        )
    except InvalidInput as error:
        fields.errors.extend(FieldError(f"{pointer}{e.pointer}", e.code, e.detail) for e in error.errors)
        return None


def _process(
    raw: Any,
    index: int,
    methodology: Methodology,
    year: int | None,
    country: str | None,
    fields: _Fields,
    refs: set[str],
    table: Catalogue,
) -> Process | None:
    pointer = f"/processes/{index}"
    if not isinstance(raw, Mapping):
        fields.fail(pointer, "invalid_type", "a production process must be an object")
        return None
    before = len(fields.errors)
    if not fields.unknown(raw, pointer, PROCESS_FIELDS):
        return None
    ref = fields.text(raw, "ref", pointer, required=True, limit=MAX_REF_LENGTH)
    if ref is not None:
        if ref in refs:
            fields.fail(f"{pointer}/ref", "duplicate", f"ref {ref!r} is used by an earlier process")
        refs.add(ref)
    category_code = fields.choice(raw, "category", pointer, tuple(table.categories), default=None)
    category = table.categories.get(category_code) if category_code else None
    route = fields.text(raw, "route", pointer, required=False, limit=MAX_NAME_LENGTH)
    calculation = _lines(raw, pointer, category, methodology, year, fields)
    heat_in = heat_out = waste = ZERO
    heat = fields.mapping(raw, "heat", pointer)
    if heat is not None and fields.unknown(heat, f"{pointer}/heat", HEAT_FIELDS):
        heat_in = _heat_flow(heat, "imported", f"{pointer}/heat", methodology, year, fields) or ZERO
        heat_out = _heat_flow(heat, "exported", f"{pointer}/heat", methodology, year, fields) or ZERO
    gases = fields.mapping(raw, "waste_gases", pointer)
    if gases is not None and fields.unknown(gases, f"{pointer}/waste_gases", WASTE_GAS_FIELDS):
        waste = _waste_gas(gases, f"{pointer}/waste_gases", methodology, year, fields, table) or ZERO
    power = fields.mapping(raw, "electricity", pointer)
    electricity = _electricity(power, f"{pointer}/electricity", methodology, year, fields) if power else None
    goods = _goods(raw, pointer, category, methodology, fields, table)
    precursors = _precursors(raw, pointer, category, country, methodology, fields, table)
    if len(fields.errors) > before or ref is None or category is None or calculation is None:
        return None
    if sum((good.quantity for good in goods), ZERO) <= ZERO:
        fields.fail(
            f"{pointer}/goods",
            "zero_activity_level",
            "the goods' quantities add up to zero: the activity level must be positive",
        )
        return None
    return Process(
        pointer, ref, category, route, calculation, goods, precursors, electricity, heat_in, heat_out, waste
    )


def parse(payload: Any, *, table: Catalogue | None = None) -> Request:
    """The request read and checked field by field (see the module doc); raises :class:`InvalidInput`
    listing every invalid field with its pointer."""
    table = table or catalogue()
    if not isinstance(payload, Mapping):
        raise InvalidInput(
            "the body must be a JSON object", [FieldError("", "invalid_type", "expected an object")]
        )
    fields = _Fields()
    fields.unknown(payload, "", TOP_LEVEL_FIELDS)
    installation = _installation(payload, fields)
    year = _year(payload.get("year"), fields)
    methodology = _methodology(payload, fields)
    raw = payload.get("processes")
    processes: list[Process] = []
    if not isinstance(raw, list) or not raw:
        fields.fail("/processes", "required", "processes must be a non-empty list of production processes")
    elif len(raw) > MAX_PROCESSES:
        fields.fail("/processes", "too_many_items", f"at most {MAX_PROCESSES} processes")
    elif methodology is not None:
        refs: set[str] = set()
        country = installation.country if installation else None
        with localcontext(CONTEXT):
            for index, item in enumerate(raw):
                process = _process(item, index, methodology, year, country, fields, refs, table)
                if process is not None:
                    processes.append(process)
    if fields.errors or installation is None or year is None or methodology is None:
        raise InvalidInput(f"{len(fields.errors)} invalid field(s)", fields.errors)
    return Request(installation, year, methodology, tuple(processes))


# -- computing -----------------------------------------------------------------------------------------------------
def compute(request: Request, *, table: Catalogue | None = None) -> Result:
    """SEE of every process, recursive through the precursors made in the installation; a cycle, an
    unknown precursor process or a precursor without values is an :class:`InvalidInput` with pointers."""
    table = table or catalogue()
    by_ref = {process.ref: process for process in request.processes}
    done: dict[str, ProcessResult] = {}
    visiting: list[str] = []
    failed: set[str] = set()
    errors: list[FieldError] = []
    markup = table.markup_for(request.year)

    def visit(process: Process) -> ProcessResult | None:
        visiting.append(process.ref)
        precursors: list[PrecursorResult] = []
        ok = True
        for precursor in process.precursors:
            resolved = _resolve(precursor, process)
            if resolved is None:
                ok = False
            else:
                precursors.append(resolved)
        visiting.pop()
        if not ok:
            failed.add(process.ref)
            return None
        result = _process_result(process, precursors, request, table, markup)
        done[process.ref] = result
        return result

    def _resolve(precursor: Precursor, process: Process) -> PrecursorResult | None:
        if precursor.process is not None:
            target = by_ref.get(precursor.process)
            pointer = f"{precursor.pointer}/process"
            if target is None:
                errors.append(
                    FieldError(
                        pointer,
                        "unknown_process",
                        f"no process of this installation has ref {precursor.process!r}",
                    )
                )
                return None
            if precursor.process in visiting:
                cycle = " -> ".join([*visiting[visiting.index(precursor.process) :], precursor.process])
                errors.append(
                    FieldError(
                        pointer,
                        "precursor_cycle",
                        f"the precursor processes form a cycle ({cycle}): a process cannot be its own "
                        "precursor, directly or through others",
                    )
                )
                return None
            if target.category.code != precursor.category.code:
                errors.append(
                    FieldError(
                        pointer,
                        "wrong_category",
                        f"process {target.ref!r} makes {target.category.code}, not {precursor.category.code} "
                        "like this precursor's CN code",
                    )
                )
                return None
            if target.ref in failed:
                return None
            made = done.get(target.ref) or visit(target)
            if made is None:
                return None
            return PrecursorResult(
                precursor,
                made.see_direct,
                made.see_indirect,
                "actual",
                "process",
                default_share=made.default_share,
            )
        if precursor.see_direct is not None and precursor.see_indirect is not None:
            share = ONE if precursor.basis == "default" else ZERO
            return PrecursorResult(
                precursor,
                precursor.see_direct,
                precursor.see_indirect,
                precursor.basis,
                "given",
                default_share=share,
            )
        default = table.default_for(precursor.cn_code, precursor.country)
        if default is None:
            errors.append(
                FieldError(
                    f"{precursor.pointer}/see_direct",
                    "required",
                    f"no actual SEE for CN code {precursor.cn_code} from {precursor.country} and no verified "
                    "default value is shipped: give see_direct and see_indirect (tCO2e/t) from the producer's "
                    "communication, or process when this installation makes it",
                )
            )
            return None
        factor = ONE + (markup.percent / HUNDRED if markup else ZERO)
        return PrecursorResult(
            precursor,
            default.see_direct * factor,
            default.see_indirect * factor,
            "default",
            "default_value",
            default,
            markup,
            ONE,
        )

    with localcontext(CONTEXT):
        for process in request.processes:
            if process.ref not in done and process.ref not in failed:
                visit(process)
    if errors:
        unique = list(dict.fromkeys(errors))
        raise InvalidInput(f"{len(unique)} invalid field(s)", unique)
    return Result(request, [done[process.ref] for process in request.processes], table)


def _process_result(
    process: Process,
    precursors: list[PrecursorResult],
    request: Request,
    table: Catalogue,
    markup: Markup | None,
) -> ProcessResult:
    electricity = process.electricity
    direct = attributed_direct_emissions(
        direct_emissions=process.calculation.totals.direct,
        heat_imported=process.heat_imported,
        heat_exported=process.heat_exported,
        waste_gases_exported=process.waste_gases_exported,
        electricity_produced=electricity.produced_emissions if electricity else ZERO,
    )
    indirect = (
        attributed_indirect_emissions(
            electricity_mwh=electricity.consumed_mwh, emission_factor=electricity.emission_factor
        )
        if electricity
        else ZERO
    )
    al = process.activity_level
    see_direct = specific_embedded_emissions(
        attributed=direct,
        precursors=[(p.precursor.quantity, p.see_direct) for p in precursors],
        activity_level=al,
    )
    see_indirect = specific_embedded_emissions(
        attributed=indirect,
        precursors=[(p.precursor.quantity, p.see_indirect) for p in precursors],
        activity_level=al,
    )
    counted = process.category.indirect_counted
    total = (see_direct + (see_indirect if counted else ZERO)) * al
    on_defaults = sum(
        (
            (p.embedded_direct + (p.embedded_indirect if counted else ZERO)) * p.default_share
            for p in precursors
        ),
        ZERO,
    )
    share = on_defaults / total if total > ZERO else ZERO
    goods_defaults: dict[str, tuple[DefaultValue, Markup | None]] = {}
    for good in process.goods:
        default = table.default_for(good.cn_code, request.installation.country)
        if default is not None:
            goods_defaults[good.cn_code] = (default, markup)
    return ProcessResult(
        process,
        direct,
        indirect,
        precursors,
        see_direct,
        see_indirect,
        share,
        process.heat_imported,
        process.heat_exported,
        goods_defaults,
    )


def embedded_emissions(payload: Any, *, table: Catalogue | None = None) -> Result:
    """Parse and compute ``POST /api/v1/cbam/embedded-emissions/``'s body (see the module doc)."""
    return compute(parse(payload, table=table), table=table)


__all__ = [
    "Catalogue",
    "Category",
    "DefaultValue",
    "Markup",
    "Result",
    "attributed_direct_emissions",
    "attributed_indirect_emissions",
    "catalogue",
    "compute",
    "embedded_emissions",
    "heat_emissions",
    "parse",
    "specific_embedded_emissions",
    "waste_gas_exported_emissions",
]

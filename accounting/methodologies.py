"""Methodologies: versioned, immutable bundles of method variants, default factors, GWP set,
C-to-CO2 factor and rounding rule.

Each bundle is a TOML file in ``accounting/data/methodologies/`` with provenance (source,
table, confidence) on every value. Files are read once; a published version is never edited:
a new default value is a new version with a new code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache, cached_property
from importlib import resources
from types import MappingProxyType
from typing import Any

import globalwarmingpotentials

from accounting.errors import MethodologyDataError, UnknownMethodology
from accounting.numbers import parse_ratio
from accounting.registry import Method, lookup

DEFAULT_CODE = "cn-mee-2024"
_EMPTY: Mapping[str, Any] = MappingProxyType({})
CONFIDENCE_TAGS = frozenset({"V", "3P", "UV"})
#: GWP set names used in bundles → column of the ``globalwarmingpotentials`` package (100-year).
GWP_SETS = {"SAR": "SARGWP100", "AR4": "AR4GWP100", "AR5": "AR5GWP100", "AR6": "AR6GWP100"}
GASES = ("CO2", "CF4", "C2F6")


@dataclass(frozen=True, slots=True)
class Factor:
    """One published value with its provenance."""

    value: Decimal
    unit: str
    source: str
    citation: str
    table: str
    confidence: str

    def describe(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "source": self.citation,
            "table": self.table,
            "confidence": self.confidence,
        }


@dataclass(frozen=True, slots=True)
class Band:
    """A plausibility band used by the automated checks."""

    low: Decimal
    high: Decimal
    unit: str
    source: str
    citation: str
    confidence: str

    def describe(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "unit": self.unit,
            "source": self.citation,
            "confidence": self.confidence,
        }


@dataclass(frozen=True, slots=True)
class DueDate:
    """A legal deadline that falls on the same calendar day each year: ``month``-``day`` of the year
    ``years_after`` the period it concerns (the annual report of 2025 is due 31 March 2026: ``3, 31, 1``)."""

    month: int
    day: int
    years_after: int
    source: str
    citation: str
    table: str
    confidence: str

    def on(self, year: int) -> date:
        """The due date for the period ``year``."""
        return date(year + self.years_after, self.month, self.day)

    def describe(self) -> dict[str, Any]:
        return {
            "due": f"{self.month:02d}-{self.day:02d}",
            "years_after": self.years_after,
            "source": self.citation,
            "table": self.table,
            "confidence": self.confidence,
        }


def _freeze(node: Any, path: str, sources: Mapping[str, str]) -> Any:
    """Turn the parsed TOML into read-only mappings with Factor, Band and DueDate leaves."""
    if isinstance(node, dict):
        if "value" in node or "low" in node or "due" in node:
            return _leaf(node, path, sources)
        return MappingProxyType(
            {key: _freeze(value, f"{path}.{key}", sources) for key, value in node.items()}
        )
    return node


def _leaf(node: dict[str, Any], path: str, sources: Mapping[str, str]) -> Factor | Band | DueDate:
    source = str(node.get("source"))
    confidence = str(node.get("confidence"))
    if source not in sources:
        raise MethodologyDataError(f"{path}: source {source!r} is not listed in [sources]")
    if confidence not in CONFIDENCE_TAGS:
        raise MethodologyDataError(f"{path}: confidence must be one of {sorted(CONFIDENCE_TAGS)}")
    try:
        if "due" in node:  # "MM-DD", a real day of every year (29 February is refused)
            month, day = (int(part) for part in str(node["due"]).split("-"))
            date(2001, month, day)
            return DueDate(
                month,
                day,
                int(node["years_after"]),
                source,
                sources[source],
                node.get("table", ""),
                confidence,
            )
        if "low" in node:
            return Band(
                Decimal(node["low"]), Decimal(node["high"]), node["unit"], source, sources[source], confidence
            )
        return Factor(
            parse_ratio(node["value"]),
            node["unit"],
            source,
            sources[source],
            node.get("table", ""),
            confidence,
        )
    except (ArithmeticError, KeyError, ValueError, TypeError) as error:
        raise MethodologyDataError(f"{path}: malformed value ({error})") from error


@dataclass(frozen=True)
class Methodology:
    """A published methodology version. Immutable; obtain through :func:`get`."""

    code: str
    title: str
    version: str
    published: str
    gwp_set: str
    gwp: Mapping[str, Decimal]
    rounding_places: int
    rounding_mode: str
    default_anode_effect_method: str
    data: Mapping[str, Any]
    methods: Mapping[str, Method] = field(repr=False)
    #: The version this one corrects ("" for the first), and what changed against it.
    supersedes: str = ""
    changes: tuple[str, ...] = ()
    corrected: str = ""

    @property
    def key(self) -> str:
        """``code@version``: names one published version for ever."""
        return f"{self.code}@{self.version}"

    @property
    def is_latest(self) -> bool:
        return latest(self.code) is self

    # -- data access ------------------------------------------------------------------------
    def section(self, name: str) -> Mapping[str, Any]:
        """A table of the bundle (empty when the bundle has none)."""
        return self.sections.get(name, _EMPTY)

    @cached_property
    def sections(self) -> Mapping[str, Mapping[str, Any]]:
        return {name: value for name, value in self.data.items() if isinstance(value, Mapping)}

    def factor(self, path: str) -> Factor | None:
        """The factor at a dotted ``path`` (``"heat.emission_factor"``), or None."""
        return self.factors.get(path)

    @cached_property
    def factors(self) -> Mapping[str, Factor]:
        """Every factor of the bundle by dotted path (built once, for constant-time lookups)."""
        found: dict[str, Factor] = {}

        def walk(node: Any, path: str) -> None:
            if isinstance(node, Factor):
                found[path] = node
            elif isinstance(node, Mapping):
                for key, value in node.items():
                    walk(value, f"{path}.{key}" if path else str(key))

        walk(self.data, "")
        return MappingProxyType(found)

    def value(self, path: str) -> Decimal:
        """The value at ``path``, which a method declared in its ``needs`` (so it exists)."""
        factor = self.factor(path)
        if factor is None:  # pragma: no cover - checked at load time through ``needs``
            raise MethodologyDataError(f"{self.code} lacks {path}")
        return factor.value

    def constant(self, name: str) -> Decimal:
        return self.value(f"constants.{name}")

    @cached_property
    def c_to_co2(self) -> Decimal:
        return self.constant("c_to_co2")

    def due_date(self, name: str) -> DueDate | None:
        """The deadline ``name`` of the bundle's ``[deadlines]`` table (``annual_report``...), or None."""
        found = self.section("deadlines").get(name)
        return found if isinstance(found, DueDate) else None

    def product_for(self, sector: str) -> str | None:
        product = self.section("products").get(sector)
        return product if isinstance(product, str) else None

    def describe(self, *, with_tables: bool = True) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "code": self.code,
            "title": self.title,
            "version": self.version,
            "published": self.published,
            "latest": self.is_latest,
            "supersedes": self.supersedes or None,
            "corrected": self.corrected or None,
            "changes": list(self.changes),
            "versions": [m.version for m in versions(self.code)],
            "default": self.code == DEFAULT_CODE and self.is_latest,
            "gwp": {
                "set": self.gwp_set,
                "values": dict(self.gwp),
                "source": "globalwarmingpotentials "
                f"{globalwarmingpotentials.__version__} ({GWP_SETS[self.gwp_set]})",
            },
            "c_to_co2": self.c_to_co2,
            "rounding": {"places": self.rounding_places, "mode": self.rounding_mode},
            "line_kinds": {
                kind: {"method": m.variant, "category": m.category, "reference": m.reference}
                for kind, m in self.methods.items()
            },
        }
        if with_tables:
            summary["sources"] = dict(self.section("sources"))
            summary["factors"] = {
                name: _describe(value)
                for name, value in self.data.items()
                if name not in {"sources", "methods", "products", "rounding"} and isinstance(value, Mapping)
            }
            summary["products"] = dict(self.section("products"))
        return summary


def _describe(node: Any) -> Any:
    if isinstance(node, (Factor, Band, DueDate)):
        return node.describe()
    if isinstance(node, Mapping):
        return {key: _describe(value) for key, value in node.items()}
    return node


def _gwp(set_name: str) -> Mapping[str, Decimal]:
    if set_name not in GWP_SETS:
        raise MethodologyDataError(f"unknown GWP set {set_name!r}")
    table = globalwarmingpotentials.data[GWP_SETS[set_name]]
    values = {"CO2": Decimal(1)}
    for gas in GASES[1:]:
        # The package ships floats; their shortest repr is the published figure (6630.0 → 6630).
        value = Decimal(repr(table[gas]))
        values[gas] = value.to_integral_value() if value == value.to_integral_value() else value
    return MappingProxyType(values)


def _load(text: str, filename: str) -> Methodology:
    raw = tomllib.loads(text)
    sources = raw.get("sources", {})
    try:
        data = _freeze({k: v for k, v in raw.items() if k != "sources"}, raw.get("code", filename), sources)
        rounding = raw["rounding"]
        places_factor = rounding.get("places")
        methods = {kind: lookup(kind, variant) for kind, variant in raw["methods"].items()}
        methodology = Methodology(
            code=raw["code"],
            title=raw["title"],
            version=str(raw["version"]),
            published=str(raw.get("published", "")),
            gwp_set=raw["gwp"],
            gwp=_gwp(raw["gwp"]),
            rounding_places=int(places_factor["value"] if isinstance(places_factor, dict) else places_factor),
            rounding_mode=_value(rounding.get("mode")),
            default_anode_effect_method=raw.get("default_anode_effect_method", ""),
            data=MappingProxyType({**data, "sources": MappingProxyType(dict(sources))}),
            methods=MappingProxyType(methods),
            supersedes=str(raw.get("supersedes", "")),
            changes=tuple(str(change) for change in raw.get("changes", ())),
            corrected=str(raw.get("corrected", "")),
        )
    except KeyError as error:
        raise MethodologyDataError(f"{filename}: missing {error}") from error
    for kind, resolved in methods.items():
        for need in resolved.needs:
            node: Any = methodology.data
            for part in need.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            if node is None:
                raise MethodologyDataError(
                    f"{methodology.code}: method {kind} needs {need}, which is missing"
                )
    return methodology


def _value(node: Any) -> str:
    return str(node["value"] if isinstance(node, dict) else node)


def _version_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        raise MethodologyDataError(f"version {version!r} must be dot-separated integers") from None


@cache
def _catalogue() -> Mapping[str, tuple[Methodology, ...]]:
    """Every published version by code, oldest first."""
    import accounting.methods  # noqa: F401  (registers every method before bundles are resolved)

    folder = resources.files("accounting.data.methodologies")
    loaded: dict[str, list[Methodology]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            methodology = _load(entry.read_text(encoding="utf-8"), entry.name)
            published = loaded.setdefault(methodology.code, [])
            if any(m.version == methodology.version for m in published):
                raise MethodologyDataError(f"methodology {methodology.key} defined twice")
            published.append(methodology)
    if DEFAULT_CODE not in loaded:
        raise MethodologyDataError(f"default methodology {DEFAULT_CODE} is missing")
    catalogue: dict[str, tuple[Methodology, ...]] = {}
    for code, published in loaded.items():
        ordered = tuple(sorted(published, key=lambda m: _version_key(m.version)))
        known = {m.version for m in ordered}
        for methodology in ordered[1:]:
            if methodology.supersedes not in known:
                raise MethodologyDataError(
                    f"{methodology.key} must name the version it supersedes (one of {sorted(known)})"
                )
        catalogue[code] = ordered
    return MappingProxyType(catalogue)


def get(code: str, version: str | None = None) -> Methodology:
    """The methodology ``code`` at ``version`` (the latest when None).

    :class:`UnknownMethodology` if the code or the version was never published. ``code`` may also be
    ``code@version``.
    """
    if isinstance(code, str) and "@" in code and version is None:
        code, version = code.split("@", 1)
    try:
        published = _catalogue()[code]
    except (KeyError, TypeError):
        raise UnknownMethodology(
            f"unknown methodology {code!r}; published: {', '.join(sorted(_catalogue()))}"
        ) from None
    if version is None:
        return published[-1]
    for methodology in published:
        if methodology.version == version:
            return methodology
    raise UnknownMethodology(
        f"methodology {code!r} has no version {version!r}; published: "
        f"{', '.join(m.version for m in published)}"
    )


def latest(code: str) -> Methodology:
    """The latest published version of ``code``."""
    return get(code)


def versions(code: str) -> tuple[Methodology, ...]:
    """Every published version of ``code``, oldest first."""
    get(code)  # raises UnknownMethodology
    return _catalogue()[code]


def available(*, all_versions: bool = False) -> Iterator[Methodology]:
    """Every published methodology by code: the latest version of each, or every version."""
    for published in _catalogue().values():
        yield from (published if all_versions else published[-1:])


def load_all() -> None:
    """Load and check every bundle now (call at process start-up to fail fast)."""
    _catalogue()

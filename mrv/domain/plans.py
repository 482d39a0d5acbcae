"""Monitoring plans as data: the shape of a plan's sources and parameters, validated (pure, no Django).

A plan says, per emission source (an activity line ``ref`` of a given line kind) and per parameter,
how the figure is obtained (获取方式): ``measured``, ``calculated``, ``default`` or ``estimated``; with
the method, the instrument, the frequency, the uncertainty, the tier and the rule applied when data
are missing. The automated checks compare a report's lines with the plan in force for its period
(``mrv.domain.checks.plan_conformity``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

DETERMINATIONS = ("measured", "calculated", "default", "estimated")
FREQUENCIES = ("continuous", "batch", "daily", "monthly", "quarterly", "annual")
PARAMETER_FIELDS = (
    "determination",
    "method",
    "instrument",
    "frequency",
    "uncertainty_percent",
    "tier",
    "missing_data_rule",
)
SOURCE_FIELDS = ("ref", "source", "description", "parameters")
MAX_TEXT = 500


@dataclass(frozen=True)
class PlanSource:
    ref: str
    source: str
    #: parameter name → its determination (measured, calculated, default, estimated)
    determinations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """The approved plan version a report is checked against (what the checks need of it)."""

    id: int
    version: int
    valid_from: date
    sources: tuple[PlanSource, ...]

    @property
    def label(self) -> str:
        return f"monitoring plan v{self.version} (valid from {self.valid_from.isoformat()})"


def plan_of(*, id: int, version: int, valid_from: date, sources: Iterable[dict[str, Any]]) -> Plan:
    return Plan(
        id=id,
        version=version,
        valid_from=valid_from,
        sources=tuple(
            PlanSource(
                ref=str(item["ref"]),
                source=str(item["source"]),
                determinations={
                    name: str(spec.get("determination", ""))
                    for name, spec in (item.get("parameters") or {}).items()
                },
            )
            for item in sources
        ),
    )


def _text(value: Any, pointer: str, errors: list[dict[str, str]], *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            errors.append({"pointer": pointer, "code": "required", "detail": "this field is required"})
        return ""
    if not isinstance(value, str):
        errors.append({"pointer": pointer, "code": "invalid", "detail": "must be a string"})
        return ""
    if len(value) > MAX_TEXT:
        errors.append({"pointer": pointer, "code": "max_length", "detail": f"at most {MAX_TEXT} characters"})
    return value


def validate_sources(
    sources: Any, *, line_kinds: Iterable[str]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The plan's sources normalised (every parameter field present, uncertainty as an exact decimal
    string), and the errors found (JSON pointers under ``/sources``); all errors are reported at once."""
    errors: list[dict[str, str]] = []
    kinds = set(line_kinds)
    if not isinstance(sources, list):
        return [], [{"pointer": "/sources", "code": "invalid", "detail": "a list of emission sources"}]
    clean: list[dict[str, Any]] = []
    refs: set[str] = set()
    for i, item in enumerate(sources):
        at = f"/sources/{i}"
        if not isinstance(item, dict):
            errors.append({"pointer": at, "code": "invalid", "detail": "an object {ref, source, parameters}"})
            continue
        for unknown in sorted(set(item) - set(SOURCE_FIELDS)):
            errors.append(
                {
                    "pointer": f"{at}/{unknown}",
                    "code": "unknown_field",
                    "detail": f"unknown field; a source has {', '.join(SOURCE_FIELDS)}",
                }
            )
        ref = _text(item.get("ref"), f"{at}/ref", errors, required=True)
        if ref and ref in refs:
            errors.append(
                {"pointer": f"{at}/ref", "code": "duplicate", "detail": f"ref {ref!r} appears twice"}
            )
        refs.add(ref)
        source = _text(item.get("source"), f"{at}/source", errors, required=True)
        if source and source not in kinds:
            errors.append(
                {
                    "pointer": f"{at}/source",
                    "code": "invalid_choice",
                    "detail": f"{source!r} is not a line kind of this sector ({', '.join(sorted(kinds))})",
                }
            )
        parameters = item.get("parameters")
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            errors.append({"pointer": f"{at}/parameters", "code": "invalid", "detail": "an object by name"})
            parameters = {}
        clean_parameters = {
            name: _parameter(spec, f"{at}/parameters/{name}", errors) for name, spec in parameters.items()
        }
        clean.append(
            {
                "ref": ref,
                "source": source,
                "description": _text(item.get("description"), f"{at}/description", errors),
                "parameters": clean_parameters,
            }
        )
    return clean, errors


def _parameter(spec: Any, at: str, errors: list[dict[str, str]]) -> dict[str, Any]:
    if not isinstance(spec, dict):
        errors.append({"pointer": at, "code": "invalid", "detail": "an object {determination, method, ...}"})
        return {}
    for unknown in sorted(set(spec) - set(PARAMETER_FIELDS)):
        errors.append(
            {
                "pointer": f"{at}/{unknown}",
                "code": "unknown_field",
                "detail": f"unknown field; a parameter has {', '.join(PARAMETER_FIELDS)}",
            }
        )
    determination = spec.get("determination")
    if determination not in DETERMINATIONS:
        errors.append(
            {
                "pointer": f"{at}/determination",
                "code": "invalid_choice",
                "detail": f"one of {', '.join(DETERMINATIONS)}",
            }
        )
    frequency = spec.get("frequency")
    if frequency not in FREQUENCIES:
        errors.append(
            {
                "pointer": f"{at}/frequency",
                "code": "invalid_choice",
                "detail": f"one of {', '.join(FREQUENCIES)}",
            }
        )
    uncertainty = spec.get("uncertainty_percent")
    if uncertainty is not None:
        try:
            number = Decimal(str(uncertainty))
            if not number.is_finite() or not 0 <= number <= 100:
                raise InvalidOperation
            uncertainty = str(number)
        except (InvalidOperation, ValueError):
            errors.append(
                {
                    "pointer": f"{at}/uncertainty_percent",
                    "code": "invalid",
                    "detail": "a decimal number of percent between 0 and 100",
                }
            )
            uncertainty = None
    tier = spec.get("tier")
    if tier is not None and (
        not isinstance(tier, (int, str, Decimal)) or isinstance(tier, bool) or str(tier) == ""
    ):
        errors.append(
            {"pointer": f"{at}/tier", "code": "invalid", "detail": "a tier such as 1, 2, 3 or '2a'"}
        )
        tier = None
    return {
        "determination": determination,
        "method": _text(spec.get("method"), f"{at}/method", errors, required=True),
        "instrument": _text(spec.get("instrument"), f"{at}/instrument", errors),
        "frequency": frequency,
        "uncertainty_percent": uncertainty,
        "tier": None if tier is None else str(tier),
        "missing_data_rule": _text(spec.get("missing_data_rule"), f"{at}/missing_data_rule", errors),
    }


# -- the parameter table: a plan's sources as spreadsheet rows (CSV/XLSX import and template) ---------------
#: The columns of a plan's parameter table: one row per source and parameter (a source without
#: parameters is one row with ``parameter`` empty); ``ref``, ``source`` and ``description`` repeat on each
#: row of a source (the first row's description is kept).
TABLE_COLUMNS = ("ref", "source", "description", "parameter", *PARAMETER_FIELDS)
#: The example rows of the template (a cement plant's coal, as cn-mee-2024 plans read).
TEMPLATE_ROWS = (
    {
        "ref": "coal",
        "source": "fuel_combustion",
        "description": "kiln coal",
        "parameter": "quantity",
        "determination": "measured",
        "method": "belt weigher, monthly stock reconciliation",
        "instrument": "belt weigher BW-1",
        "frequency": "continuous",
        "uncertainty_percent": "1.5",
        "tier": "3",
        "missing_data_rule": "purchase invoices less stock change",
    },
    {
        "ref": "coal",
        "source": "fuel_combustion",
        "description": "kiln coal",
        "parameter": "ncv",
        "determination": "measured",
        "method": "GB/T 213 on each delivery",
        "instrument": "bomb calorimeter",
        "frequency": "batch",
        "uncertainty_percent": "",
        "tier": "2",
        "missing_data_rule": "the default of the methodology",
    },
)


@dataclass
class TableSources:
    """A parameter table read into plan sources, with where each source and parameter came from."""

    sources: list[dict[str, Any]]
    #: ``/sources/<i>`` → the file row of the source's first row
    source_rows: dict[str, int]
    #: ``/sources/<i>/parameters/<name>`` → the file row of that parameter
    parameter_rows: dict[str, int]
    errors: list[dict[str, Any]]


def _cell(row: dict[str, str], name: str) -> str:
    return (row.get(name) or "").strip()


def sources_from_table(rows: list[dict[str, str]]) -> TableSources:
    """Plan sources (the shape :func:`validate_sources` takes) from parameter-table rows (file row 2 is
    the first data row). Empty cells are absent fields; a ref given twice with another line kind, or a
    parameter given twice for one source, is an error at its row and column."""
    sources: list[dict[str, Any]] = []
    by_ref: dict[str, int] = {}
    found = TableSources(sources, {}, {}, [])
    for number, row in enumerate(rows, start=2):
        ref, kind = _cell(row, "ref"), _cell(row, "source")
        index = by_ref.get(ref)
        if index is None or not ref:
            index = len(sources)
            if ref:
                by_ref[ref] = index
            source: dict[str, Any] = {"ref": ref, "source": kind, "parameters": {}}
            if _cell(row, "description"):
                source["description"] = _cell(row, "description")
            sources.append(source)
            found.source_rows[f"/sources/{index}"] = number
        elif sources[index]["source"] != kind:
            found.errors.append(
                {
                    "pointer": f"/rows/{number - 2}/source",
                    "row": number,
                    "column": "source",
                    "code": "inconsistent",
                    "detail": f"ref {ref} is a {sources[index]['source']} source on an earlier row",
                }
            )
            continue
        name = _cell(row, "parameter")
        if not name:
            continue
        parameters = sources[index]["parameters"]
        if name in parameters:
            found.errors.append(
                {
                    "pointer": f"/rows/{number - 2}/parameter",
                    "row": number,
                    "column": "parameter",
                    "code": "duplicate",
                    "detail": f"parameter {name} of {ref} is on an earlier row",
                }
            )
            continue
        parameters[name] = {field: _cell(row, field) for field in PARAMETER_FIELDS if _cell(row, field)}
        found.parameter_rows[f"/sources/{index}/parameters/{name}"] = number
    return found


def table_error(error: dict[str, str], table: TableSources) -> dict[str, Any]:
    """A :func:`validate_sources` error (a pointer under ``/sources``) at the file's row and column."""
    pointer = error["pointer"]
    parts = pointer.split("/")  # "", "sources", i, [field | "parameters", name, [field]]
    row, column = None, None
    if len(parts) >= 5 and parts[3] == "parameters":
        row = table.parameter_rows.get("/".join(parts[:5]))
        column = parts[5] if len(parts) > 5 else "parameter"
    elif len(parts) >= 3:
        row = table.source_rows.get("/".join(parts[:3]))
        column = parts[3] if len(parts) > 3 else "ref"
    return {
        "pointer": f"/rows/{row - 2}/{column}" if row is not None else pointer,
        "row": row,
        "column": column,
        "code": error["code"],
        "detail": error["detail"],
    }

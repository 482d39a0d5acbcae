"""Activity lines as spreadsheet rows: CSV and XLSX templates per sector, and reading them back.

One row is one activity line. Columns are the line's fields; a quantity field ``X`` has its unit in
the column ``X_unit`` (a fraction may leave the unit empty); nested fields use dots
(``steam.mass``, ``steam.mass_unit``); list fields (``substitutes``, ``inputs``, ``outputs``) hold
a JSON array in one cell. Cells are read as text, so numbers stay exact. Errors found by the engine
(JSON pointers such as ``/lines/3/ncv/unit``) are mapped back to a row and a column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounting.registry import registered

COMMON = ("ref", "source", "month")
#: Fields holding a code, a choice or a bare number: they get no unit column.
UNITLESS = frozenset(
    {
        "fuel",
        "material",
        "product",
        "clinker_type",
        "direction",
        "grid",
        "method",
        "cell_technology",
        "anode_effect_minutes",
        "overvoltage_mv",
        "slope_cf4",
        "c2f6_ratio",
        "overvoltage_coefficient",
        "cf4_emission_factor",
        "c2f6_emission_factor",
        "biomass_fraction",
        "oxidation_factor",
        "organic_carbon_fraction",
        "current_efficiency",
    }
)
NESTED = {"steam": ("mass", "enthalpy"), "hot_water": ("mass", "temperature")}
LISTS = frozenset({"substitutes", "inputs", "outputs"})
SECTOR_KINDS = {
    "cement": (
        "fuel_combustion",
        "electricity",
        "heat",
        "clinker_carbonate",
        "clinker_default",
        "raw_meal_organic_carbon",
        "production",
    ),
    "steel": (
        "fuel_combustion",
        "electricity",
        "heat",
        "carbonate",
        "electrode",
        "carbon_input",
        "carbon_fixed_output",
        "carbon_mass_balance",
        "production",
    ),
    "aluminium": (
        "fuel_combustion",
        "electricity",
        "heat",
        "carbonate",
        "anode_consumption",
        "anode_effect",
        "anode_baking",
        "production",
    ),
}
MAX_ROWS = 20_000
FORMATS = ("csv", "xlsx")


class LineFileError(ValueError):
    """The file itself cannot be read (not CSV/XLSX, no header, too many rows)."""


@dataclass(frozen=True, slots=True)
class CellError:
    row: int
    column: str
    pointer: str
    code: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "pointer": self.pointer,
            "code": self.code,
            "detail": self.detail,
        }


def columns(sector: str) -> list[str]:
    """The template's columns for ``sector``: common fields, then each line kind's fields."""
    methods = {kind: method for (kind, _variant), method in registered().items()}
    names: list[str] = list(COMMON)
    for kind in SECTOR_KINDS[sector]:
        for field in sorted(methods[kind].fields):
            if field in NESTED:
                for part in NESTED[field]:
                    candidates = [f"{field}.{part}", f"{field}.{part}_unit"]
                    names.extend(c for c in candidates if c not in names)
                continue
            candidates = [field] if field in UNITLESS or field in LISTS else [field, f"{field}_unit"]
            names.extend(c for c in candidates if c not in names)
    return names


def line_to_row(line: dict[str, Any]) -> dict[str, str]:
    """One activity line (JSON form) as a template row."""
    row: dict[str, str] = {}

    def put(prefix: str, key: str, value: Any) -> None:
        name = f"{prefix}{key}"
        if isinstance(value, dict) and "value" in value:
            row[name] = str(value["value"])
            row[f"{name}_unit"] = str(value["unit"])
        elif isinstance(value, dict):
            for inner_key, inner in value.items():
                put(f"{name}.", inner_key, inner)
        elif isinstance(value, list):
            row[name] = json.dumps(value, default=str)
        elif value is not None:
            row[name] = str(value)

    for key, value in line.items():
        put("", key, value)
    return row


def row_to_line(row: dict[str, str]) -> dict[str, Any]:
    """One template row (column → cell text) as an activity line; empty cells are absent fields."""
    line: dict[str, Any] = {}
    for column, raw in row.items():
        if column is None or raw is None:
            continue
        cell = str(raw).strip()
        if not cell or column.endswith("_unit"):
            continue
        unit = (row.get(f"{column}_unit") or "").strip()
        if column in LISTS:
            try:
                value: Any = json.loads(cell, parse_float=Decimal, parse_int=Decimal)
            except (ValueError, RecursionError):
                value = cell  # the engine refuses it with a pointer to this column
        elif column == "month":
            value = cell
        else:
            value = {"value": cell, "unit": unit} if unit else cell
        target = line
        *parents, leaf = column.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return line


def column_for(pointer: str, row: dict[str, str]) -> tuple[int, str]:
    """Map ``/lines/<i>/<field>[/...]`` to ``(line index, column name)``."""
    parts = pointer.strip("/").split("/")
    index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
    fields = parts[2:]
    if not fields:
        return index, ""
    if fields[0] in NESTED and len(fields) > 1:
        name = f"{fields[0]}.{fields[1]}"
        return index, f"{name}_unit" if fields[-1] == "unit" else name
    if fields[0] in LISTS:
        return index, fields[0]
    return index, f"{fields[0]}_unit" if fields[-1] == "unit" else fields[0]


# -- reading ------------------------------------------------------------------------------------------
def read_rows(content: bytes, file_format: str) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, optional BOM) or XLSX file as dicts keyed by the header row."""
    rows = list(_csv_rows(content) if file_format == "csv" else _xlsx_rows(content))
    if not rows:
        raise LineFileError("the file has no header row")
    header = [str(name).strip() if name is not None else "" for name in rows[0]]
    if "source" not in header:
        raise LineFileError("the header row must name the columns; 'source' is required")
    body = [r for r in rows[1:] if any(cell not in (None, "") for cell in r)]
    if len(body) > MAX_ROWS:
        raise LineFileError(f"at most {MAX_ROWS} rows per file")
    return [{name: _text(cell) for name, cell in zip(header, r, strict=False) if name} for r in body]


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return repr(cell)
    return str(cell)


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LineFileError(f"the CSV file is not UTF-8 (byte {error.start})") from error
    yield from csv.reader(io.StringIO(text))


def _xlsx_rows(content: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise LineFileError("the file is not a readable XLSX workbook") from error
    sheet = workbook.active
    if sheet is None:
        raise LineFileError("the workbook has no sheet")
    for values in sheet.iter_rows(values_only=True):
        yield list(values)
    workbook.close()


# -- writing ------------------------------------------------------------------------------------------
def write(names: list[str], rows: Iterable[dict[str, str]], file_format: str) -> bytes:
    """A CSV or XLSX file with header ``names`` and ``rows`` (all cells as text)."""
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="raise")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("lines")
    sheet.append(names)
    for row in rows:
        sheet.append([row.get(name, "") for name in names])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

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
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounting.registry import EMISSION_FIELDS, registered
from mrv.domain import headers
from mrv.domain.cells import export_cell

COMMON = ("ref", "source", "month", "unit")
#: Fields holding a code, a choice or a bare number: they get no unit column.
UNITLESS = frozenset(
    {
        "unit",
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
#: Rows read at most, blank ones included (a file of millions of empty rows is refused when reading reaches it).
MAX_ROWS_READ = 2 * MAX_ROWS
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
    fields: dict[str, set[str]] = {}
    for (kind, _variant), method in registered().items():  # every variant's fields: any methodology's line
        fields.setdefault(kind, set()).update(method.fields)
    names: list[str] = list(COMMON)
    for kind in SECTOR_KINDS[sector]:
        for field in sorted(fields[kind]):
            if field in EMISSION_FIELDS:  # a line's stated uncertainty: JSON only (no line-file columns)
                continue
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
    if fields[0] in LISTS or fields[0] == "unit":
        return index, fields[0]
    return index, f"{fields[0]}_unit" if fields[-1] == "unit" else fields[0]


# -- reading ------------------------------------------------------------------------------------------
#: Longest text accepted in one cell (a list cell holds a JSON array of a few items).
MAX_CELL_CHARS = 4096
#: XLSX is a ZIP of XML: refuse before parsing when it would inflate beyond these bounds.
MAX_XLSX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
MAX_XLSX_RATIO = 100
CSV_DELIMITERS = (",", ";", "\t")


def read_rows(content: bytes, file_format: str) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by the header row.

    Rows are streamed and counting stops at the cap plus one, so a file of a million rows costs no more
    than one of ``MAX_ROWS + 1``; cells are bounded; a NUL character in a cell is refused.
    """
    rows = _csv_rows(content) if file_format == "csv" else _xlsx_rows(content)
    first = next(rows, None)
    if first is None:
        raise LineFileError("the file has no header row")
    # A column is named by its field or by its Chinese header (mrv.domain.headers), read back to the field.
    header = [headers.english(str(name).strip()) if name is not None else "" for name in first]
    if "source" not in header:
        raise LineFileError(
            "the header row must name the columns and include 'source'; download the template from "
            "/api/v1/reports/lines/template/?sector=<sector>&format=csv|xlsx"
        )
    body: list[dict[str, str]] = []
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS_READ + 1:  # blank rows count too: millions of empty rows cost as much to read
            raise LineFileError(
                f"at most {MAX_ROWS_READ} rows per file, blank rows included; split the file and import it in parts"
            )
        if not any(cell not in (None, "") for cell in row):
            continue
        if len(body) == MAX_ROWS:
            raise LineFileError(f"at most {MAX_ROWS} rows per file; split the file and import it in parts")
        cells: dict[str, str] = {}
        for name, cell in zip(header, row, strict=False):
            if not name:
                continue
            text = _text(cell)
            if len(text) > MAX_CELL_CHARS:
                raise LineFileError(
                    f"row {number}, column {name!r}: a cell holds at most {MAX_CELL_CHARS} characters"
                )
            if "\x00" in text:
                raise LineFileError(
                    f"row {number}, column {name!r}: the cell contains a NUL character; remove it"
                )
            cells[name] = text
        body.append(cells)
    return body


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return repr(cell)
    return str(cell)


def decode_csv(content: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), else GB18030, else a 400 naming both.

    A short GB18030 text can also be valid UTF-8 (煤 is C3 BA, which UTF-8 reads as ú): when the UTF-8
    reading holds Latin-1 letters and the GB18030 reading holds as many Chinese characters, the file is
    GB18030 (activity data is not written in accented Latin).
    """
    if content.startswith(b"\xef\xbb\xbf"):
        return _decode(content, "utf-8-sig")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        try:
            return content.decode("gb18030")
        except UnicodeDecodeError:
            raise LineFileError(
                f"the CSV file is neither UTF-8 nor GB18030 (first bad byte at {error.start}); save it "
                "as 'CSV UTF-8' from the spreadsheet program"
            ) from None
    latin = len(_LATIN1_LETTERS.findall(text))
    if latin:
        try:
            chinese = content.decode("gb18030")
        except UnicodeDecodeError:
            return text
        if len(_CJK.findall(chinese)) >= latin:
            return chinese
    return text


_LATIN1_LETTERS = re.compile("[\u00c0-\u00ff]")
_CJK = re.compile("[\u4e00-\u9fff]")


def _decode(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as error:
        raise LineFileError(
            f"the CSV file starts with a UTF-8 mark but is not UTF-8 (byte {error.start}); save it as "
            "'CSV UTF-8' from the spreadsheet program"
        ) from error


def csv_delimiter(text: str) -> str:
    """The delimiter of a CSV file, from its header row: comma, semicolon or tab (whichever splits it
    into the most columns, 'source' among them)."""
    header = text.split("\n", 1)[0]
    best, columns = ",", 0
    for delimiter in CSV_DELIMITERS:
        names = [headers.english(name.strip().strip('"')) for name in header.split(delimiter)]
        if "source" in names and len(names) > columns:
            best, columns = delimiter, len(names)
    return best


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    text = decode_csv(content)
    reader = csv.reader(io.StringIO(text), delimiter=csv_delimiter(text))
    try:
        yield from reader
    except csv.Error as error:
        raise LineFileError(
            f"row {reader.line_num}: the CSV file cannot be read ({error}); a cell holds at most "
            f"{MAX_CELL_CHARS} characters"
        ) from error


def _check_xlsx_size(content: bytes) -> None:
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise LineFileError("the file is not a readable XLSX workbook") from error
    inflated = sum(member.file_size for member in members)
    if inflated > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise LineFileError(
            f"the workbook inflates to {inflated} bytes, more than {MAX_XLSX_UNCOMPRESSED_BYTES}; "
            f"import at most {MAX_ROWS} rows per file"
        )
    if inflated > 1024 * 1024 and inflated > MAX_XLSX_RATIO * max(len(content), 1):
        raise LineFileError(
            f"the workbook is compressed more than {MAX_XLSX_RATIO}:1, which no activity data needs; "
            "refused as a decompression bomb"
        )


def _xlsx_rows(content: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    _check_xlsx_size(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise LineFileError("the file is not a readable XLSX workbook") from error
    try:
        sheet = workbook.active
        if sheet is None:
            raise LineFileError("the workbook has no sheet")
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception as error:  # a sheet that stops half-way: the XML parser raises mid-read
                raise LineFileError(
                    "the XLSX workbook is damaged: its sheet cannot be read to the end; save it again and retry"
                ) from error
            yield list(values)
    finally:
        workbook.close()


# -- writing ------------------------------------------------------------------------------------------
def write(names: list[str], rows: Iterable[Mapping[str, Any]], file_format: str) -> bytes:
    """A CSV or XLSX file with header ``names`` and ``rows``, every cell through
    :func:`mrv.domain.cells.export_cell`: numbers in plain notation (numeric cells in XLSX), text that a
    spreadsheet would evaluate kept inert (a leading apostrophe in CSV, a quote-prefixed string cell in
    XLSX). Cells given as text stay text (a template's ``"1000"`` is read back exactly)."""
    if file_format == "csv":
        buffer = io.StringIO()
        # Every field quoted: a ';' in a cell cannot start a new cell for a semicolon-separated reader.
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
        writer.writerow([export_cell(name).csv_text for name in names])
        writer.writerows([export_cell(row.get(name)).csv_text for name in names] for row in rows)
        return buffer.getvalue().encode("utf-8")
    return write_workbook([{"title": "lines", "columns": names, "rows": rows}], bold_header=False)


def write_workbook(sheets: Iterable[Mapping[str, Any]], *, bold_header: bool = True) -> bytes:
    """An XLSX workbook of sheets ``{"title", "columns", "rows", "formats"?}``: a Decimal or an integer
    is a numeric cell (shown with its column's number format from ``formats``), anything else a text
    cell through :func:`mrv.domain.cells.export_cell`, quote-prefixed when it would be evaluated.
    Exact decimal strings stay available in the JSON and CSV forms."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    for spec in sheets:
        sheet = workbook.create_sheet(spec["title"])
        columns, formats = list(spec["columns"]), spec.get("formats") or {}
        header = [_xlsx_cell(sheet, name) for name in columns]
        if bold_header:
            for cell in header:
                cell.font = Font(bold=True)
        sheet.append(header)
        for row in spec["rows"]:
            sheet.append([_xlsx_cell(sheet, row.get(name), formats.get(name)) for name in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: Any, number_format: str | None = None) -> Any:
    """One cell of a write-only ``sheet``: a number for a Decimal or an integer, else a string (never a
    formula or an error value), quote-prefixed when a spreadsheet would evaluate its text."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        number = WriteOnlyCell(sheet, value)
        if number_format:
            number.number_format = number_format
        return number
    cell = export_cell(value)
    written = WriteOnlyCell(sheet)
    # Always a string, set after the value: openpyxl would make "=..." a formula and "#REF!" an error.
    written.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", cell.text)
    written.data_type = "s"
    if cell.inert:
        written.quotePrefix = True
    return written

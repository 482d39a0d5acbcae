"""Reading line files from clients: bounded, streamed, and forgiving of how spreadsheets save CSV.

Pure tests of ``mrv.domain.linefiles`` (no database): a decompression bomb is refused before it is
parsed, counting rows stops at the cap plus one, over-long and NUL cells are refused with the row and
column, and CSV files saved with semicolons, tabs or in GB18030 are read.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from mrv.domain import linefiles

HEADER = ["ref", "source", "fuel", "quantity", "quantity_unit"]
ROW = ["煤-1", "fuel_combustion", "bituminous_coal", "1000", "t"]


def workbook(rows: int, *, header: list[str] = HEADER, row: list[str] = ROW) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("lines")
    sheet.append(header)
    for _ in range(rows):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bomb(*, inflated: int) -> bytes:
    """A ZIP whose one member inflates to ``inflated`` bytes of blanks (compresses about 1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * inflated)
    return out.getvalue()


def test_a_decompression_bomb_is_refused_before_parsing() -> None:
    content = bomb(inflated=20 * 1024 * 1024)
    assert len(content) < 100_000
    with pytest.raises(linefiles.LineFileError, match="decompression bomb"):
        linefiles.read_rows(content, "xlsx")


def test_a_workbook_that_inflates_beyond_the_bound_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (linefiles.MAX_XLSX_UNCOMPRESSED_BYTES + 1))
    with pytest.raises(linefiles.LineFileError, match="inflates"):
        linefiles.read_rows(out.getvalue(), "xlsx")


def test_counting_rows_stops_at_the_cap_plus_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linefiles, "MAX_ROWS", 50)
    assert len(linefiles.read_rows(workbook(50), "xlsx")) == 50
    consumed = []
    rows = ([*HEADER], *([*ROW] for _ in range(10_000)))

    def streamed(_: bytes) -> object:
        for row in rows:
            consumed.append(row)
            yield row

    monkeypatch.setattr(linefiles, "_xlsx_rows", streamed)
    with pytest.raises(linefiles.LineFileError, match="at most 50 rows"):
        linefiles.read_rows(b"", "xlsx")
    assert len(consumed) == 1 + 51  # the header, the cap, and one more: never the other 9,949


def test_a_legitimate_workbook_at_the_row_cap_passes_the_size_checks() -> None:
    content = workbook(linefiles.MAX_ROWS)
    linefiles._check_xlsx_size(content)  # no exception: a real 20,000-row file is well inside the bounds


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiters_are_detected(delimiter: str) -> None:
    text = "\n".join(delimiter.join(row) for row in (HEADER, ROW))
    [row] = linefiles.read_rows(text.encode(), "csv")
    assert row == dict(zip(HEADER, ROW, strict=True))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_utf8_with_or_without_bom_and_gb18030(encoding: str) -> None:
    text = "\n".join(",".join(row) for row in (HEADER, ROW))
    [row] = linefiles.read_rows(text.encode(encoding), "csv")
    assert row["ref"] == "煤-1"


def test_an_undecodable_csv_says_what_to_do() -> None:
    with pytest.raises(linefiles.LineFileError, match=r"neither UTF-8 nor GB18030.*CSV UTF-8"):
        linefiles.read_rows(b"source,ref\nfuel_combustion,\x80\xff\n", "csv")


def test_a_csv_cell_over_the_field_limit_is_refused_with_its_row() -> None:
    text = "source,ref\nfuel_combustion," + "x" * 200_000 + "\n"
    with pytest.raises(linefiles.LineFileError, match="row 2"):
        linefiles.read_rows(text.encode(), "csv")


def test_a_long_cell_is_refused_with_its_row_and_column() -> None:
    text = "source,ref\nfuel_combustion," + "x" * (linefiles.MAX_CELL_CHARS + 1) + "\n"
    with pytest.raises(linefiles.LineFileError, match="row 2, column 'ref'"):
        linefiles.read_rows(text.encode(), "csv")


def test_a_nul_character_in_a_cell_is_refused() -> None:
    with pytest.raises(linefiles.LineFileError, match=r"row 2, column 'ref'.*NUL"):
        linefiles.read_rows(b"source,ref\nfuel_combustion,a\x00b\n", "csv")


def test_blank_rows_count_towards_the_rows_read() -> None:
    """Eight million empty lines (what fits in an 8 MiB body) are refused when reading passes the bound,
    not read to the end (a worker held for seconds per million rows)."""
    content = b"source,ref\n" + b"\n" * 8_000_000
    with pytest.raises(
        linefiles.LineFileError, match=f"at most {linefiles.MAX_ROWS_READ} rows per file, blank"
    ):
        linefiles.read_rows(content, "csv")
    assert linefiles.read_rows(b"source,ref\n" + b"\n" * 100 + b"fuel_combustion,a\n", "csv") == [
        {"source": "fuel_combustion", "ref": "a"}
    ]

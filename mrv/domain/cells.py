"""Spreadsheet cells that no spreadsheet evaluates: the one place every export writes a value through.

A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width
forms, which East Asian spreadsheet input turns into the ASCII ones) is a formula to Excel, LibreOffice
and Google Sheets: a facility named ``=HYPERLINK("http://x","y")`` would become a live link in the
regulator's spreadsheet. :func:`export_cell` marks such text so that it stays text:

* CSV: the text gets a leading apostrophe (``'=HYPERLINK(...)``), the usual neutralisation; the
  writer also quotes every field, so a ``;`` inside a cell cannot split it into a new, unchecked
  cell when a spreadsheet reads the file with a semicolon separator.
* XLSX: the cell is written as a string (never a formula or an error value) with Excel's
  ``quotePrefix`` style, so the text is kept exactly and stays text even when edited.

Numbers are not text: a Decimal or an integer is written in plain decimal notation, never marked
(``-12.5`` stays the figure -12.5). A string that is a plain decimal number (``-12.5`` in a template
row) is not marked either: a spreadsheet reads it as that number and evaluates nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounting.numbers import plain

#: First characters that make a spreadsheet evaluate a cell (ASCII, and the full-width forms).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class ExportCell:
    """One exported value: its ``text``, and ``inert`` when the text would be evaluated as written."""

    text: str
    inert: bool = False

    @property
    def csv_text(self) -> str:
        """The cell as CSV text: an apostrophe before text that a spreadsheet would evaluate."""
        return f"'{self.text}" if self.inert else self.text


def export_cell(value: Any) -> ExportCell:
    """The exported form of ``value``: numbers as plain decimals, None as empty, anything else as text,
    marked ``inert`` when it begins like a formula."""
    if value is None:
        return ExportCell("")
    if isinstance(value, Decimal):
        return ExportCell(plain(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return ExportCell(str(value))
    text = str(value)
    return ExportCell(text, inert=text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text))

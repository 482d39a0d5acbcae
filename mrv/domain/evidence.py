"""Evidence files: their kinds, and what a file is judged to be from its bytes (never from its name).

A file is accepted when its content is one of:

* PDF: it opens with ``%PDF-``;
* PNG: the eight-byte PNG signature;
* JPEG: ``FF D8 FF``;
* XLSX: a ZIP archive whose directory lists ``[Content_Types].xml`` and a part under ``xl/`` (nothing is
  decompressed to decide);
* text (CSV or TXT): no NUL byte, and the whole file decodes as UTF-8 (with or without a BOM) or as
  GB18030 (what spreadsheet software in China writes). Text is CSV when the client named it ``.csv``,
  else plain text: the name only chooses between two text types, it can never make a binary file pass.

Everything else (executables, archives of other kinds, Office documents other than XLSX, ...) is refused.
Pure Python: no Django.
"""

from __future__ import annotations

import codecs
import zipfile
from typing import BinaryIO

#: What an evidence file documents (the SPEC's ``kind``).
KINDS = (
    "lab_report",
    "weighbridge_ledger",
    "invoice",
    "meter_reading",
    "calibration_certificate",
    "photo",
    "other",
)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
TXT = "text/plain"
#: The accepted types, as a person reads them (the refusal names them).
ALLOWED = "PDF, PNG, JPEG, XLSX, CSV or TXT (UTF-8 or GB18030)"
#: The extension of a stored file of each type (the stored name is generated, never the client's).
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", XLSX: ".xlsx", CSV: ".csv", TXT: ".txt"}

_CHUNK = 1024 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZIP_SIGNATURE = b"PK\x03\x04"


def detect(file: BinaryIO, *, name: str = "") -> str | None:
    """The content type of the seekable binary ``file`` (read from its start, left at its start), or None
    when it is none of the accepted types. ``name`` (the client's) only tells CSV from plain text."""
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return PDF
        if head.startswith(_PNG_SIGNATURE):
            return PNG
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith(_ZIP_SIGNATURE):
            return XLSX if _is_xlsx(file) else None
        charset = _text_charset(file)
        if charset is None:
            return None
        kind = CSV if name.lower().endswith(".csv") else TXT
        return f"{kind}; charset={charset}"
    finally:
        file.seek(0)


def base_type(content_type: str) -> str:
    """``text/csv; charset=utf-8`` → ``text/csv``."""
    return content_type.split(";", 1)[0].strip()


def _is_xlsx(file: BinaryIO) -> bool:
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names)


def _text_charset(file: BinaryIO) -> str | None:
    """``utf-8`` or ``gb18030`` when the whole file is NUL-free text in that encoding, else None.

    Read in chunks through an incremental decoder (memory does not grow with the file); GB18030 is tried
    only when the file is not UTF-8."""
    for charset in ("utf-8", "gb18030"):
        file.seek(0)
        decoder = codecs.getincrementaldecoder(charset)()
        try:
            while chunk := file.read(_CHUNK):
                if b"\x00" in chunk:
                    return None
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return charset
    return None

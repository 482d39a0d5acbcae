"""Line-file templates per sector: the columns the importer reads, with example rows."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from mrv.domain import linefiles

EXAMPLES_FILE = Path(settings.BASE_DIR) / "fixtures" / "line_examples.json"
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@cache
def example_lines() -> dict[str, list[dict[str, Any]]]:
    data = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    return {sector: data[sector] for sector in linefiles.SECTOR_KINDS}


def template_file(*, sector: str, file_format: str) -> tuple[bytes, str]:
    rows = [linefiles.line_to_row(line) for line in example_lines()[sector]]
    return linefiles.write(linefiles.columns(sector), rows, file_format), CONTENT_TYPES[file_format]

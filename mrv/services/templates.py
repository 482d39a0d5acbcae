"""Line-file templates per sector: the columns the importer reads, with example rows."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from mrv.domain import headers, linefiles

EXAMPLES_FILE = Path(settings.BASE_DIR) / "fixtures" / "line_examples.json"


@cache
def example_lines() -> dict[str, list[dict[str, Any]]]:
    data = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))
    return {sector: data[sector] for sector in linefiles.SECTOR_KINDS}


def template_table(*, sector: str, chinese: bool = False) -> dict[str, Any]:
    """The template as a table: the importer's columns and one example row per example line.

    ``chinese``: the columns under their Chinese headers (mrv.domain.headers), which the importer reads
    back as well; the cells (codes, figures, units) are the same."""
    rows = [linefiles.line_to_row(line) for line in example_lines()[sector]]
    columns = linefiles.columns(sector)
    if chinese:
        names = {column: headers.chinese(column) for column in columns}
        columns = [names[column] for column in columns]
        rows = [{names.get(column, column): value for column, value in row.items()} for row in rows]
    return {"columns": columns, "rows": rows, "filename": f"{sector}-lines"}

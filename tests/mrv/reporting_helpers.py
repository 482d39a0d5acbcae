"""Request bodies shared by the reporting tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EXAMPLES = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "line_examples.json").read_text())


def lines(sector: str) -> list[dict[str, Any]]:
    return copy.deepcopy(EXAMPLES[sector])


def report_body(facility: Any, year: int = 2024, **extra: Any) -> dict[str, Any]:
    return {"facility": facility.pk, "year": year, "lines": lines(facility.sector), **extra}

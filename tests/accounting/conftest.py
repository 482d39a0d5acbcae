"""Shared helpers for the pure engine tests (no Django)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

#: The worked examples (request + exact expected figures) are kept in the repository.
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json"))


def load_example(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=Decimal)


def agrees(actual: Any, expected: Any) -> bool:
    """The examples' agreement rule: relative difference ≤ 1e-9 or absolute ≤ 0.000001 t."""
    a, e = Decimal(str(actual)), Decimal(str(expected))
    difference = abs(a - e)
    return difference <= Decimal("0.000001") or (e != 0 and difference / abs(e) <= Decimal("1e-9"))


def assert_figures(actual: dict[str, Any], expected: dict[str, Any], path: str = "") -> None:
    """Every figure of ``expected`` (nested) agrees with ``actual``."""
    for key, value in expected.items():
        where = f"{path}/{key}"
        assert key in actual, f"{where} missing"
        if isinstance(value, dict):
            assert_figures(actual[key], value, where)
        elif value is None or (isinstance(value, str) and not value.lstrip("-")[:1].isdigit()):
            assert actual[key] == value, where
        else:
            assert agrees(actual[key], value), f"{where}: {actual[key]} != {value}"


@pytest.fixture(scope="session")
def examples() -> list[Path]:
    assert EXAMPLES, f"no worked examples found under {EXAMPLES_DIR}"
    return EXAMPLES

"""The worked examples of fixtures/examples reproduce exactly through the engine.

An example may rely on the methodology's default factors: its ``expected`` then names the
``methodology_version`` the figures belong to, and each line's ``origin`` and the ``parameters``
(value, unit, origin) the engine must have used.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from accounting import calculate
from tests.accounting.conftest import EXAMPLES, EXAMPLES_DIR, assert_figures, load_example


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_reproduces(path: Path) -> None:
    example = load_example(path)
    result = calculate(example["request"]).as_json()
    expected = example["expected"]
    for key in ("methodology", "methodology_version"):
        if key in expected:
            assert result[key] == expected[key], key
    by_ref = {line["ref"]: line for line in result["lines"]}
    assert [line["ref"] for line in result["lines"]] == [line["ref"] for line in example["request"]["lines"]]
    for ref, figures in expected["lines"].items():
        assert_figures(by_ref[ref], figures, f"/lines/{ref}")
    assert_figures(result["totals"], expected["totals"], "/totals")
    assert_figures(result["intensity"], expected["intensity"], "/intensity")


def test_examples_are_present() -> None:
    assert len(EXAMPLES) >= 3


def test_an_example_on_defaults_names_its_methodology_version() -> None:
    # Figures that depend on default factors change with the methodology version: such an example
    # must say which version it was worked under, or a new version would silently change its meaning.
    for path in EXAMPLES:
        example = load_example(path)
        lines = example["expected"]["lines"].values()
        if any(line.get("origin") == "default" for line in lines):
            assert "methodology_version" in example["expected"], path.name


def test_the_examples_show_a_default_diesel_line_at_the_corrected_ncv_and_the_old_one_pinned() -> None:
    figures = {}
    for name in ("cn-mee-defaults-latest", "cn-mee-defaults-2024.1"):
        example = load_example(EXAMPLES_DIR / f"{name}.json")
        result = calculate(example["request"]).as_json()
        diesel = next(line for line in result["lines"] if line["ref"] == "diesel")
        figures[result["methodology_version"]] = diesel["parameters"]["ncv"]
    assert figures["2024.2"]["value"] == Decimal("42.652")
    assert figures["2024.1"]["value"] == Decimal("43.33")
    assert figures["2024.2"]["origin"] == figures["2024.1"]["origin"] == "default"

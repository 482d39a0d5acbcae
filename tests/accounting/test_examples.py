"""The worked examples of domain/examples reproduce exactly through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounting import calculate
from tests.accounting.conftest import EXAMPLES, assert_figures, load_example


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_reproduces(path: Path) -> None:
    example = load_example(path)
    result = calculate(example["request"]).as_json()
    expected = example["expected"]
    by_ref = {line["ref"]: line for line in result["lines"]}
    assert [line["ref"] for line in result["lines"]] == [line["ref"] for line in example["request"]["lines"]]
    for ref, figures in expected["lines"].items():
        assert_figures(by_ref[ref], figures, f"/lines/{ref}")
    assert_figures(result["totals"], expected["totals"], "/totals")
    assert_figures(result["intensity"], expected["intensity"], "/intensity")


def test_examples_are_present() -> None:
    assert len(EXAMPLES) >= 3

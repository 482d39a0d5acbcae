"""Every Decimal leaves the service as a string in plain notation."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest
from django.utils.translation import gettext_lazy

from mrv.api.renderers import JSONRenderer


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("808692.709485"), "808692.709485"),
        (Decimal("5E+4"), "50000"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("-0.50"), "-0.50"),
        (Decimal(10) ** 400, "1" + "0" * 400),
    ],
)
def test_decimals_render_as_plain_strings(value: Decimal, text: str) -> None:
    rendered = JSONRenderer().render({"co2e": value})
    assert orjson.loads(rendered) == {"co2e": text}
    assert b"E" not in rendered and b"e" not in rendered.replace(b"co2e", b"")


def test_lazy_strings_and_none() -> None:
    assert JSONRenderer().render({"detail": gettext_lazy("Not found.")}) == b'{"detail":"Not found."}'
    assert JSONRenderer().render(None) == b""


def test_unknown_types_are_a_programming_error() -> None:
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})

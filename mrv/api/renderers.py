"""JSON responses through orjson, every Decimal as a string in plain notation (never an exponent)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson
from django.utils.functional import Promise
from rest_framework import renderers

from accounting.numbers import plain


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, Promise):  # lazy translation strings in DRF's messages
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(data: Any, *, indent: bool = False) -> bytes:
    return orjson.dumps(data, default=_default, option=orjson.OPT_INDENT_2 if indent else 0)


class JSONRenderer(renderers.JSONRenderer):
    """``application/json`` rendered by orjson (several times faster than DRF's own)."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        renderer_context = renderer_context or {}
        indent = bool(self.get_indent(accepted_media_type or "", renderer_context))
        return dumps(data, indent=indent)

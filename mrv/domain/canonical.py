"""Canonical JSON and its SHA-256 digest: the fingerprint of frozen report inputs and audit events.

Keys sorted, no insignificant white space, UTF-8, every Decimal written in plain notation exactly as
it was read (``0.10`` stays ``0.10``). Equal inputs give equal digests on every machine.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from accounting.numbers import plain


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    raise TypeError(f"{type(value).__name__} is not canonical JSON")


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    ).encode("utf-8")


def digest(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def jsonable(value: Any) -> Any:
    """``value`` with every Decimal turned into its plain text, ready for a JSONField."""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value

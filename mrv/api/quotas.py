"""Per-user quotas on the heavy endpoints: activity lines per period (``user_lines``, 100000/min).

``POST /api/v1/calculate/`` and ``POST /api/v1/reports/{id}/lines/import/`` cost in proportion to their
lines, so on top of the request rates (``mrv.api.throttling``) each user may send at most
``MRV_THROTTLE_RATES["user_lines"]`` lines per period, counted in the same shared cache in fixed
windows. A request is charged its lines before it runs:

- calculate: the lines of its body;
- import: the data rows of its file, counted without parsing it: the line breaks of a CSV file; the
  rows an XLSX worksheet declares (``<dimension>``), else its ``<row>`` tags counted as it is
  decompressed (at most the import's row cap plus one).

A request that would take the user past the quota answers 429 with ``Retry-After`` (the end of the
window) and is not charged, so a smaller request may still pass in the same window. A quota smaller
than one request refuses that request in every window: keep it above the largest calculation or file.
"""

from __future__ import annotations

import abc
import io
import re
import time
import zipfile
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling

from mrv.domain import linefiles

SCOPE = "user_lines"
KEY_PREFIX = "mrv:quota"


def _charge(key: str, lines: int, timeout: int) -> int:
    """Add ``lines`` to the counter ``key``; returns the new count (atomic on Redis and in process)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        full_key = cache.make_and_validate_key(key)
        with client.pipeline(transaction=False) as pipe:
            pipe.incrby(full_key, lines)
            pipe.expire(full_key, timeout)
            count, _ = pipe.execute()
        return int(count)
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key, lines))
    except ValueError:  # expired between add and incr: count afresh
        cache.set(key, lines, timeout=timeout)
        return lines


class LineQuotaThrottle(throttling.BaseThrottle, abc.ABC):
    """Charges a request's activity lines to its user's quota; subclasses say how many lines it has."""

    @abc.abstractmethod
    def lines(self, request: Any) -> int:
        """How many activity lines ``request`` carries."""

    def allow_request(self, request: Any, view: Any) -> bool:
        self._wait: float | None = None
        if request.method != "POST" or not (request.user and request.user.is_authenticated):
            return True
        lines = self.lines(request)
        if lines <= 0:
            return True
        limit, period = throttling.SimpleRateThrottle.parse_rate(None, settings.MRV_THROTTLE_RATES[SCOPE])
        now = time.time()
        window = int(now // period)
        key = f"{KEY_PREFIX}:{SCOPE}:{request.user.pk}:{window}"
        if _charge(key, lines, period + 1) <= limit:
            return True
        _charge(key, -lines, period + 1)  # refused: not charged
        self._wait = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self._wait


class CalculationLines(LineQuotaThrottle):
    """The lines of a calculation request's body."""

    def lines(self, request: Any) -> int:
        data = request.data
        lines = data.get("lines") if isinstance(data, dict) else None
        return len(lines) if isinstance(lines, list) else 0


class ImportedRows(LineQuotaThrottle):
    """The data rows of an uploaded line file, counted without parsing it."""

    def lines(self, request: Any) -> int:
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is None or not hasattr(upload, "read"):
            return 0
        content = upload.read()
        upload.seek(0)
        named = request.query_params.get("format") or (upload.name or "").rsplit(".", 1)[-1].lower()
        return xlsx_rows(content) if named == "xlsx" else csv_rows(content)


def csv_rows(content: bytes) -> int:
    """Data rows of a CSV file at most: its lines after the header (a quoted line break counts too)."""
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
    return max(lines - 1, 0)


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")


def xlsx_rows(content: bytes) -> int:
    """Data rows of the first worksheet (header excluded), from the row count it declares
    (``<dimension ref="A1:K120"/>``) or else by counting its ``<row>`` tags as it is decompressed,
    without parsing: at most the import's row cap plus one, reading at most the import's limit of
    uncompressed bytes (a file beyond either is charged the cap, and the import refuses it)."""
    cap = linefiles.MAX_ROWS + 1
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
            if not names:
                return cap
            with archive.open(names[0]) as sheet:
                head = sheet.read(4096)
                declared = _declared_rows(head)
                if declared is not None:
                    return min(declared, cap)
                return _counted_rows(head, sheet, cap)
    # zipfile raises NotImplementedError for a compression method it does not support
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
        return cap


def _declared_rows(head: bytes) -> int | None:
    start = head.find(b"dimension ")
    if start < 0:
        return None
    ref = head[start:].split(b'ref="', 1)[-1].split(b'"', 1)[0]
    last = ref.rsplit(b":", 1)[-1].lstrip(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ$")
    return max(int(last) - 1, 0) if last.isdigit() and b":" in ref else None


def _counted_rows(head: bytes, sheet: Any, cap: int) -> int:
    rows, read, carry = 0, len(head), head
    while True:
        chunk = sheet.read(1 << 20)
        read += len(chunk)
        buffer = carry + chunk
        # a tag begins at "<": scan up to the last one, keep the rest (maybe a tag cut in two)
        cut = buffer.rfind(b"<") if chunk else len(buffer)
        cut = len(buffer) if cut < 0 else cut
        rows += len(_ROW_TAG.findall(buffer, 0, cut))
        carry = buffer[cut:]
        if not chunk or rows > cap or read > linefiles.MAX_XLSX_UNCOMPRESSED_BYTES:
            break
    if rows > cap or read > linefiles.MAX_XLSX_UNCOMPRESSED_BYTES:
        return cap
    return max(rows - 1, 0)

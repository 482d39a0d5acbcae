"""Request parsers: numbers are read exactly, and no body can make the service fail.

``DecimalJSONParser`` reads every JSON number as a :class:`decimal.Decimal` from its text (``0.1`` is
exactly one tenth), refuses ``NaN`` and ``Infinity``, refuses nesting deeper than
:data:`MAX_NESTING_DEPTH` before parsing, and turns every way a body can be malformed (not UTF-8,
not JSON, too deep, unpaired surrogates) into a 400 ``ParseError``. Bodies over
``MRV_MAX_BODY_BYTES`` raise Django's ``RequestDataTooBig``, answered 413 by the exception handler.
A JSON body sent as a form (``curl -d`` without ``-H 'Content-Type: application/json'``) answers 415
saying so.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from itertools import accumulate
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import DataAndFiles, FormParser, JSONParser, MultiPartParser

#: Deepest nesting of arrays and objects accepted; a report is at most four or five levels deep.
MAX_NESTING_DEPTH = 64

#: Every byte but the five that decide nesting: brackets and string quotes.
_NOT_STRUCTURAL = bytes(byte for byte in range(256) if byte not in b'[]{}"')
_BRACKET_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NUL_ESCAPE = "\\u0000"


def _refuse_oversized(parser_context: Mapping[str, Any] | None) -> None:
    """Raise ``RequestDataTooBig`` when the declared body length exceeds the limit."""
    request = (parser_context or {}).get("request")
    if request is None:
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")


def nesting_depth(body: bytes) -> int:
    """Deepest nesting of arrays and objects in a JSON body, not counting brackets inside strings.

    C-level passes only (about 4 ms for a 10,000-line report of 1.6 MB): drop escaped backslashes
    and escaped quotes, keep nothing but brackets and quotes, drop quote pairs with no bracket
    between them (most strings), split off what is left inside strings, and sum the brackets.
    UTF-8 never uses ASCII bytes inside a multi-byte character, so this works on the raw bytes.
    """
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = body.translate(None, _NOT_STRUCTURAL).replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = b"".join(skeleton.split(b'"')[::2])
    return max(accumulate(map(_BRACKET_STEP.__getitem__, skeleton)), default=0)


def _refuse_constant(name: str) -> Decimal:
    raise ParseError(f"{name} is not a number; JSON numbers must be finite.")


def _has_unpaired_surrogate(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def loads_exact(body: bytes) -> Any:
    """Parse a JSON body with every number as a Decimal; any malformation raises ``ParseError``."""
    # Fewer opening brackets than the limit cannot nest deeper than it: skip the scan.
    if body.count(b"[") + body.count(b"{") > MAX_NESTING_DEPTH and nesting_depth(body) > MAX_NESTING_DEPTH:
        raise ParseError(f"The request body nests arrays and objects deeper than {MAX_NESTING_DEPTH} levels.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"The request body is not valid UTF-8 (byte {exc.start}).") from exc
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise ParseError("The request body nests arrays and objects too deeply.") from exc
    except ValueError as exc:  # JSONDecodeError, and the int-digit limit of int()
        raise ParseError(f"The request body is not valid JSON: {exc}") from exc
    if _SURROGATE_ESCAPE.search(text) and _has_unpaired_surrogate(data):
        raise ParseError("The request body contains an unpaired UTF-16 surrogate escape.")
    if _NUL_ESCAPE in text:
        pointer = _nul_pointer(data, "")
        if pointer is not None:
            error = ParseError(
                f"The text at {pointer or '/'} contains a NUL character (\\u0000), which no field accepts; "
                "remove it and send the request again."
            )
            error.pointer = pointer  # type: ignore[attr-defined]  # errors[0].pointer of the problem
            raise error
    return data


def _nul_pointer(data: Any, pointer: str) -> str | None:
    """The JSON pointer of the first key or string holding a NUL character, or None."""
    if isinstance(data, str):
        return pointer if "\x00" in data else None
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
            if "\x00" in key:
                return here.replace("\x00", "\\u0000")
            found = _nul_pointer(value, here)
            if found is not None:
                return found
    if isinstance(data, list):
        for index, value in enumerate(data):
            found = _nul_pointer(value, f"{pointer}/{index}")
            if found is not None:
                return found
    return None


class DecimalJSONParser(JSONParser):
    """``application/json`` with exact decimals (see the module docstring)."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        _refuse_oversized(parser_context)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        return loads_exact(body)


class _Bounded:
    """Applies the body size limit (MRV_MAX_BODY_BYTES) before the parser reads the body."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        _refuse_oversized(parser_context)
        return super().parse(stream, media_type, parser_context)  # type: ignore[misc]


#: What a JSON body sent as a form (``curl -d`` without a content type) is told.
JSON_AS_FORM = (
    "The body is JSON but was sent as application/x-www-form-urlencoded (what curl -d sends unless told "
    "otherwise): send it with the header 'Content-Type: application/json'."
)


class BoundedFormParser(_Bounded, FormParser):
    """``application/x-www-form-urlencoded`` with the body size limit. A body that is JSON (it opens
    with ``{`` or ``[``, which no form field name does) is refused with 415 and a hint, not read as a
    form with one odd field."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        _refuse_oversized(parser_context)
        body = stream.read()
        if body.lstrip()[:1] in (b"{", b"["):
            raise UnsupportedMediaType(media_type or self.media_type, detail=JSON_AS_FORM)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(body, encoding=encoding)


class BoundedMultiPartParser(_Bounded, MultiPartParser):
    """``multipart/form-data`` (file uploads) with the body size limit applied to the whole body."""


# -- evidence uploads --------------------------------------------------------------------------------
#: Bytes of a multipart evidence upload beyond the file itself (boundaries, headers, the form fields).
EVIDENCE_ENVELOPE_BYTES = 1024 * 1024


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Streams each uploaded file to a temporary file on disk, computing its SHA-256 chunk by chunk as it
    arrives: memory does not grow with the file. Past ``limit`` bytes the upload is refused (413)."""

    chunk_size = 256 * 1024  # bytes handed over at a time (divisible by 4, as Django's base64 needs)

    def __init__(self, request: Any, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.hasher = hashlib.sha256()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()  # a temporary file: removed
            from mrv.services.evidence import too_large

            raise too_large()
        self.hasher.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> Any:
        upload = super().file_complete(file_size)
        upload.sha256 = self.hasher.hexdigest()
        return upload


class EvidenceMultiPartParser(MultiPartParser):
    """``multipart/form-data`` evidence uploads: the body may be as large as one evidence file
    (``MRV_MAX_EVIDENCE_BYTES``) plus its envelope, not MRV_MAX_BODY_BYTES; a declared length over that is
    refused before reading. Files are hashed while they stream to disk (:class:`HashingUploadHandler`)."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        from mrv.services.evidence import too_large

        context = parser_context or {}
        request = context["request"]
        limit = settings.MRV_MAX_EVIDENCE_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + EVIDENCE_ENVELOPE_BYTES:
            raise too_large()
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        handlers = [HashingUploadHandler(request, limit=limit)]
        encoding = context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            data, files = DjangoMultiPartParser(meta, stream, handlers, encoding).parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from exc
        return DataAndFiles(data, files)

"""The one exception handler: every error becomes an RFC 9457 problem document.

| exception                                   | status | code                   |
|---------------------------------------------|--------|------------------------|
| ``accounting.errors.AccountingError``       | 400    | its own ``code``       |
|   (``MethodologyDataError``, ``RegistryError``: faults of the service, not of the request: 500) |
| DRF ``ValidationError``, Django ``ValidationError`` | 400 | ``invalid_input``  |
| DRF ``ParseError`` (malformed body)         | 400    | ``parse_error``        |
| ``NotAuthenticated``, ``AuthenticationFailed`` | 401 | ``not_authenticated``, ``authentication_failed`` |
|   (``Authorization: Bearer``: the detail says to send ``Token``)                 |
| ``PermissionDenied`` (DRF or Django)        | 403    | ``permission_denied``  |
| ``NotFound``, ``Http404``                   | 404    | ``not_found``          |
| ``MethodNotAllowed``                        | 405    | ``method_not_allowed`` |
| ``NotAcceptable``                           | 406    | ``not_acceptable``     |
| ``UnsupportedMediaType``                    | 415    | ``unsupported_media_type`` (says what to send) |
| ``RequestDataTooBig`` (over MRV_MAX_BODY_BYTES) | 413 | ``request_too_large`` |
| ``TooManyFilesSent``, ``TooManyFieldsSent`` (MRV_MAX_UPLOAD_FILES) | 413 | ``too_many_parts`` |
| ``mrv.errors.ServiceError``                 | its ``status`` (400, 409, 422) | its ``code`` |
| ``Throttled``                               | 429    | ``throttled``          |
| ``mrv.errors.DatabaseBusy``, a transient ``DatabaseError`` (mrv/api/retry.py) | 503 | ``database_busy`` |

429 and 503 carry ``Retry-After``.

Invalid input carries ``errors``: ``[{pointer, code, detail}]``, the pointer into the request body.
Anything else is left to Django, whose ``handler500`` (``mrv.views.server_error``) answers a 500
problem document for API paths.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from accounting.errors import AccountingError, MethodologyDataError, RegistryError
from mrv.api.problems import PROBLEM_CONTENT_TYPE, json_pointer, problem_document
from mrv.api.renderers import JSONRenderer
from mrv.api.retry import busy, transient_sqlstate
from mrv.errors import ServiceError

logger = logging.getLogger(__name__)

_SERVER_FAULTS = (MethodologyDataError, RegistryError)


def _field_errors(detail: Any, path: tuple[str | int, ...] = ()) -> Iterator[dict[str, str]]:
    """Flatten DRF's nested error detail into ``{pointer, code, detail}`` items.

    Dict keys and list indexes become pointer segments, except ``non_field_errors``, which points at
    the object that holds it. A list of messages gives one item per message at the same pointer.
    """
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            child = path if key == api_settings.NON_FIELD_ERRORS_KEY else (*path, key)
            yield from _field_errors(value, child)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, (Mapping, list)):
                yield from _field_errors(item, (*path, index))
            else:
                yield from _field_errors(item, path)
    else:
        yield {
            "pointer": json_pointer(*path),
            "code": getattr(detail, "code", None) or "invalid",
            "detail": str(detail),
        }


def _problem(exc: Exception) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The problem document and extra headers for ``exc``, or None when it is not ours to answer."""
    if isinstance(exc, AccountingError):
        status = 500 if isinstance(exc, _SERVER_FAULTS) else 400
        if status == 500:
            logger.error("calculation engine fault: %s", exc, exc_info=exc)
        errors = [error.as_dict() for error in exc.errors] if status == 400 else None
        return (
            problem_document(status=status, code=exc.code, title=exc.title, detail=exc.detail, errors=errors),
            {},
        )
    state = transient_sqlstate(exc)
    if state is not None:  # not retried (a read, or inside a caller's transaction): still not a 500
        exc = busy(state, 1)
    if isinstance(exc, ServiceError):
        retry_after = getattr(exc, "retry_after", None)
        return (
            problem_document(
                status=exc.status,
                code=exc.code,
                title=exc.title,
                detail=exc.detail,
                errors=exc.errors or None,
            ),
            {"Retry-After": str(retry_after)} if retry_after else {},
        )
    if isinstance(exc, RequestDataTooBig):
        detail = "The request body is larger than this service accepts (MRV_MAX_BODY_BYTES)."
        return (
            problem_document(
                status=413,
                code="request_too_large",
                title="Request body too large",
                detail=detail,
                errors=[{"pointer": "", "code": "request_too_large", "detail": detail}],
            ),
            {},
        )
    if isinstance(exc, TooManyFilesSent | TooManyFieldsSent):
        detail = (
            "The request has more files or form fields than this service accepts "
            f"({settings.DATA_UPLOAD_MAX_NUMBER_FILES} files, {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields)."
        )
        return (
            problem_document(
                status=413,
                code="too_many_parts",
                title="Too many files or fields",
                detail=detail,
                errors=[{"pointer": "", "code": "too_many_parts", "detail": detail}],
            ),
            {},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(math.ceil(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_field_errors(exc.detail))
        count = len(errors)
        document = problem_document(
            status=exc.status_code,
            code="invalid_input",
            title="Invalid input",
            detail=f"The request has {count} invalid field{'s' if count != 1 else ''}; see errors.",
            errors=errors,
        )
    elif isinstance(exc, exceptions.ParseError):
        detail = str(exc.detail)
        document = problem_document(
            status=exc.status_code,
            code="parse_error",
            title="Malformed request body",
            detail=detail,
            # A parser that found where the body is wrong says so (a NUL character: mrv/api/parsers.py).
            errors=[{"pointer": getattr(exc, "pointer", ""), "code": "parse_error", "detail": detail}],
        )
    else:
        code = exc.get_codes()
        document = problem_document(
            status=exc.status_code,
            code=code if isinstance(code, str) else exc.default_code,
            detail=str(exc.detail),
        )
    return document, headers


#: ``Authorization: Bearer <key>`` is read by no authentication class: what the 401 says instead.
BEARER_HINT = (
    "Authorization: Bearer is not read by this API: send the same key as 'Authorization: Token <key>'."
)


def _with_hint(exc: Exception, context: Mapping[str, Any]) -> Exception:
    """``exc``, its detail teaching the fix when a common mistake explains it: a Bearer token (401), a
    body sent with a content type the endpoint does not read (415)."""
    request = context.get("request")
    if request is None:
        return exc
    if isinstance(exc, exceptions.NotAuthenticated):
        scheme = request.META.get("HTTP_AUTHORIZATION", "").strip().split(" ", 1)[0]
        if scheme.lower() == "bearer":
            exc.detail = exceptions.ErrorDetail(BEARER_HINT, code=exc.default_code)
    elif isinstance(exc, exceptions.UnsupportedMediaType) and str(exc.detail).startswith("Unsupported"):
        readable = [parser.media_type for parser in getattr(context.get("view"), "parser_classes", ())]
        if "application/json" in readable:
            how = "send the JSON body with the header 'Content-Type: application/json'"
        elif readable == ["multipart/form-data"]:
            how = "upload the file as multipart/form-data, field 'file' (curl -F 'file=@lines.csv')"
        else:
            return exc
        exc.detail = exceptions.ErrorDetail(
            f"The body's content type {request.content_type or '(none)'!r} is not one this endpoint reads "
            f"({', '.join(readable)}): {how}.",
            code=exc.default_code,
        )
    return exc


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: answer ``exc`` with a problem document, or None to let it raise."""
    problem = _problem(_with_hint(exc, context))
    if problem is None:
        return None
    document, headers = problem
    set_rollback()
    request = context.get("request")
    if request is not None:
        # Every error is application/problem+json, whichever renderer the client negotiated.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    return Response(document, status=document["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)

"""OpenAPI schema postprocessing: document the problem documents every operation may answer, and add
the components written out in :mod:`mrv.api.schemas` (one schema per activity line kind).

Every error the service answers is an RFC 9457 problem document (``application/problem+json``, see
``mrv.api.problems`` and ``mrv.api.exceptions``), whatever the view. Views document their success
responses; :func:`document_problems` (a drf-spectacular postprocessing hook, registered after the
default one in ``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``) then, on every operation:

* adds the ``Problem`` component and documents the errors any endpoint can answer
  (:data:`COMMON_ERRORS`: invalid input, authentication, permission, not found, method, ``Accept``,
  body size, media type, rate limits; and for writes a busy database) where the view did not;
* serves every documented error (4xx, 5xx) as ``application/problem+json``: a view that documented
  one as ``application/json`` gets it moved, and a plain problem schema becomes a ``Problem`` reference.

So the schema tells the truth about errors for endpoints added later too, and schemathesis
(``tests/mrv/test_schemathesis.py``) holds the API to it.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

from mrv.api import schemas
from mrv.api.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE

PROBLEM_COMPONENT = "Problem"
PROBLEM_REF: dict[str, str] = {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem document, served as application/problem+json. Extension members "
    "may follow.",
    "properties": {
        "type": {
            "type": "string",
            "description": f"URI of the problem type: {PROBLEM_TYPE_BASE}<code>",
            "example": f"{PROBLEM_TYPE_BASE}invalid_input",
        },
        "title": {"type": "string", "description": "short summary of the problem type"},
        "status": {"type": "integer", "description": "the HTTP status code", "example": 400},
        "detail": {"type": "string", "description": "what went wrong with this request"},
        "code": {"type": "string", "description": "stable problem code", "example": "invalid_input"},
        "errors": {
            "type": "array",
            "description": "for invalid input: one item per fault",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {
                        "type": "string",
                        "description": "JSON pointer (RFC 6901) into the request body; empty for the whole body",
                        "example": "/lines/3/ncv/unit",
                    },
                    "code": {"type": "string", "example": "unknown_unit"},
                    "detail": {"type": "string"},
                },
                "required": ["pointer", "code", "detail"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

#: Errors any operation may answer, whatever the view: documented on every operation that lacks them.
COMMON_ERRORS: dict[str, str] = {
    "400": "Invalid input or malformed body; `errors` lists each fault with a JSON pointer.",
    "401": "Not authenticated: no or an invalid `Authorization: Token <key>` header.",
    "403": "Permission denied: the user's role or organisation may not do this.",
    "404": "Not found, or not visible to this user.",
    "405": "Method not allowed on this path.",
    "406": "Not acceptable: the `Accept` header names no media type the API renders.",
    "413": "Request body too large (over MRV_MAX_BODY_BYTES).",
    "415": "Unsupported media type of the request body.",
    "429": "Too many requests (rate limit or lines quota); `Retry-After` says when to try again.",
}
#: Errors any write may answer: a transient database conflict still failing after the retries.
WRITE_ERRORS: dict[str, str] = {
    "503": "The database is busy (a conflict still failing after the retries); `Retry-After` says when "
    "to send the same request again (with the same Idempotency-Key where the operation takes one).",
}
_WRITES = frozenset({"post", "put", "patch", "delete"})

_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_JSON = "application/json"


def document_problems(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every error is a documented problem document."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[PROBLEM_COMPONENT] = copy.deepcopy(PROBLEM_SCHEMA)
    # Schemas the views refer to by $ref (activity line kinds, quantities): not serializers.
    components.update(copy.deepcopy(schemas.components()))
    result["components"]["schemas"] = dict(sorted(components.items()))
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in _HTTP_METHODS:
                _document_operation(operation, write=method in _WRITES)
    return result


def _document_operation(operation: dict[str, Any], *, write: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, response in responses.items():
        if _is_error(status):
            _serve_as_problem(status, response)
    errors = {**COMMON_ERRORS, **WRITE_ERRORS} if write else COMMON_ERRORS
    for status, description in errors.items():
        responses.setdefault(status, {"content": _problem_content(), "description": description})
    operation["responses"] = dict(sorted(responses.items()))


def _is_error(status: str) -> bool:
    return status[:1] in {"4", "5"}


def _serve_as_problem(status: str, response: dict[str, Any]) -> None:
    if not response.get("description"):
        response["description"] = COMMON_ERRORS.get(status) or WRITE_ERRORS.get(status) or _phrase(status)
    content: dict[str, Any] = response.get("content") or {}
    if PROBLEM_CONTENT_TYPE not in content:
        media = content.pop(_JSON, None)
        schema = (media or {}).get("schema")
        if schema is None or _is_plain_problem(schema):
            content[PROBLEM_CONTENT_TYPE] = {**(media or {}), "schema": dict(PROBLEM_REF)}
        else:  # a problem with extension members keeps its own schema
            content[PROBLEM_CONTENT_TYPE] = media
    elif _is_plain_problem(content[PROBLEM_CONTENT_TYPE].get("schema") or {}):
        content[PROBLEM_CONTENT_TYPE]["schema"] = dict(PROBLEM_REF)
    response["content"] = content


def _is_plain_problem(schema: dict[str, Any]) -> bool:
    """A problem document schema without extension members (the ``Problem`` component says it all)."""
    if schema == PROBLEM_REF:
        return True
    members = set(schema.get("properties") or {})
    required, known = set(PROBLEM_SCHEMA["required"]), set(PROBLEM_SCHEMA["properties"])
    return schema.get("type") == "object" and required <= members <= known


def _phrase(status: str) -> str:
    try:
        return HTTPStatus(int(status)).phrase
    except ValueError:  # a range such as 4XX
        return "Error"


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_CONTENT_TYPE: {"schema": dict(PROBLEM_REF)}}

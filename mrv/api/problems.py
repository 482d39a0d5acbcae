"""RFC 9457 problem documents: the one shape of every error the service answers.

A problem document is ``{type, title, status, detail}`` plus, for invalid input, ``errors``: a list of
``{pointer, code, detail}`` where ``pointer`` is a JSON pointer (RFC 6901) into the request body.
``type`` is ``PROBLEM_TYPE_BASE + code``; ``code`` is stable and also given as its own member, so a
client can branch on it without parsing the URI. The codes are listed in the README. ``title``, ``detail``
and the errors' ``detail`` are in the request's language (English, or zh-Hans: :mod:`mrv.i18n`); the
codes and pointers never change.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from django.http import HttpResponse

from mrv.i18n import translate_problem

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://mrv.example/problems/"


def problem_document(
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        document["errors"] = errors
    document.update(extensions)
    return translate_problem(document)


def json_pointer(*segments: str | int) -> str:
    """The JSON pointer to ``segments`` (RFC 6901: ``~`` is written ``~0`` and ``/`` is ``~1``)."""
    return "".join("/" + str(segment).replace("~", "~0").replace("/", "~1") for segment in segments)


class ProblemResponse(HttpResponse):
    """A problem document answered outside DRF views (404/500 handlers, readiness)."""

    def __init__(self, document: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(
            orjson.dumps(document), status=document["status"], content_type=PROBLEM_CONTENT_TYPE, **kwargs
        )

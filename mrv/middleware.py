"""Refuse requests whose query string carries characters no database field can hold."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from mrv.api.problems import ProblemResponse, problem_document


class RejectControlCharactersMiddleware:
    """A NUL (or other C0 control character) in a query parameter is a client error, answered 400
    before it can reach a query (PostgreSQL cannot store NUL in text)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            for text in (name, *values):
                if any(ord(character) < 32 for character in text):
                    detail = f"query parameter {name[:40]!r} contains a control character"
                    return ProblemResponse(
                        problem_document(
                            status=400,
                            code="invalid_query",
                            title="Invalid query parameter",
                            detail=detail,
                            errors=[
                                {"pointer": f"/query/{name[:40]}", "code": "invalid_query", "detail": detail}
                            ],
                        )
                    )
        return self.get_response(request)

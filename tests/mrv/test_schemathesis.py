"""Property-based API tests: schemathesis generates requests for EVERY operation in the OpenAPI schema.

The schema is the one the service serves at ``/api/schema/``, loaded in-process through WSGI, so an
endpoint added to the API is tested here without touching this file. Every operation runs once per
role (operator, verifier, regulator) with a new user's DRF token: explicit examples, schemathesis'
coverage cases (boundaries, wrong types, unexpected methods and media types) and a bounded,
derandomized number of generated requests, valid and invalid. Every response must:

* not be a server error: nothing a client sends may produce a 5xx (SPEC §3);
* have a documented status code, a documented content type and a body that matches the documented
  schema. Errors are ``application/problem+json`` documents; ``mrv.api.openapi`` documents them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from mrv.api.openapi import COMMON_ERRORS
from mrv.api.problems import PROBLEM_CONTENT_TYPE
from tests.mrv import factories

ROLES = ("operator", "verifier", "regulator")
MAX_EXAMPLES = 20
#: Requests each role must send with the operation's own method (not counting unexpected-method
#: probes): an operation that was never really called would pass without proving anything.
MIN_CALLS_PER_OPERATION = 3

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240917,  # with `derandomize` below: the same requests on every run, locally and in CI
        "generation": {
            "mode": "all",  # requests that match the schema and requests that violate it
            # The Authorization header is the role's token (below), never a generated one.
            "with-security-parameters": False,
            # Strings of any UTF-8 character: NUL and the other control characters included, in every
            # body field, query parameter and path parameter (said here, not left to the defaults).
            # Lone surrogates cannot be sent as UTF-8: tests/mrv/test_hostile_text.py sends them as
            # JSON escapes and percent-encoded bytes, with very long strings, in every text field.
            "allow-x00": True,
            "codec": "utf-8",
        },
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def token(role: str, db: None) -> str:
    """The DRF token of a new user with ``role``, in the database (and transaction) the app reads."""
    return factories.api_user(role=role).token


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Keep the test's database connection across requests, as Django's test client does.

    Django's WSGI handler closes "old" connections when a request starts and finishes; inside the
    test's transaction that would close the connection that holds the test's users.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass
class Calls:
    """Status codes of the requests sent with the operation's own method, over all examples."""

    statuses: list[int] = field(default_factory=list)
    failed: bool = False


@pytest.fixture
def calls(request: pytest.FixtureRequest) -> Iterator[Calls]:
    """Counts the requests that reached the operation; after all examples, there must be enough."""
    made = Calls()
    yield made
    if not made.failed:  # a failing example is reported already
        assert len(made.statuses) >= MIN_CALLS_PER_OPERATION, (
            f"{request.node.name}: {len(made.statuses)} request(s) reached the operation, "
            f"fewer than {MIN_CALLS_PER_OPERATION}: it was not exercised"
        )


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # The user and its token are function-scoped fixtures, meant to be shared by the examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_api_conforms_to_schema(
    case: schemathesis.Case, role: str, token: str, in_process_requests: None, calls: Calls
) -> None:
    try:
        response = case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
        # The token must work, or every operation would pass as "401, a documented error".
        assert response.status_code != 401, f"the {role}'s token was refused: {response.text}"
    except Exception:
        calls.failed = True
        raise
    if case.method.upper() == case.operation.method.upper():
        calls.statuses.append(response.status_code)


def test_every_error_is_documented_as_a_problem_document() -> None:
    """The schema the checks above hold the API to documents errors as problem documents (SPEC §3)."""
    operations = [
        (method, path, operation)
        for path, path_item in schema.raw_schema["paths"].items()
        for method, operation in path_item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    ]
    assert operations
    for method, path, operation in operations:
        responses = operation["responses"]
        assert set(COMMON_ERRORS) <= set(responses), f"{method.upper()} {path}"
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                content = response["content"]
                assert PROBLEM_CONTENT_TYPE in content, f"{method.upper()} {path} {status}"
                assert "application/json" not in content, f"{method.upper()} {path} {status}"
    assert "Problem" in schema.raw_schema["components"]["schemas"]

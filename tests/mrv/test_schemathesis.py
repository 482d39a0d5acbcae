"""Property-based API tests: schemathesis generates requests for EVERY operation of the OpenAPI schema.

The schema is the one the service serves at ``/api/schema/``, loaded in-process through WSGI, so an
endpoint added to the API is tested here without touching this file. Every operation runs once per
role (operator, verifier, regulator) with that user's DRF token, on a bounded, derandomized number of
examples, and each response must:

* not be a server error (5xx): nothing a client sends may produce a 500 (SPEC §3);
* have a documented status code, a documented content type, and a body that matches the documented
  schema (errors are ``application/problem+json`` documents: ``mrv.api.openapi`` documents them).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.mrv import factories

ROLES = ("operator", "verifier", "regulator")
MAX_EXAMPLES = 20
#: Each role must really reach each operation (a run that generated nothing would prove nothing).
MIN_CALLS_PER_OPERATION = 1

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240917,
        "generation": {
            "mode": "all",  # valid requests and requests that violate the schema
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,  # Hypothesis' derandomize: the same cases on every run
            "database": "none",  # no example database: nothing carried over between runs
            "with-security-parameters": False,  # the Authorization header is the role's token, below
        },
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=CONFIG)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def in_process_requests() -> Iterator[None]:
    """Keep the test's database connection across requests, as Django's test client does.

    The WSGI handler closes "old" connections when a request starts and finishes; inside the test's
    transaction that would close the connection that holds the test data.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def calls(request: pytest.FixtureRequest) -> Iterator[list[int]]:
    """Status codes answered during one test item; at least MIN_CALLS_PER_OPERATION are required."""
    answered: list[int] = []
    yield answered
    assert len(answered) >= MIN_CALLS_PER_OPERATION, (
        f"{request.node.name}: only {len(answered)} request(s) made; the operation was not exercised"
    )


@pytest.fixture
def token(role: str, db: None) -> str:
    """A DRF token of a new user with ``role``, in the database the WSGI application reads."""
    return factories.api_user(role=role).token


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
def test_api_conforms_to_schema(
    case, role: str, token: str, in_process_requests: None, calls: list[int]
) -> None:
    response = case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
    calls.append(response.status_code)

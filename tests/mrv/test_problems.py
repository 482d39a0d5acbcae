"""Every error is an RFC 9457 problem document (application/problem+json)."""

from __future__ import annotations

import pytest

from mrv.api.problems import PROBLEM_TYPE_BASE

pytestmark = [pytest.mark.urls("tests.mrv.urls"), pytest.mark.django_db]


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    document = response.json()
    assert document["type"] == PROBLEM_TYPE_BASE + code
    assert document["status"] == status
    assert document["code"] == code
    assert document["title"]
    assert document["detail"]
    return document


def test_no_token_answers_401_with_a_challenge(api_client) -> None:
    response = api_client.get("/api/v1/units/")
    problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_answers_401(api_client) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    problem(api_client.get("/api/v1/units/"), 401, "authentication_failed")


def test_a_browser_asking_for_html_still_gets_a_problem_document(api_client) -> None:
    response = api_client.get("/api/v1/units/", HTTP_ACCEPT="text/html")
    problem(response, 401, "not_authenticated")


def test_unknown_api_path_answers_404_problem(operator_client) -> None:
    problem(operator_client.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_unknown_page_outside_the_api_is_django_html(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_wrong_method_answers_405_problem(operator_client) -> None:
    response = operator_client.delete("/api/v1/units/")
    problem(response, 405, "method_not_allowed")


def test_validation_errors_are_flattened_into_json_pointers(api_client) -> None:
    response = api_client.post(
        "/api/test/validate/", {"lines": [{"ncv": "25.8"}, {"ncv": "x"}, {}]}, format="json"
    )
    document = problem(response, 400, "invalid_input")
    assert sorted((error["pointer"], error["code"]) for error in document["errors"]) == [
        ("/lines/1/ncv", "invalid"),
        ("/lines/2/ncv", "required"),
        ("/year", "required"),
    ]


def test_non_field_errors_point_at_the_whole_body(api_client) -> None:
    response = api_client.post("/api/test/validate/", {"year": 2001, "lines": []}, format="json")
    document = problem(response, 400, "invalid_input")
    assert document["errors"] == [{"pointer": "", "code": "invalid", "detail": "no reports for 2001"}]


def test_accounting_errors_keep_their_code_and_pointers(api_client) -> None:
    document = problem(api_client.get("/api/test/raise/accounting/"), 400, "invalid_input")
    assert document["errors"] == [
        {"pointer": "/lines/0/quantity/unit", "code": "unknown_unit", "detail": "'tons' is ambiguous"}
    ]


def test_broken_methodology_data_is_a_server_fault(api_client) -> None:
    document = problem(api_client.get("/api/test/raise/methodology-data/"), 500, "methodology_data_error")
    assert "errors" not in document


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("http404", 404, "not_found"),
        ("django-permission", 403, "permission_denied"),
        ("django-validation", 400, "invalid_input"),
        ("throttled", 429, "throttled"),
    ],
)
def test_django_and_drf_exceptions_map_to_problems(api_client, kind: str, status: int, code: str) -> None:
    response = api_client.get(f"/api/test/raise/{kind}/")
    document = problem(response, status, code)
    if kind == "throttled":
        assert response["Retry-After"] == "3"
    if kind == "django-validation":
        assert document["errors"][0]["pointer"] == "/credit_code"
    if kind == "http404":
        assert document["detail"] == "no such report"


def test_an_unacceptable_accept_header_answers_406_problem(operator_client) -> None:
    response = operator_client.get("/api/v1/units/", HTTP_ACCEPT="application/xml")
    problem(response, 406, "not_acceptable")


def test_an_unexpected_exception_answers_500_problem_without_details(client) -> None:
    client.raise_request_exception = False
    document = problem(client.get("/api/test/raise/crash/"), 500, "internal_error")
    assert "a bug" not in document["detail"]


def test_token_authenticates(operator, operator_client) -> None:
    response = operator_client.get("/api/test/whoami/")
    assert response.status_code == 200
    assert response.json() == {"username": operator.user.get_username()}

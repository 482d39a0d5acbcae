"""The JSON parser reads numbers exactly and answers every malformed body with a 400 problem."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.exceptions import ParseError

from mrv.api.parsers import MAX_NESTING_DEPTH, loads_exact, nesting_depth

pytestmark = pytest.mark.urls("tests.mrv.urls")

ECHO = "/api/test/echo/"


def test_numbers_are_exact_decimals() -> None:
    data = loads_exact(b'{"ncv": 0.1, "quantity": 120000, "tiny": 1e-7, "big": 2.5E+3}')
    assert data == {
        "ncv": Decimal("0.1"),
        "quantity": Decimal(120000),
        "tiny": Decimal("1e-7"),
        "big": Decimal("2.5E+3"),
    }
    assert all(isinstance(value, Decimal) for value in data.values())
    assert str(data["ncv"]) == "0.1"  # not 0.1000000000000000055511151231257827


def test_a_400_digit_integer_is_parsed_without_the_int_digit_limit() -> None:
    value = loads_exact(b"1" + b"0" * 400)
    assert value == Decimal(10) ** 400


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b'{"x": [NaN]}'])
def test_nan_and_infinity_are_refused(constant: bytes) -> None:
    with pytest.raises(ParseError, match="not a number"):
        loads_exact(constant)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"a": 1,}',
        b"\xff\xfe{}",  # not UTF-8
        b'"\\ud800"',  # an unpaired surrogate could never be rendered back
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * (MAX_NESTING_DEPTH + 1) + b"]" * (MAX_NESTING_DEPTH + 1),
    ],
    ids=["empty", "truncated", "trailing-comma", "not-utf8", "lone-surrogate", "100k-deep", "65-deep"],
)
def test_malformed_bodies_raise_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        loads_exact(body)


def test_nesting_up_to_the_limit_and_brackets_inside_strings_are_accepted() -> None:
    deep = b"[" * MAX_NESTING_DEPTH + b"]" * MAX_NESTING_DEPTH
    assert nesting_depth(deep) == MAX_NESTING_DEPTH
    loads_exact(deep)
    brackets_in_strings = '{"ref": "' + "[{" * 200 + '\\"' + '"}'
    assert loads_exact(brackets_in_strings.encode()) == {"ref": "[{" * 200 + '"'}


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_TRICKY_TEXT = st.text(alphabet='[]{}"\\ab\n', max_size=8)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TRICKY_TEXT, children, max_size=3),
    max_leaves=30,
)


@given(_JSON)
def test_nesting_depth_counts_structure_not_string_contents(value: object) -> None:
    for body in (json.dumps(value), json.dumps(value, ensure_ascii=False, separators=(",", ":"))):
        assert nesting_depth(body.encode()) == _depth(value)


def test_a_surrogate_pair_is_a_character() -> None:
    assert loads_exact(b'{"ref": "\\ud83c\\udfed"}') == {"ref": "\U0001f3ed"}


def test_echo_round_trip_keeps_numbers_exact(api_client) -> None:
    response = api_client.post(
        ECHO, data=b'{"ncv": 0.1, "big": 1' + b"0" * 400 + b', "tiny": 1e-7}', content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"ncv": "0.1", "big": "1" + "0" * 400, "tiny": "0.0000001"}}


@pytest.mark.parametrize(
    "body",
    [b'{"x": NaN}', b'{"x": Infinity}', b"[" * 100_000 + b"]" * 100_000, b'{"x": "\xff"}', b"{oops"],
    ids=["nan", "infinity", "100k-deep", "not-utf8", "not-json"],
)
def test_malformed_bodies_answer_400_problem(api_client, body: bytes) -> None:
    response = api_client.post(ECHO, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400
    assert problem["code"] == "parse_error"
    assert problem["errors"][0]["pointer"] == ""


def test_a_9_mib_body_answers_413_problem(api_client) -> None:
    body = b'{"pad": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    response = api_client.post(ECHO, data=body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "request_too_large"
    assert problem["errors"] == [{"pointer": "", "code": "request_too_large", "detail": problem["detail"]}]


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=b"]
)
def test_a_9_mib_form_or_upload_answers_413(api_client, content_type: str) -> None:
    response = api_client.post(ECHO, data=b"a=" + b"x" * (9 * 1024 * 1024), content_type=content_type)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_an_unsupported_media_type_answers_415(api_client) -> None:
    response = api_client.post(ECHO, data=b"lines", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"

"""Unified Social Credit Code (GB 32100-2015) check character."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from mrv.services.organisations import placeholder_credit_code
from mrv.validators import USCC_ALPHABET, uscc_check_character, validate_credit_code

# Codes of real, registered enterprises (published on their licences).
REAL_CODES = ["91350100M000100Y43", "91330100716105852F", "91440300708461136T", "91110108551385082Q"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    validate_credit_code(code)


@pytest.mark.parametrize("code", ["91350100M000100Y44", "91330100716105852G", "91440300708461136U"])
def test_a_wrong_check_character_is_refused(code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(code)
    assert caught.value.code == "credit_code_check_character"


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433"])
def test_a_wrong_length_is_refused(code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(code)
    assert caught.value.code == "credit_code_length"


@pytest.mark.parametrize(
    "code",
    [
        "91350100I000100Y43",
        "91350100O000100Y43",
        "91350100S000100Y43",
        "91350100m000100Y43",
        "9135010-M000100Y43",
    ],
    ids=["I", "O", "S", "lowercase", "hyphen"],
)
def test_illegal_characters_are_refused(code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(code)
    assert caught.value.code == "credit_code_characters"


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_exactly_one_check_character_fits_any_body(body: str) -> None:
    check = uscc_check_character(body)
    validate_credit_code(body + check)
    for other in USCC_ALPHABET.replace(check, ""):
        with pytest.raises(ValidationError):
            validate_credit_code(body + other)


@given(st.text(min_size=1, max_size=50))
def test_placeholder_codes_are_valid(name: str) -> None:
    validate_credit_code(placeholder_credit_code(name=name))

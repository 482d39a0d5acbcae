"""API users: the create_api_user and seed_demo commands and the service behind them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from mrv.models import Membership, Organisation
from mrv.selectors.scoping import membership
from mrv.services.users import user_create_with_token
from tests.mrv import factories

pytestmark = pytest.mark.django_db


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.urls("tests.mrv.urls")
def test_create_api_user_prints_a_working_token_last() -> None:
    lines = run("create_api_user", "alice", "--role", "operator", "--organisation", "Jiangsu Cement Co.")
    token = lines[-1]
    assert token.startswith("mrv_") and len(token) == 68
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/test/whoami/")
    assert response.status_code == 200
    assert response.json() == {"username": "alice"}


def test_create_api_user_creates_the_organisation_with_the_kind_of_the_role() -> None:
    run("create_api_user", "vera", "--role", "verifier", "--organisation", "North Verification Centre")
    run("create_api_user", "victor", "--role", "verifier", "--organisation", "North Verification Centre")
    organisation = Organisation.objects.get(name="North Verification Centre")
    assert organisation.kind == Organisation.Kind.VERIFICATION_BODY
    assert sorted(m.user.username for m in organisation.memberships.all()) == ["vera", "victor"]


def test_create_api_user_defaults_the_organisation_to_the_username() -> None:
    run("create_api_user", "mee", "--role", "regulator")
    membership = Membership.objects.get(user__username="mee")
    assert (membership.organisation.name, membership.organisation.kind, membership.role) == (
        "mee",
        "authority",
        "regulator",
    )


def test_a_role_cannot_join_an_organisation_of_another_kind() -> None:
    factories.organisation(kind="operator", name="Cement Works")
    with pytest.raises(CommandError, match="operator"):
        run("create_api_user", "eve", "--role", "verifier", "--organisation", "Cement Works")
    assert not Membership.objects.filter(user__username="eve").exists()


def test_a_taken_username_is_refused() -> None:
    run("create_api_user", "bob", "--role", "operator")
    with pytest.raises(CommandError, match="username"):
        run("create_api_user", "bob", "--role", "operator")


def test_an_invalid_credit_code_is_refused_and_nothing_is_created() -> None:
    with pytest.raises(CommandError, match="check character"):
        run(
            "create_api_user",
            "carol",
            "--role",
            "operator",
            "--organisation",
            "X",
            "--credit-code",
            "91350100M000100Y44",
        )
    assert not Organisation.objects.filter(name="X").exists()


def test_the_service_refuses_an_unknown_role() -> None:
    with pytest.raises(ValidationError):
        user_create_with_token(username="dan", role="auditor", organisation_name="Y")


def test_membership_selector() -> None:
    operator = factories.api_user(role="operator")
    found = membership(operator.user)
    assert found is not None
    assert found.role == "operator"


@pytest.mark.urls("tests.mrv.urls")
def test_seed_demo_is_idempotent_and_prints_a_new_token_per_demo_user() -> None:
    first = run("seed_demo")
    second = run("seed_demo")
    users = [line.split()[:2] for line in first]
    assert users == [line.split()[:2] for line in second]
    assert ["operator", "demo-operator"] in users
    # Only digests are stored, so each run issues new tokens; the previous ones stop working.
    for before, after in zip(first, second, strict=True):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {before.split()[-1]}")
        assert client.get("/api/test/whoami/").status_code == 401
        client.credentials(HTTP_AUTHORIZATION=f"Token {after.split()[-1]}")
        assert client.get("/api/test/whoami/").json() == {"username": after.split()[1]}
    assert {line.split()[0] for line in first} == {"operator", "verifier", "regulator"}
    assert [line.split()[1] for line in first][:3] == ["demo-operator", "demo-verifier", "demo-regulator"]
    assert Organisation.objects.count() == 5
    assert set(Organisation.objects.values_list("kind", flat=True)) == {
        "operator",
        "verification_body",
        "authority",
    }
    for organisation in Organisation.objects.all():
        organisation.full_clean()  # the demo credit codes are valid

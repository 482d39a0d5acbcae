"""API users: the create_api_user and seed_demo commands and the service behind them (tokens, and the
regulator's dashboard password)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
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


def test_a_user_listed_twice_is_an_error_that_says_how_to_get_a_new_token() -> None:
    run("create_api_user", "bob", "--role", "operator")
    with pytest.raises(CommandError) as refused:
        run("create_api_user", "bob", "--role", "operator")
    message = str(refused.value)
    assert message.startswith("user 'bob' exists already. To give them a new token:")
    assert "manage.py create_api_user bob --rotate" in message and "POST /api/v1/auth/tokens/" in message
    assert Membership.objects.filter(user__username="bob").count() == 1
    # ... and the way it names works: a new token, the old one revoked
    token = run("create_api_user", "bob", "--rotate")[-1]
    assert token.startswith("mrv_")


PASSWORD = "kiln-ledger-harbour-27"


@pytest.mark.parametrize("new_user", [True, False])
def test_a_regulator_gets_a_dashboard_password_from_the_environment(
    client: Any, monkeypatch: pytest.MonkeyPatch, new_user: bool
) -> None:
    monkeypatch.setenv("MRV_USER_PASSWORD", PASSWORD)
    if new_user:
        lines = run("create_api_user", "mee", "--role", "regulator", "--password")
        assert lines[-1].startswith("mrv_")  # the token is still printed last
    else:
        run("create_api_user", "mee", "--role", "regulator")
        lines = run("create_api_user", "mee", "--password")
        assert not any(line.startswith("mrv_") for line in lines)  # no new token
    assert any("sign in to the dashboard at /accounts/login/" in line for line in lines)
    assert PASSWORD not in "\n".join(lines)
    user = get_user_model().objects.get(username="mee")
    assert PASSWORD not in user.password and user.check_password(PASSWORD)  # stored hashed
    signed_in = client.post(
        "/accounts/login/", {"username": "mee", "password": PASSWORD}, HTTP_HOST="localhost"
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/dashboard/"
    assert client.get("/dashboard/", HTTP_HOST="localhost").status_code == 200


def test_the_password_is_asked_twice_at_the_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MRV_USER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    run("create_api_user", "mee", "--role", "regulator", "--password")
    assert get_user_model().objects.get(username="mee").check_password(PASSWORD)

    answers = iter(["another-long-phrase-1", "another-long-phrase-2"])
    with pytest.raises(CommandError, match="the two passwords differ"):
        run("create_api_user", "mee", "--password")
    assert get_user_model().objects.get(username="mee").check_password(PASSWORD)


def test_without_a_terminal_or_the_variable_the_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MRV_USER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="set MRV_USER_PASSWORD"):
        run("create_api_user", "mee", "--role", "regulator", "--password")
    assert not get_user_model().objects.filter(username="mee").exists()


@pytest.mark.parametrize(
    ("role", "password", "message"),
    [
        ("operator", PASSWORD, "'olga' is an operator; a password opens the regulator's dashboard"),
        ("verifier", PASSWORD, "'olga' is a verifier"),
        ("regulator", "short", "too short"),
        ("regulator", "12345678901234", "entirely numeric"),
    ],
)
def test_only_regulators_get_a_password_and_a_strong_one(
    monkeypatch: pytest.MonkeyPatch, role: str, password: str, message: str
) -> None:
    monkeypatch.setenv("MRV_USER_PASSWORD", password)
    with pytest.raises(CommandError, match=message):
        run("create_api_user", "olga", "--role", role, "--password")
    assert not get_user_model().objects.filter(username="olga").exists()  # nothing created
    run("create_api_user", "olga", "--role", role)
    with pytest.raises(CommandError, match=message):
        run("create_api_user", "olga", "--password")
    assert not get_user_model().objects.get(username="olga").has_usable_password()


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
    # Five organisations, a provincial authority and a consultant (issue 16).
    assert Organisation.objects.count() == 7
    assert set(Organisation.objects.values_list("kind", flat=True)) == {
        "operator",
        "verification_body",
        "authority",
        "consultant",
    }
    for organisation in Organisation.objects.all():
        organisation.full_clean()  # the demo credit codes are valid

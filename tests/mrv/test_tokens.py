"""API tokens: hashed at rest, expiring, several per user, listed and revoked by their owner."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from mrv.models import ApiToken, AuditEvent
from mrv.selectors.scoping import membership
from mrv.selectors.tokens import token_by_digest
from tests.mrv import factories

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/auth/tokens/"
ANY_ENDPOINT = "/api/v1/units/"


def client_with(token: str, address: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def every_stored_value() -> str:
    """Every row of every table of the database, as text."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def test_no_plain_token_in_any_table_log_or_dump(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    out = StringIO()
    call_command("create_api_user", "alice", "--role", "operator", stdout=out)
    first = out.getvalue().splitlines()[-1]
    second = client_with(first).post(TOKENS, {"name": "ci"}).json()["token"]
    call_command("create_api_user", "alice", "--rotate", stdout=(rotated_out := StringIO()))
    third = rotated_out.getvalue().splitlines()[-1]
    assert client_with(third).get(ANY_ENDPOINT).status_code == 200
    dump = StringIO()
    call_command("dumpdata", stdout=dump)

    stored = every_stored_value()
    assert ApiToken.objects.filter(user__username="alice").exists()
    assert AuditEvent.objects.filter(action="token.create", object_type="api_token").count() == 3
    for token in (first, second, third):
        assert token.startswith("mrv_") and len(token) == 68
        assert token not in stored
        assert token[len("mrv_") :] not in stored
        assert token not in dump.getvalue()
        assert token not in caplog.text
    assert out.getvalue().count(first) == 1  # shown once, by the command that created it


def test_only_the_digest_of_the_token_is_stored(operator: factories.ApiUser) -> None:
    token = ApiToken.objects.get(user=operator.user)
    assert token.digest == hashlib.sha512(operator.token.encode()).hexdigest()
    assert operator.token.startswith(token.token_key)


def test_a_token_expires_after_the_configured_days(settings) -> None:
    settings.MRV_TOKEN_TTL_DAYS = 7
    before = timezone.now()
    user = factories.api_user()
    token = ApiToken.objects.get(user=user.user)
    assert before + timedelta(days=7) <= token.expiry <= timezone.now() + timedelta(days=7)


def test_an_expired_token_answers_401_problem(operator: factories.ApiUser) -> None:
    client = client_with(operator.token)
    assert client.get(ANY_ENDPOINT).status_code == 200
    ApiToken.objects.filter(user=operator.user).update(expiry=timezone.now() - timedelta(seconds=1))
    response = client.get(ANY_ENDPOINT)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Token"
    document = response.json()
    assert (document["status"], document["code"]) == (401, "authentication_failed")
    assert "expired" in document["detail"]


def test_the_owner_lists_creates_and_revokes_tokens(operator: factories.ApiUser) -> None:
    client = client_with(operator.token)
    created = client.post(TOKENS, {"name": "nightly export", "expires_in_days": 30})
    assert created.status_code == 201, created.content
    assert created["Cache-Control"] == "no-store"
    new = created.json()
    assert new["name"] == "nightly export"
    assert new["token"].startswith(new["prefix"])
    expires = datetime.fromisoformat(new["expires_at"])
    assert timedelta(days=29) < expires - timezone.now() <= timedelta(days=30)
    assert client_with(new["token"]).get(ANY_ENDPOINT).status_code == 200

    listed = client.get(TOKENS)
    assert listed.status_code == 200
    results = listed.json()["results"]
    assert [token["id"] for token in results] == [new["id"], ApiToken.objects.get(name="").pk]
    assert set(results[0]) == {
        "id",
        "prefix",
        "name",
        "membership",
        "created_at",
        "expires_at",
        "last_used_at",
        "expired",
    }
    assert results[0]["last_used_at"] is not None  # the new token was just used
    assert operator.token not in listed.content.decode() and new["token"] not in listed.content.decode()

    assert client.delete(f"{TOKENS}{new['id']}/").status_code == 204
    assert client_with(new["token"]).get(ANY_ENDPOINT).status_code == 401
    assert client.get(ANY_ENDPOINT).status_code == 200  # the other token still works
    assert AuditEvent.objects.filter(action="token.revoke", object_id=str(new["id"])).exists()


def test_another_users_token_is_not_found(operator: factories.ApiUser) -> None:
    other = factories.api_user(role="verifier")
    theirs = ApiToken.objects.get(user=other.user)
    client = client_with(operator.token)
    assert client.get(f"{TOKENS}{theirs.pk}/").status_code == 404
    assert client.delete(f"{TOKENS}{theirs.pk}/").status_code == 404
    assert client_with(other.token).get(ANY_ENDPOINT).status_code == 200


def test_a_token_cannot_outlive_the_configured_days(operator: factories.ApiUser) -> None:
    response = client_with(operator.token).post(TOKENS, {"expires_in_days": settings.MRV_TOKEN_TTL_DAYS + 1})
    assert response.status_code == 400
    assert [error["pointer"] for error in response.json()["errors"]] == ["/expires_in_days"]


def test_a_revoked_token_in_use_stops_at_once(operator: factories.ApiUser) -> None:
    client = client_with(operator.token)
    own = ApiToken.objects.get(user=operator.user)
    assert client.delete(f"{TOKENS}{own.pk}/").status_code == 204
    assert client.get(ANY_ENDPOINT).status_code == 401


def test_rotating_one_token_by_its_prefix_keeps_the_others() -> None:
    call_command("create_api_user", "bob", "--role", "operator", stdout=(out := StringIO()))
    old = out.getvalue().splitlines()[-1]
    kept = client_with(old).post(TOKENS, {"name": "kept"}).json()["token"]
    call_command("create_api_user", "bob", "--rotate", old[:12], stdout=(out := StringIO()))
    lines = out.getvalue().splitlines()
    assert lines[0] == "Revoked 1 token(s) of 'bob'."
    assert client_with(old).get(ANY_ENDPOINT).status_code == 401
    assert client_with(kept).get(ANY_ENDPOINT).status_code == 200
    assert client_with(lines[-1]).get(ANY_ENDPOINT).status_code == 200


def test_rotating_an_unknown_prefix_issues_nothing() -> None:
    call_command("create_api_user", "carol", "--role", "operator", stdout=StringIO())
    with pytest.raises(CommandError, match="no token with prefix"):
        call_command("create_api_user", "carol", "--rotate", "mrv_nothing", stdout=StringIO())
    assert ApiToken.objects.filter(user__username="carol").count() == 1
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_user", "nobody", "--rotate", stdout=StringIO())


def test_clear_text_tokens_of_an_older_database_are_hashed_in_place_and_keep_working(tmp_path: Path) -> None:
    """The migration turns DRF's clear-text ``authtoken_token`` rows into digests and drops the table."""
    from importlib import import_module

    migration = import_module("mrv.migrations.0011_api_tokens").Migration
    previous = next(name for app, name in migration.dependencies if app == "mrv")
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
        "MRV_REDIS_URL": "",
        "MRV_VAR_DIR": str(tmp_path / "var"),
    }
    key = "0123456789abcdef0123456789abcdef01234567"  # a DRF token: 40 hex characters

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    # an older database: migrated up to the migration before the tokens' (later migrations are not all
    # reversible, so the database is built forwards, never rolled back)
    manage("migrate", "auth", "--no-input", "-v", "0")
    manage("migrate", "mrv", previous, "--no-input", "-v", "0")
    manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.contrib.auth.models import User\n"
        "from django.db import connection\n"
        "user = User.objects.create(username='old-client')\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created datetime, "
        "user_id integer)')\n"
        f"    cursor.execute(\"INSERT INTO authtoken_token VALUES ('{key}', '2024-01-01', %s)\", [user.pk])\n",
    )
    manage("migrate", "--no-input", "-v", "0")
    checked = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.db import connection\n"
        "from rest_framework.test import APIRequestFactory\n"
        "from mrv.api.authentication import TokenAuthentication\n"
        "from mrv.models import ApiToken\n"
        f"request = APIRequestFactory().get('/', HTTP_AUTHORIZATION='Token {key}')\n"
        "user, token = TokenAuthentication().authenticate(request)\n"
        "print('user', user.username)\n"
        "print('table', 'authtoken_token' in connection.introspection.table_names())\n"
        "print('expires', token.expiry is not None)\n"
        f"print('clear', ApiToken.objects.filter(digest__contains='{key}').exists())\n",
    )
    assert checked.split() == ["user", "old-client", "table", "False", "expires", "True", "clear", "False"]


def test_a_signed_in_user_without_organisation_gets_a_token_that_works() -> None:
    """A session (the browsable API, the admin's staff) can create a token; its user has no membership."""
    staff = get_user_model().objects.create_user("staff-member", password="a-long-test-password-123")
    session = APIClient()
    session.force_login(staff)
    created = session.post(TOKENS, {"name": "from the browsable API"})
    assert created.status_code == 201, created.content
    client = client_with(created.json()["token"])
    assert client.get(ANY_ENDPOINT).status_code == 200
    assert [token["name"] for token in client.get(TOKENS).json()["results"]] == ["from the browsable API"]
    token = ApiToken.objects.get(user=staff)
    found = token_by_digest(token.digest)
    assert found is not None and found.user == staff and membership(found.user) is None
    assert found.expiry == token.expiry and found.name == "from the browsable API"

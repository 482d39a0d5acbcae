"""Rate limits: per user, per address, failed token authentications, and locked-out password logins.

The autouse fixture in conftest gives every test cache keys of its own and rates no ordinary test
reaches; each test here sets the small rate it checks.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from rest_framework.request import Request
from rest_framework.test import APIClient

from mrv.api.problems import PROBLEM_CONTENT_TYPE
from mrv.api.throttling import RateLimitThrottle
from tests.mrv import factories
from tests.mrv.concurrency import run_in_parallel

pytestmark = pytest.mark.django_db

ENDPOINT = "/api/v1/units/"
PASSWORD = "a-long-test-password-123"


def client_with(token: str, address: str = "10.0.0.1", **headers: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address, **headers)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def assert_throttled(response: Any, period_seconds: int = 60) -> dict[str, Any]:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert 1 <= int(response["Retry-After"]) <= period_seconds
    document = response.json()
    assert (document["status"], document["code"]) == (429, "throttled")
    return document


def test_a_user_gets_429_after_the_configured_burst(settings) -> None:
    settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "user_burst": "5/min"}
    user, other = factories.api_user(), factories.api_user()
    client = client_with(user.token)
    assert [client.get(ENDPOINT).status_code for _ in range(5)] == [200] * 5
    assert_throttled(client.get(ENDPOINT))
    # per user: the same user from another address is still throttled, another user is not
    assert_throttled(client_with(user.token, address="10.0.0.2").get(ENDPOINT))
    assert client_with(other.token).get(ENDPOINT).status_code == 200


def test_the_sustained_rate_counts_separately(settings) -> None:
    settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "user_sustained": "3/hour"}
    client = client_with(factories.api_user().token)
    assert [client.get(ENDPOINT).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert_throttled(client.get(ENDPOINT), period_seconds=3600)


def test_an_address_gets_429_after_its_burst_whoever_sends(settings) -> None:
    settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "address": "4/min"}
    first, second = factories.api_user(), factories.api_user()
    statuses = [client_with(user.token).get(ENDPOINT).status_code for user in (first, second, first, second)]
    assert statuses == [200] * 4
    assert_throttled(client_with(second.token).get(ENDPOINT))
    assert client_with(second.token, address="10.0.0.9").get(ENDPOINT).status_code == 200


@pytest.mark.redis
def test_simultaneous_requests_never_pass_more_than_the_limit(settings) -> None:
    """The counters are incremented atomically in Redis: twelve requests at once, five pass."""
    settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "user_burst": "5/min"}
    request = Request(RequestFactory().get(ENDPOINT, REMOTE_ADDR="10.0.0.11"))
    request.user = get_user_model()(pk=10**9, username="not-stored")

    def one_request() -> bool:
        return RateLimitThrottle().allow_request(request, None)

    assert sorted(run_in_parallel(*[one_request] * 12)) == [False] * 7 + [True] * 5


def test_a_forged_forwarded_for_header_does_not_change_the_address(settings) -> None:
    """With no proxy configured (MRV_NUM_PROXIES=0) the address is the connection's, not a header's."""
    settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "address": "2/min"}
    user = factories.api_user()
    statuses = [
        client_with(user.token, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").get(ENDPOINT).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_failed_token_authentications_are_limited_per_address(settings) -> None:
    settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "auth_failures": "3/min"}
    user = factories.api_user()
    guesses = [client_with(f"mrv_{n:064x}").get(ENDPOINT).status_code for n in range(3)]
    assert guesses == [401, 401, 401]
    document = assert_throttled(client_with("mrv_" + "f" * 64).get(ENDPOINT))
    assert "failed authentications" in document["detail"]
    # Even the right token is refused from that address until the window ends: guessing gains nothing.
    assert_throttled(client_with(user.token).get(ENDPOINT))
    assert client_with(user.token, address="10.0.0.7").get(ENDPOINT).status_code == 200


def regulator_with_password() -> Any:
    regulator = factories.api_user(role="regulator")
    regulator.user.set_password(PASSWORD)
    regulator.user.save()
    return regulator.user


@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_repeated_failed_logins_lock_the_account_out(settings, login_url: str) -> None:
    user = regulator_with_password()
    if login_url.startswith("/admin/"):
        user.is_staff = True
        user.save()
    settings.AXES_FAILURE_LIMIT = 3
    client = Client(REMOTE_ADDR="10.0.0.3")
    username = user.get_username()
    for _ in range(2):
        response = client.post(login_url, {"username": username, "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    locked = client.post(login_url, {"username": username, "password": "wrong"})
    assert locked.status_code == 429
    assert b'id="locked-out"' in locked.content
    # Now the right password is refused too, from this address and (by the user name) from another.
    assert client.post(login_url, {"username": username, "password": PASSWORD}).status_code == 429
    elsewhere = Client(REMOTE_ADDR="10.0.0.4")
    assert elsewhere.post(login_url, {"username": username, "password": PASSWORD}).status_code == 429
    assert "_auth_user_id" not in client.session and "_auth_user_id" not in elsewhere.session


def test_a_good_login_before_the_limit_signs_in_and_resets_the_count(settings) -> None:
    user = regulator_with_password()
    settings.AXES_FAILURE_LIMIT = 3
    client = Client(REMOTE_ADDR="10.0.0.5")
    username = user.get_username()
    for _ in range(2):
        client.post("/accounts/login/", {"username": username, "password": "wrong"})
    signed_in = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    client.logout()
    for _ in range(2):  # the count started again: two more failures do not lock
        assert client.post("/accounts/login/", {"username": username, "password": "wrong"}).status_code == 200
    assert get_user_model().objects.get(pk=user.pk).is_active


def test_a_redis_that_went_away_lets_requests_through_instead_of_a_500(
    settings, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 17's fault drill: the Redis of the rate limits restarting answered 500 to every request."""
    from django.core.cache import caches

    from tests.mrv.own_redis import OwnRedis

    (tmp_path / "redis").mkdir()
    server = OwnRedis(folder=tmp_path / "redis").start()
    try:
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}
        }
        settings.MRV_THROTTLE_RATES = {**settings.MRV_THROTTLE_RATES, "user_burst": "2/min"}
        client = client_with(factories.api_user().token)
        assert [client.get(ENDPOINT).status_code for _ in range(3)] == [200, 200, 429]  # counted on Redis
        server.crash()
        with caplog.at_level("WARNING", logger="mrv.api.throttling"):
            assert client.get(ENDPOINT).status_code == 200
        assert "Redis unreachable" in caplog.text
    finally:
        server.stop()
        caches["default"].close()

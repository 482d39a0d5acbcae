"""What tokens and rate limits cost on POST /api/v1/calculate/ with 1,000 lines, on PostgreSQL with the
Redis cache (as in production).

- Within each authenticated request: the time spent in the token lookup (SHA-512 of the token, one
  statement by digest with the membership and organisation) and in the rate limits (three counters
  incremented and the address's failed authentications read, in one Redis round trip), as a share of
  that request's own time. This is the goal's figure: it subtracts no two noisy medians.
- The same request against the same view with no authentication, permission or throttle, timed in
  turn in the same run: the difference, which on a shared 2-core machine moves by more than the cost
  itself from one run to the next (other processes, garbage collections).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import fresh_postgres_database, interleaved, report
from bench.workload import mixed_batch

BENCH_DATABASE = "postgres://postgres@127.0.0.1:5432/mrv_bench_auth"
BENCH_REDIS = "redis://127.0.0.1:6379/1"
LINES = 1_000
ROUNDS = 60  # 60 authenticated requests stay below every default rate: none is throttled


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", BENCH_DATABASE)
    fresh_postgres_database(os.environ["DATABASE_URL"])
    os.environ["MRV_REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", BENCH_REDIS)
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    # The benchmark's counters live under a prefix of their own; the day's are deleted at the end.
    settings.CACHES["default"]["KEY_PREFIX"] = f"bench-auth-{os.getpid()}"
    call_command("migrate", verbosity=0, interactive=False)


def _timing(cls: type, name: str, spent: list[float]) -> None:
    """Wrap ``cls.name`` so that each call adds its wall time to ``spent``."""
    original: Callable[..., Any] = getattr(cls, name)

    def timed_call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    setattr(cls, name, timed_call)


def run() -> dict[str, float]:
    _setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client
    from django.urls import clear_url_caches, path
    from rest_framework.permissions import AllowAny

    import config.urls
    from mrv.api.authentication import TokenAuthentication
    from mrv.api.calculation import CalculateView
    from mrv.api.throttling import RateLimitThrottle, Window
    from mrv.services.users import user_create_with_token

    class OpenCalculateView(CalculateView):
        """The baseline: the same view, served by the same middleware, with no auth and no throttle."""

        authentication_classes: list[Any] = []
        permission_classes = [AllowAny]
        throttle_classes: list[Any] = []

    config.urls.urlpatterns.append(path("bench/calculate-open/", OpenCalculateView.as_view()))
    clear_url_caches()

    user, token = user_create_with_token(username="bench-auth", role="operator", organisation_name="Bench Co")
    body = json.dumps({"methodology": "cn-mee-2024", "lines": mixed_batch(LINES)})
    guarded_client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_HOST="localhost")
    open_client = Client(HTTP_HOST="localhost")
    lookups: list[float] = []
    limits: list[float] = []
    requests: list[float] = []

    def guarded() -> None:
        start = time.perf_counter()
        response = guarded_client.post("/api/v1/calculate/", body, content_type="application/json")
        requests.append(time.perf_counter() - start)
        assert response.status_code == 200, response.content[:300]

    def baseline() -> None:
        response = open_client.post("/bench/calculate-open/", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    _timing(TokenAuthentication, "authenticate", lookups)
    _timing(RateLimitThrottle, "allow_request", limits)
    warmup = 3
    baseline_s, guarded_s = interleaved([baseline, guarded], rounds=ROUNDS, warmup=warmup)
    lookups, limits, requests = lookups[warmup:], limits[warmup:], requests[warmup:]
    shares = [(a + b) / r for a, b, r in zip(lookups, limits, requests, strict=True)]
    share = statistics.median(shares)
    cache.delete_many([Window.now("user_sustained", user.pk, time.time()).key])

    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[1]
    report(
        f"tokens and rate limits: POST /api/v1/calculate/ with {LINES} lines "
        f"(PostgreSQL, {cache_backend}, medians of {ROUNDS} interleaved rounds)",
        [
            ("with hashed token and rate limits", f"{guarded_s * 1000:7.1f} ms"),
            ("  of which token lookup", f"{statistics.median(lookups) * 1000:7.2f} ms"),
            ("  of which rate limits", f"{statistics.median(limits) * 1000:7.2f} ms"),
            ("  lookup + rate limits / request", f"{share * 100:7.1f} %  (goal < 10 %)"),
            ("same view, no auth, no throttle", f"{baseline_s * 1000:7.1f} ms"),
            ("with / without (noisy)", f"{guarded_s / baseline_s:7.2f} x"),
        ],
    )
    return {"auth_share": share, "auth_ratio": guarded_s / baseline_s}

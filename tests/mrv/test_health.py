"""Liveness and readiness probes answer without authentication."""

from __future__ import annotations

import pytest
from django.test import override_settings


def test_healthz(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_only_answers_reads(client) -> None:
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_with_database_and_broker_reachable(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_readyz_answers_503_problem_when_the_broker_is_unreachable(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    document = response.json()
    assert document["code"] == "not_ready"
    assert document["checks"] == {"database": "ok", "broker": "unavailable"}


@pytest.mark.redis
@pytest.mark.django_db
def test_readyz_with_redis(client, settings) -> None:
    settings.CELERY_BROKER_URL = settings.MRV_REDIS_URL or settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    assert client.get("/readyz").status_code == 200


@pytest.mark.redis
def test_cache_is_redis_when_configured(settings) -> None:
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert settings.MRV_REDIS_URL, "make test sets MRV_REDIS_URL"
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    cache.set("mrv-test", "1", timeout=5)
    assert cache.get("mrv-test") == "1"

"""Fixtures for the Django layer: API clients, users of each role, and service markers."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.mrv import factories


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.fail("needs PostgreSQL: run `make test`, or set DATABASE_URL=postgres://...")
    if item.get_closest_marker("redis") and not (
        settings.MRV_REDIS_URL or settings.CELERY_BROKER_URL.startswith("redis")
    ):
        pytest.fail("needs Redis: run `make test`, or set MRV_REDIS_URL / a redis:// CELERY_BROKER_URL")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def operator(db: None) -> factories.ApiUser:
    return factories.api_user(role="operator")


@pytest.fixture
def operator_client(operator: factories.ApiUser) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {operator.token}")
    return client


@pytest.fixture
def world(db: None) -> factories.World:
    return factories.world()


@pytest.fixture
def tx_world(transactional_db: None) -> factories.World:
    return factories.world()


@pytest.fixture(autouse=True, scope="session")
def _throwaway_task_queue() -> None:
    """Tasks that tests enqueue without a worker go to a queue of this run's own, never to a shared one."""
    import uuid

    from config.celery import app

    app.conf.task_default_queue = f"test-unconsumed-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings: Any) -> None:
    """Each test counts its requests under a cache prefix of its own (no counts leak between tests or
    runs), at rates that ordinary tests never reach; the throttling tests set their own small rates.
    Every rate is per minute here, so the counters left in Redis expire within a minute."""
    import uuid

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {alias: {**config, "KEY_PREFIX": prefix} for alias, config in settings.CACHES.items()}
    settings.MRV_THROTTLE_RATES = dict.fromkeys(settings.MRV_THROTTLE_RATES, "100000/min")

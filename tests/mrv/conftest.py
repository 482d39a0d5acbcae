"""Fixtures for the Django layer: API clients, users of each role, and service markers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.mrv import factories
from tests.mrv.own_redis import OwnRedis
from tests.mrv.workers import Workers, forget_broker_connections


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
    """Tasks that tests enqueue without a worker go to a queue of this run's own, never to a shared one
    (imports too: they are routed to MRV_IMPORT_QUEUE)."""
    import uuid

    from config.celery import app

    app.conf.task_default_queue = f"test-unconsumed-{uuid.uuid4().hex[:8]}"
    settings.MRV_IMPORT_QUEUE = app.conf.task_default_queue


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """The test database says itself that it may be truncated: Django empties it between transactional
    tests with TRUNCATE, which the protected tables refuse otherwise (migration 0014)."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {name} SET mrv.allow_truncate = on")


@pytest.fixture(autouse=True)
def _own_checkpoint_folder(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Audit checkpoints a test writes go to a folder of its own (never the repository's var/)."""
    settings.MRV_AUDIT_CHECKPOINT_DIR = tmp_path_factory.getbasetemp() / f"checkpoints-{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings: Any) -> None:
    """Each test counts its requests under a cache prefix of its own (no counts leak between tests or
    runs), at rates that ordinary tests never reach; the throttling tests set their own small rates.
    Every rate is per minute here, so the counters left in Redis expire within a minute."""
    import uuid

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {alias: {**config, "KEY_PREFIX": prefix} for alias, config in settings.CACHES.items()}
    settings.MRV_THROTTLE_RATES = dict.fromkeys(settings.MRV_THROTTLE_RATES, "100000/min")


@pytest.fixture
def own_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[OwnRedis]:
    """A redis-server of this test's own, the broker of its workers and of this process while it runs."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = OwnRedis(folder=folder).start()
    # Celery prefers the CELERY_BROKER_URL environment variable to its configuration: set both.
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    settings.CELERY_BROKER_URL = server.url
    forget_broker_connections()
    try:
        yield server
    finally:
        forget_broker_connections()
        server.stop()


@pytest.fixture
def workers(transactional_db: None, tmp_path: Path, own_redis: OwnRedis, settings: Any) -> Iterator[Workers]:
    """Real workers (tests/mrv/workers.py) on a queue of this test's own, on its own Redis; this process
    enqueues there, imports included."""
    from config.celery import app

    queue = f"test-faults-{uuid.uuid4().hex[:12]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = settings.MRV_IMPORT_QUEUE = queue
    pool = Workers(queue=queue, folder=tmp_path, broker=own_redis)
    try:
        yield pool
    finally:
        for worker in pool.started:
            worker.stop()
        app.conf.task_default_queue = previous


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts and ends in the default language (a request in zh-Hans leaves it active)."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)

"""Database constraints hold whatever path a write takes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import IntegrityError, connection

from mrv.models import Organisation
from tests.mrv import factories

pytestmark = pytest.mark.django_db


def test_an_unknown_organisation_kind_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError):
        Organisation.objects.create(name="A bank", kind="bank", credit_code="91350100M000100Y43")


def test_a_credit_code_belongs_to_one_organisation() -> None:
    first = factories.organisation()
    with pytest.raises(IntegrityError):
        Organisation.objects.create(name="Someone else", kind="operator", credit_code=first.credit_code)


@pytest.mark.postgres
def test_postgres_connections_are_kept_between_requests() -> None:
    assert connection.vendor == "postgresql"
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 60
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True

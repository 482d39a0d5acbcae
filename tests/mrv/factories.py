"""Factories for models, built through the services so that tests exercise the real write paths."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from mrv.models import Organisation
from mrv.services.organisations import organisation_create, placeholder_credit_code
from mrv.services.users import user_create_with_token

_sequence = itertools.count(1)

_ORGANISATION_FOR_ROLE = {"operator": "Operator", "verifier": "Verification body", "regulator": "Authority"}


@dataclass(frozen=True)
class ApiUser:
    user: AbstractBaseUser
    token: str


def organisation(*, kind: str = "operator", name: str | None = None) -> Organisation:
    name = name or f"{kind.replace('_', ' ').title()} {next(_sequence)}"
    return organisation_create(name=name, kind=kind, credit_code=placeholder_credit_code(name=name))


def api_user(*, role: str = "operator", organisation_name: str | None = None) -> ApiUser:
    number = next(_sequence)
    user, token = user_create_with_token(
        username=f"{role}-{number}",
        role=role,
        organisation_name=organisation_name or f"{_ORGANISATION_FOR_ROLE[role]} {number}",
    )
    return ApiUser(user=user, token=token.key)


def client_for(user: ApiUser) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {user.token}")
    return client


@dataclass
class World:
    """Two operators with a facility each (verified by two different bodies), and an authority."""

    operator_a: ApiUser
    operator_b: ApiUser
    verifier_a: ApiUser
    verifier_b: ApiUser
    regulator: ApiUser
    facility_a: Any
    facility_b: Any

    def client(self, name: str) -> Any:
        return client_for(getattr(self, name))


def world() -> World:
    from mrv.models import Membership
    from mrv.services.facilities import facility_create

    users = {
        name: api_user(role=role)
        for name, role in (
            ("operator_a", "operator"),
            ("operator_b", "operator"),
            ("verifier_a", "verifier"),
            ("verifier_b", "verifier"),
            ("regulator", "regulator"),
        )
    }
    org = {name: Membership.objects.get(user=user.user).organisation for name, user in users.items()}
    facility_a = facility_create(
        by=users["regulator"].user,
        name="Cement plant A",
        operator=org["operator_a"],
        sector="cement",
        province="CN-JS",
        verification_body=org["verifier_a"],
    )
    facility_b = facility_create(
        by=users["regulator"].user,
        name="Smelter B",
        operator=org["operator_b"],
        sector="aluminium",
        province="CN-NM",
        verification_body=org["verifier_b"],
    )
    return World(**users, facility_a=facility_a, facility_b=facility_b)

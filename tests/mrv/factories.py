"""Factories for models, built through the services so that tests exercise the real write paths."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

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

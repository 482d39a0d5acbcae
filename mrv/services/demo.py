"""Demo data for the embedded mode (``manage.py seed_demo``), loaded from ``fixtures/demo.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from mrv.models import Organisation
from mrv.services.organisations import organisation_create
from mrv.services.users import user_create_with_token

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"


@dataclass(frozen=True)
class DemoUser:
    role: str
    username: str
    organisation: str
    token: str


@transaction.atomic
def demo_seed(*, path: Path = DEMO_FILE) -> list[DemoUser]:
    """Create the demo organisations and users that do not exist yet; return every demo user's token.

    Idempotent: running it again creates nothing and returns the same tokens.
    """
    demo = json.loads(path.read_text(encoding="utf-8"))
    for organisation in demo["organisations"]:
        if not Organisation.objects.filter(name=organisation["name"]).exists():
            organisation_create(
                name=organisation["name"], kind=organisation["kind"], credit_code=organisation["credit_code"]
            )
    users = []
    for user in demo["users"]:
        existing = get_user_model().objects.filter(username=user["username"]).first()
        if existing is not None:
            token, _ = Token.objects.get_or_create(user=existing)
        else:
            _, token = user_create_with_token(
                username=user["username"], role=user["role"], organisation_name=user["organisation"]
            )
        users.append(DemoUser(user["role"], user["username"], user["organisation"], token.key))
    return users

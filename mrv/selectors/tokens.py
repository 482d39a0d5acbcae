"""Reads of API tokens: a user sees only their own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from mrv.models import ApiToken


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    """``user``'s tokens, newest first (expired ones too, until revoked)."""
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created", "-id")

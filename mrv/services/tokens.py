"""Writes on API tokens: issue, revoke, rotate. Only a token's digest is stored (django-rest-knox).

The plain token exists only in the ``IssuedToken`` returned by ``token_issue``: the caller shows it once.
Each issue and revocation is audited with the token's prefix (never the token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from mrv.models import ApiToken
from mrv.selectors.scoping import membership
from mrv.services.audit import audit_record


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``key`` is the plain token (send it as ``Authorization: Token <key>``)."""

    key: str
    token: ApiToken


def _audit(*, user: Any, action: str, token: ApiToken) -> None:
    found = membership(user)
    audit_record(
        actor=user,
        action=action,
        object_type="api_token",
        object_id=token.pk,
        organisation=found.organisation if found is not None else None,
        data={
            "prefix": token.token_key,
            "name": token.name,
            "expiry": token.expiry.isoformat() if token.expiry else None,
        },
    )


@transaction.atomic
def token_issue(*, user: Any, name: str = "", expires_in: timedelta | None = None) -> IssuedToken:
    """A new token for ``user``, valid for ``expires_in`` (at most, and by default, MRV_TOKEN_TTL_DAYS)."""
    ttl = timedelta(days=settings.MRV_TOKEN_TTL_DAYS)
    token, key = ApiToken.objects.create(user=user, expiry=min(expires_in or ttl, ttl), name=name)
    _audit(user=user, action="token.create", token=token)
    return IssuedToken(key=key, token=token)


@transaction.atomic
def token_revoke(*, user: Any, token: ApiToken, by: Any = None) -> None:
    """Revoke ``token`` (one of ``user``'s): it stops working at once."""
    _audit(user=by or user, action="token.revoke", token=token)
    token.delete()


@transaction.atomic
def token_rotate(*, user: Any, prefix: str | None = None, name: str = "") -> tuple[IssuedToken, int]:
    """Revoke ``user``'s token whose prefix starts with ``prefix`` (every token of theirs when None) and
    issue a new one; returns it and how many were revoked. A prefix that matches none is refused."""
    tokens = list(ApiToken.objects.select_for_update().filter(user=user).order_by("id"))
    if prefix is not None:
        tokens = [token for token in tokens if token.token_key.startswith(prefix)]
        if not tokens:
            raise ValidationError({"rotate": f"{user.get_username()!r} has no token with prefix {prefix!r}."})
    for token in tokens:
        token_revoke(user=user, token=token)
    return token_issue(user=user, name=name), len(tokens)

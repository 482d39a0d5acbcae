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

from mrv.models import ApiToken, Membership
from mrv.services.audit import audit_record


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``key`` is the plain token (send it as ``Authorization: Token <key>``)."""

    key: str
    token: ApiToken


def _audit(*, user: Any, action: str, token: ApiToken) -> None:
    found = token.membership if token.membership_id is not None else _only_membership(user)
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
            "membership": token.membership_id,
        },
    )


def _only_membership(user: Any) -> Membership | None:
    """``user``'s membership when they hold exactly one (a token issued for them is bound to it)."""
    found = list(Membership.objects.select_related("organisation").filter(user_id=user.pk)[:2])
    return found[0] if len(found) == 1 else None


@transaction.atomic
def token_issue(
    *,
    user: Any,
    name: str = "",
    expires_in: timedelta | None = None,
    membership: Membership | None = None,
) -> IssuedToken:
    """A new token for ``user``, valid for ``expires_in`` (at most, and by default, MRV_TOKEN_TTL_DAYS),
    bound to ``membership`` (one of theirs; by default their only one: a user with several gets an
    unbound token, which names its membership with the ``MRV-Membership`` header)."""
    ttl = timedelta(days=settings.MRV_TOKEN_TTL_DAYS)
    if membership is None:
        membership = _only_membership(user)
    elif membership.user_id != user.pk:
        raise ValidationError({"membership": "A token is bound to one of its own user's memberships."})
    token, key = ApiToken.objects.create(
        user=user, expiry=min(expires_in or ttl, ttl), name=name, membership=membership
    )
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
    issue a new one, bound to the membership of the revoked tokens when they were all bound to the same
    one; returns it and how many were revoked. A prefix that matches none is refused."""
    tokens = list(ApiToken.objects.select_for_update().filter(user=user).order_by("id"))
    if prefix is not None:
        tokens = [token for token in tokens if token.token_key.startswith(prefix)]
        if not tokens:
            raise ValidationError({"rotate": f"{user.get_username()!r} has no token with prefix {prefix!r}."})
    bound = {token.membership_id for token in tokens}
    for token in tokens:
        token_revoke(user=user, token=token)
    membership = None
    if len(bound) == 1 and None not in bound:
        membership = Membership.objects.filter(pk=bound.pop(), user_id=user.pk).first()
    return token_issue(user=user, name=name, membership=membership), len(tokens)

"""``Authorization: Token <key>``: hashed, expiring tokens (django-rest-knox), failures limited per address.

The token is hashed (SHA-512, knox) and looked up by its digest in one query that also loads the
membership it is bound to, which the scoping selectors need; a token bound to no membership acts for
the membership named by the ``MRV-Membership`` header, or the user's only one (a user with several
and no header: 400 ``membership_required``; a header naming another's: 404 ``membership_not_found``).
An unknown or expired token answers
401 and counts as a failure of the client's address; past ``auth_failures`` in the window the answer
is 429, and the throttle refuses the address's other requests too, whatever token they carry
(``mrv.api.throttling``). A token's ``last_used_at`` is written at most once a minute.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.authentication import SessionScheme as DRFSpectacularSessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.settings import knox_settings
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication
from rest_framework.authentication import get_authorization_header

from mrv.api.throttling import AuthFailureLimiter
from mrv.models import ApiToken
from mrv.selectors.scoping import resolve_membership
from mrv.selectors.tokens import token_by_digest

#: The request header naming the membership a request acts for (a user with several, unbound token).
HEADER = "HTTP_MRV_MEMBERSHIP"
#: Longer credentials are refused before hashing (a token is 68 characters, a migrated one 40).
MAX_TOKEN_LENGTH = 128
#: ``last_used_at`` is written when it is older than this (one write a minute per token at most).
LAST_USED_PRECISION = timedelta(seconds=60)


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's scheme (``Token`` keyword, digests at rest) with one query per request and expiry kept."""

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != knox_settings.AUTH_HEADER_PREFIX.lower().encode():
            return None  # no token: another scheme (the session) may apply
        try:
            if len(auth) != 2:
                raise exceptions.AuthenticationFailed("Invalid token header: send 'Token <key>'.")
            user, token = self.authenticate_credentials(auth[1])
        except exceptions.AuthenticationFailed:
            AuthFailureLimiter(request).record_failure()  # past the limit: 429 instead of 401
            raise
        bound = token.membership if token.membership_id is not None else None
        act_for(request, user, bound=bound)
        return user, token

    def authenticate_credentials(self, key: bytes) -> tuple[Any, ApiToken]:
        try:
            plain = key.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if len(plain) > MAX_TOKEN_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = token_by_digest(hash_token(plain))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        now = timezone.now()
        if token.expiry is not None and token.expiry <= now:
            raise exceptions.AuthenticationFailed("The token has expired: create a new one.")
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token


def act_for(request: Any, user: Any, *, bound: Any = None) -> None:
    """Note which membership ``user`` acts for in this request: the token's binding, else the
    ``MRV-Membership`` header, else the user's only membership. Resolved by ``scoping.membership`` on
    first use (so that endpoints that need none, such as the list of one's memberships, answer to a user
    with several); a token bound to a membership and no header: resolved here, without a query."""
    requested = request.META.get(HEADER)
    if bound is not None and not requested:
        user._mrv_membership = resolve_membership(user, bound=bound)
        return
    user._mrv_requested_membership = requested
    user._mrv_bound_membership = bound


class SessionAuthentication(DRFSessionAuthentication):
    """Django's session (the browsable API, the dashboard's user) acting for one membership as above."""

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        found = super().authenticate(request)
        if found is not None:
            act_for(request, found[0])
        return found


class TokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of ``TokenAuthentication``: ``Authorization: Token <key>``."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=knox_settings.AUTH_HEADER_PREFIX
        )


class SessionScheme(DRFSpectacularSessionScheme):
    """The OpenAPI security scheme of :class:`SessionAuthentication` (Django's session cookie)."""

    target_class = SessionAuthentication

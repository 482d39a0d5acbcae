"""Rate limits: DRF throttles counted in the shared cache (Redis when ``MRV_REDIS_URL`` is set).

| throttle                   | counts                                   | rate (settings.MRV_THROTTLE_RATES) |
|----------------------------|------------------------------------------|-------------------------------------|
| ``UserBurstThrottle``      | an authenticated user's requests         | ``user_burst`` (300/min)            |
| ``UserSustainedThrottle``  | the same, over a longer period           | ``user_sustained`` (20000/day)      |
| ``AddressThrottle``        | every request from one client address    | ``address`` (600/min)               |
| ``AuthFailureLimiter``     | failed token authentications per address | ``auth_failures`` (100/min)         |

Over a limit the answer is a 429 problem document with ``Retry-After`` (``mrv.api.exceptions``).
The rates are read from the settings on every request, so that they can be changed without a new class.
The client address is ``REMOTE_ADDR``, or the one ``MRV_NUM_PROXIES`` proxies in front put in
``X-Forwarded-For`` (``client_address``; django-axes uses the same for login lockouts).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework import exceptions, throttling


def client_address(request: HttpRequest) -> str:
    """The client's address as the throttles see it (also django-axes' ``AXES_CLIENT_IP_CALLABLE``)."""
    return throttling.BaseThrottle().get_ident(request) or ""


class _SettingsRateThrottle(throttling.SimpleRateThrottle):
    cache_format = "mrv:throttle:%(scope)s:%(ident)s"

    def get_rate(self) -> str | None:
        return settings.MRV_THROTTLE_RATES[self.scope]


class UserBurstThrottle(_SettingsRateThrottle):
    """An authenticated user's requests over a short period (anonymous requests: see AddressThrottle)."""

    scope = "user_burst"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class UserSustainedThrottle(UserBurstThrottle):
    scope = "user_sustained"


class AddressThrottle(_SettingsRateThrottle):
    """Every request from one client address, authenticated or not."""

    scope = "address"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthFailureLimiter:
    """Failed token authentications per client address, in fixed windows of the rate's period.

    ``check`` runs before a token is looked up: once an address has failed ``auth_failures`` times in
    the current window, every token it sends (even a good one) answers 429 until the window ends, so
    guessing gains nothing. ``record_failure`` counts one failure.
    """

    scope = "auth_failures"

    def __init__(self, request: Any) -> None:
        self.limit, self.period = throttling.SimpleRateThrottle.parse_rate(
            None,  # type: ignore[arg-type]  # parse_rate does not use self
            settings.MRV_THROTTLE_RATES[self.scope],
        )
        now = time.time()
        window = int(now // self.period)
        self.wait = self.period - (now - window * self.period)
        ident = throttling.BaseThrottle().get_ident(request)
        self.key = f"mrv:throttle:{self.scope}:{ident}:{window}"

    def check(self) -> None:
        if cache.get(self.key, 0) >= self.limit:
            raise exceptions.Throttled(
                wait=self.wait, detail="Too many failed authentications from this address."
            )

    def record_failure(self) -> None:
        cache.add(self.key, 0, timeout=self.period + 1)
        try:
            cache.incr(self.key)
        except ValueError:  # expired between add and incr: the next window has begun
            cache.add(self.key, 1, timeout=self.period + 1)


def login_client_label(username: str, ip_address: str, user_agent: str, path_info: str, request: Any) -> str:
    """How django-axes names a client in its log lines: a keyed digest, not the user name or address.

    (``AXES_CLIENT_STR_CALLABLE``.) The same user name and address give the same label, so an operator
    can follow one client's attempts without the logs holding personal data.
    """
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{username}\x00{ip_address}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{{client: {digest[:12]}, path: {path_info}}}"

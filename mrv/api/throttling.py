"""Rate limits: one DRF throttle counting requests in the shared cache (Redis when ``MRV_REDIS_URL`` is set).

| scope            | counts                                       | rate (settings.MRV_THROTTLE_RATES) |
|------------------|----------------------------------------------|-------------------------------------|
| ``user_burst``   | an authenticated user's requests             | 300/min                             |
| ``user_sustained`` | the same, over a longer period             | 20000/day                           |
| ``address``      | every request from one client address        | 600/min                             |
| ``auth_failures``| failed token authentications per address     | 100/min                             |

Each scope counts in fixed windows of its period (``N/second|minute|hour|day``): one counter per
identity and window, incremented atomically. A request over any limit answers a 429 problem document
whose ``Retry-After`` is the end of the window (``mrv.api.exceptions``). On Redis the counters of a
request are incremented in one pipelined round trip (DRF's own ``SimpleRateThrottle`` reads and
writes a list of timestamps per scope: several round trips, a list of 20,000 floats for a day's
rate, and lost updates under concurrency). Throttled requests count too, so a client that keeps
sending while throttled stays throttled until its window ends.

An address whose token authentications failed ``auth_failures`` times in the window gets 429 for
every request, even with a good token, so guessing tokens gains nothing (``AuthFailureLimiter`` counts
the failures, ``RateLimitThrottle`` refuses the rest).

The rates are read from the settings on every request. The client address is ``REMOTE_ADDR``, or the
one that ``MRV_NUM_PROXIES`` proxies in front put in ``X-Forwarded-For`` (``client_address``; the
login lockouts of django-axes use the same).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from rest_framework import exceptions, throttling

KEY_PREFIX = "mrv:rate"
logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The client's address as the throttles see it (also django-axes' ``AXES_CLIENT_IP_CALLABLE``)."""
    return throttling.BaseThrottle().get_ident(request) or ""


@dataclass(frozen=True)
class Window:
    """The current fixed window of ``scope`` for ``ident``: its counter's key, limit and time left."""

    scope: str
    key: str
    limit: int
    period: int
    wait: float

    @classmethod
    def now(cls, scope: str, ident: Any, at: float) -> Window:
        # DRF reads "N/period": s, m, h or d, or a word starting with one (parse_rate uses no state).
        limit, period = throttling.SimpleRateThrottle.parse_rate(None, settings.MRV_THROTTLE_RATES[scope])
        index = int(at // period)
        return cls(scope, f"{KEY_PREFIX}:{scope}:{ident}:{index}", limit, period, (index + 1) * period - at)


def _count(increment: Sequence[Window], read: Sequence[Window] = ()) -> tuple[list[int], list[int]]:
    """Increment the counters of ``increment`` and read those of ``read``: one round trip on Redis.

    A Redis that cannot be reached (restarting, down) counts nothing: the request goes on unlimited
    (logged) rather than failing, the counters being a guard, not a record (issue 17's fault drill)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        try:
            return _count_on_redis(cache, increment, read)
        except redis.RedisError as error:
            logger.warning("rate limits not counted, Redis unreachable: %s", error)
            return [0] * len(increment), [0] * len(read)
    counts = []
    for window in increment:  # the in-process cache of the embedded mode
        cache.add(window.key, 0, timeout=window.period + 1)
        try:
            counts.append(cache.incr(window.key))
        except ValueError:  # expired between add and incr: count afresh
            cache.set(window.key, 1, timeout=window.period + 1)
            counts.append(1)
    return counts, [cache.get(window.key, 0) for window in read]


def _count_on_redis(
    cache: RedisCache, increment: Sequence[Window], read: Sequence[Window]
) -> tuple[list[int], list[int]]:
    keys = {window.key: cache.make_and_validate_key(window.key) for window in [*increment, *read]}
    client = cache._cache.get_client(write=True)
    with client.pipeline(transaction=False) as pipe:
        for window in increment:
            pipe.incr(keys[window.key])
            pipe.expire(keys[window.key], window.period + 1)
        for window in read:
            pipe.get(keys[window.key])
        replies = pipe.execute()
    counts = [int(reply) for reply in replies[: 2 * len(increment) : 2]]
    return counts, [int(reply or 0) for reply in replies[2 * len(increment) :]]


class RateLimitThrottle(throttling.BaseThrottle):
    """Per user (two periods) and per address; refuses an address over its failed-authentication limit."""

    def allow_request(self, request: Any, view: Any) -> bool:
        at = time.time()
        address = self.get_ident(request)
        windows = [Window.now("address", address, at)]
        if request.user and request.user.is_authenticated:
            windows += [Window.now(scope, request.user.pk, at) for scope in ("user_burst", "user_sustained")]
        failures = Window.now(AuthFailureLimiter.scope, address, at)
        counts, (failed,) = _count(windows, [failures])
        over = [window for window, count in zip(windows, counts, strict=True) if count > window.limit]
        if failed >= failures.limit:
            over.append(failures)
        self._wait = max((window.wait for window in over), default=None)
        return not over

    def wait(self) -> float | None:
        return self._wait


class AuthFailureLimiter:
    """Counts failed token authentications per client address (scope ``auth_failures``).

    ``record_failure`` counts one and, past the limit, answers 429 instead of 401; the address's
    later requests are refused by ``RateLimitThrottle`` until the window ends, whatever token they send.
    """

    scope = "auth_failures"

    def __init__(self, request: Any) -> None:
        self.window = Window.now(self.scope, throttling.BaseThrottle().get_ident(request), time.time())

    def record_failure(self) -> None:
        (count,), _ = _count([self.window])
        if count > self.window.limit:
            raise exceptions.Throttled(
                wait=self.window.wait, detail="Too many failed authentications from this address."
            )


def login_client_label(username: str, ip_address: str, user_agent: str, path_info: str, request: Any) -> str:
    """How django-axes names a client in its log lines: a keyed digest, not the user name or address.

    (``AXES_CLIENT_STR_CALLABLE``.) The same user name and address give the same label, so an operator
    can follow one client's attempts without the logs holding personal data.
    """
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{username}\x00{ip_address}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{{client: {digest[:12]}, path: {path_info}}}"

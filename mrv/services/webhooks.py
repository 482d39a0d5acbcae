"""Webhooks: an organisation's subscriptions, and the delivery of events to them (SPEC §10).

Events are written to the outbox (``WebhookDelivery``, one row per subscription) by
:func:`mrv.services.events.publish` inside the transaction of the change they report, and each row is
published to Celery (``mrv.deliver_webhook``) once that transaction commits: an event of a rolled-back
change is never sent.

A try (:func:`delivery_try`) POSTs the stored body with ``MRV-Signature: t=<unix seconds>,v1=<hex
HMAC-SHA256(secret, "<t>.<body>")>``, under the delivery row's lock: a second message for the same try
(a broker redelivery) waits or finds the try number taken, and a delivery acknowledged (2xx) is never
sent again by a task. A non-2xx answer, a timeout or a refused connection is retried after
``MRV_WEBHOOK_BACKOFF_SECONDS * 2**(n-1)`` up to ``MRV_WEBHOOK_MAX_ATTEMPTS`` tries; every try is
logged (``WebhookAttempt``). Redirects are never followed.

The signing secret is generated here (32 random bytes), shown once, and stored Fernet-encrypted under
``MRV_WEBHOOK_KEY`` (a key derived from ``MRV_SECRET_KEY`` when unset): a copy of the database alone
does not give the secrets.

SSRF: with ``MRV_ENV=production`` a URL must be https and every address its host resolves to must be
public (not private, loopback, link-local, reserved, multicast or unspecified); checked at subscription
and again at each try, which then connects to the address it checked, or reuses a connection its worker
process kept alive to that same host and address (a DNS answer that changes between the check and the
connection, "DNS rebinding", is not followed). In development any http(s) URL is allowed.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import logging
import secrets
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from mrv.errors import Conflict, InvalidRequest
from mrv.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from mrv.selectors.scoping import membership
from mrv.services import background
from mrv.services.audit import audit_record

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "MRV-Signature"
USER_AGENT = "MRV-Webhooks/1"
#: Bytes of a receiver's answer read (and dropped): the status line is what counts.
ANSWER_LIMIT = 4096


class WebhookUrlRefused(InvalidRequest):
    """A webhook URL the service will not send to (SSRF rules, scheme, credentials in the URL)."""

    code = "webhook_url_refused"
    title = "Webhook URL refused"


class TargetRefused(Exception):
    """Why a URL is not sent to (the message is shown to the subscriber)."""


# -- secrets and signatures ------------------------------------------------------------------------------


@cache
def _fernet(keys: str, fallback: str) -> MultiFernet:
    material = [key.strip() for key in keys.split(",") if key.strip()] or [fallback]
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"mrv-webhook-secret:" + key.encode()).digest()))
            for key in material
        ]
    )


def _cipher() -> MultiFernet:
    return _fernet(settings.MRV_WEBHOOK_KEY, settings.SECRET_KEY)


def secret_encrypt(secret: str) -> str:
    return _cipher().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _cipher().decrypt(token.encode()).decode()


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``MRV-Signature`` header value of ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# -- where a URL may point -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _production() -> bool:
    return bool(settings.MRV_ENV == "production")


def _forbidden(address: str) -> str | None:
    """What makes ``address`` unfit to send to in production (None: a public address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        # 2002::/16 (6to4) is "global" to ipaddress, but a relay delivers it to the IPv4 address inside
        embedded = _forbidden(str(ip.sixtofour))
        if embedded is not None:
            return embedded
    # most telling first: 127.0.0.0/8 and 169.254.0.0/16 are "private" to ipaddress as well
    for name in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if not ip.is_global:
        return "not public"
    return None


def target_of(url: str, *, production: bool | None = None) -> Target:
    """Where a try of ``url`` connects: its host resolved now, every address checked in production.
    Raises :class:`TargetRefused` with the reason."""
    production = _production() if production is None else production
    try:
        parts = urlsplit(url)
        host, port_given = parts.hostname or "", parts.port
    except ValueError:
        raise TargetRefused("the URL is not valid (its host or port cannot be read)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("the URL must start with https://")
    if production and scheme != "https":
        raise TargetRefused("the URL must use https (plain http is allowed in development only)")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL must not carry a user name or password: the signature authenticates")
    if not host:
        raise TargetRefused("the URL has no host")
    port = port_given or (443 if scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise TargetRefused(f"the host {host} does not resolve") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise TargetRefused(f"the host {host} does not resolve")
    if production:
        for address in addresses:
            reason = _forbidden(address)
            if reason is not None:
                raise TargetRefused(
                    f"the host {host} resolves to a {reason} address ({address}): give a public https URL"
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


def _check_url(url: str) -> None:
    try:
        target_of(url)
    except TargetRefused as refused:
        raise WebhookUrlRefused(
            "the webhook URL is refused",
            [{"pointer": "/url", "code": "webhook_url_refused", "detail": str(refused)}],
        ) from None


# -- subscriptions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedSubscription:
    """A subscription just created: ``secret`` is its plain signing secret, shown this once."""

    subscription: WebhookSubscription
    secret: str


def _organisation_of(user: AbstractBaseUser) -> Any:
    found = membership(user)
    if found is None:  # views require a membership; a service called otherwise is a bug
        raise Conflict("only a member of an organisation can manage its webhooks")
    return found.organisation


def _audit(*, by: AbstractBaseUser, action: str, subscription: WebhookSubscription, **data: Any) -> None:
    audit_record(
        actor=by,
        action=action,
        object_type="webhook",
        object_id=subscription.pk,
        organisation=subscription.organisation,
        data={**audited_url(subscription.url), "events": subscription.events, **data},
    )


def audited_url(url: str) -> dict[str, str]:
    """What the audit trail keeps of a webhook URL: its origin and the SHA-256 of the whole URL. The path
    and query of a receiver's URL are often its credential (``/services/T0/B0/<token>``, ``?key=``), and
    the audit trail is read beyond the organisation (the regulator) and kept for ever."""
    parts = urlsplit(url)
    return {"url": f"{parts.scheme}://{parts.netloc}", "url_sha256": hashlib.sha256(url.encode()).hexdigest()}


@transaction.atomic
def subscription_create(*, by: AbstractBaseUser, url: str, events: list[str]) -> CreatedSubscription:
    """Subscribe ``by``'s organisation to ``events`` at ``url`` (checked: see the module's docstring)."""
    _check_url(url)
    unknown = [event for event in events if event not in WebhookEvent.values]
    if unknown or not events:
        raise InvalidRequest(
            "the events must be a non-empty list of known event types",
            [{"pointer": "/events", "code": "invalid_choice", "detail": ", ".join(WebhookEvent.values)}],
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    subscription = WebhookSubscription.objects.create(
        organisation=_organisation_of(by),
        url=url,
        events=sorted(set(events)),
        secret_encrypted=secret_encrypt(secret),
        secret_prefix=secret[: len(SECRET_PREFIX) + 4],
        created_by=by,
    )
    _audit(
        by=by, action="webhook.create", subscription=subscription, secret_prefix=subscription.secret_prefix
    )
    return CreatedSubscription(subscription=subscription, secret=secret)


@transaction.atomic
def subscription_delete(*, by: AbstractBaseUser, subscription: WebhookSubscription) -> None:
    """Stop sending to ``subscription``: it disappears from the API, and each pending delivery ends
    ``failed`` at its next try without sending (not here: a try in progress holds its row). The rows and
    their log stay."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.deleted_at is not None:
        return
    locked.deleted_at = timezone.now()
    locked.save(update_fields=["deleted_at"])
    _audit(by=by, action="webhook.delete", subscription=locked)


@transaction.atomic
def delivery_redeliver(*, by: AbstractBaseUser, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send ``delivery`` again (same event id and body, a fresh signature), with a new series of
    ``MRV_WEBHOOK_MAX_ATTEMPTS`` tries; refused while it is still being tried."""
    locked = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("subscription__organisation")
        .get(pk=delivery.pk)
    )
    if locked.status == Status.PENDING:
        raise Conflict(
            f"delivery {locked.pk} is still being tried ({locked.attempts} tries so far): "
            "wait until it is delivered or has failed"
        )
    if locked.subscription.deleted_at is not None:
        raise Conflict("the webhook of this delivery was deleted")
    now = timezone.now()
    locked.status, locked.give_up_after = Status.PENDING, locked.attempts + settings.MRV_WEBHOOK_MAX_ATTEMPTS
    locked.next_attempt_at = locked.published_at = now
    locked.save(update_fields=["status", "give_up_after", "next_attempt_at", "published_at"])
    _audit(
        by=by,
        action="webhook.redeliver",
        subscription=locked.subscription,
        delivery=locked.pk,
        event=str(locked.event_id),
    )
    background.enqueue_on_commit(background.DELIVER_WEBHOOK, locked.pk, locked.attempts + 1)
    return locked


# -- delivery --------------------------------------------------------------------------------------------


def _open(address: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to ``address`` with Nagle's algorithm off, as http.client's own ``connect`` does:
    it sends a request's headers and body in two writes, and with Nagle on the body waits for the
    receiver's delayed acknowledgement of the headers (40 ms on Linux) on every try."""
    sock = socket.create_connection((address, port), timeout)
    with contextlib.suppress(OSError):  # not every socket family has it
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to ``host`` that connects to the address checked for it, not a fresh lookup."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = _open(self.address, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As :class:`_PinnedHTTPConnection`, with TLS verified against the URL's host name (SNI too)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = _open(self.address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str


#: Seconds an idle kept-alive connection to a receiver is reused for (under the 5 s many servers keep).
IDLE_SECONDS = 4.0
_idle = threading.local()


def _idle_connections() -> dict[tuple[str, str, int, str], tuple[http.client.HTTPConnection, float]]:
    """This thread's (this worker process's) kept-alive connections, by scheme, host, port and the
    address each is connected to."""
    if not hasattr(_idle, "connections"):
        _idle.connections = {}
    return _idle.connections  # type: ignore[no-any-return]


def _connection_to(target: Target) -> tuple[http.client.HTTPConnection, bool]:
    """A connection to ``target`` at its first checked address: one kept alive to that same host and
    address (and used within IDLE_SECONDS) if there is one, else a new one; and whether it was kept."""
    key = (target.scheme, target.host, target.port, target.addresses[0])
    kept = _idle_connections().pop(key, None)
    if kept is not None:
        connection, since = kept
        if time.monotonic() - since < IDLE_SECONDS and connection.sock is not None:
            connection.timeout = settings.MRV_WEBHOOK_TIMEOUT_SECONDS  # as a new one would have
            connection.sock.settimeout(connection.timeout)
            return connection, True
        connection.close()
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(
        target.host, target.port, address=target.addresses[0], timeout=settings.MRV_WEBHOOK_TIMEOUT_SECONDS
    )
    return connection, False


def _exchange(
    connection: http.client.HTTPConnection, target: Target, body: bytes, headers: dict[str, str]
) -> http.client.HTTPResponse:
    connection.request("POST", target.path, body=body, headers=headers)
    return connection.getresponse()


def _post(target: Target, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``target`` at its first checked address; the receiver's status, or the error.

    The connection is kept for the next try to the same host and checked address when the receiver
    keeps it open (HTTP/1.1) and its whole answer was read: only ever to the address checked for this
    try. A kept connection the receiver closed in the meantime (no answer on it) is replaced by a new
    one once; the event was not acknowledged, so sending it again is what a retry would do."""
    connection, kept = _connection_to(target)
    keep = False
    try:
        try:
            response = _exchange(connection, target, body, headers)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not kept:
                raise
            connection.close()
            connection, kept = _connection_to(target)  # popped above: a new one
            response = _exchange(connection, target, body, headers)
        response.read(ANSWER_LIMIT)
        status = response.status
        keep = not response.will_close and response.isclosed()  # all of it read, the receiver keeps it
    except TimeoutError:
        return Answer(None, f"timed out after {settings.MRV_WEBHOOK_TIMEOUT_SECONDS:g} s")
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, f"{type(error).__name__}: {error}"[:500])
    finally:
        if keep:
            key = (target.scheme, target.host, target.port, target.addresses[0])
            _idle_connections()[key] = (connection, time.monotonic())
        else:
            connection.close()
    if 200 <= status < 300:
        return Answer(status, "")
    if 300 <= status < 400:
        return Answer(status, "redirect not followed: answer 2xx at the subscribed URL")
    return Answer(status, f"HTTP {status}")


def _send(delivery: WebhookDelivery, target: Target) -> Answer:
    try:
        secret = secret_decrypt(delivery.subscription.secret_encrypted)
    except InvalidToken:
        return Answer(
            None, "the secret cannot be decrypted: was MRV_WEBHOOK_KEY changed without its old key?"
        )
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "MRV-Event-Id": str(delivery.event_id),
        "MRV-Event-Type": delivery.event_type,
        SIGNATURE_HEADER: sign(secret=secret, timestamp=int(time.time()), body=body),
    }
    return _post(target, body=body, headers=headers)


def backoff(number: int) -> float:
    """Seconds to wait after failed try ``number`` (1, 2, ...) before the next one."""
    return float(settings.MRV_WEBHOOK_BACKOFF_SECONDS * 2 ** (number - 1))


#: PostgreSQL: the try's log row and the delivery's new state in one statement (one round trip).
_RECORD_SQL = """
WITH attempt AS (
    INSERT INTO mrv_webhookattempt (delivery_id, number, at, status_code, error, duration_ms)
    VALUES (%(delivery)s, %(number)s, %(at)s, %(status_code)s, %(error)s, %(duration_ms)s)
)
UPDATE mrv_webhookdelivery
SET attempts = %(number)s, status = %(status)s, next_attempt_at = %(next_attempt_at)s,
    delivered_at = %(delivered_at)s, published_at = %(published_at)s
WHERE id = %(delivery)s
"""


def _record(delivery: WebhookDelivery, *, at: Any, answer: Answer, duration_ms: int) -> None:
    """Log try ``delivery.attempts`` (append-only) and save the delivery's new state, in the caller's
    transaction: one statement on PostgreSQL, an insert and an update elsewhere (SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _RECORD_SQL,
                {
                    "delivery": delivery.pk,
                    "number": delivery.attempts,
                    "at": at,
                    "status_code": answer.status_code,
                    "error": answer.error,
                    "duration_ms": duration_ms,
                    "status": delivery.status,
                    "next_attempt_at": delivery.next_attempt_at,
                    "delivered_at": delivery.delivered_at,
                    "published_at": delivery.published_at,
                },
            )
        return
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        at=at,
        status_code=answer.status_code,
        error=answer.error,
        duration_ms=duration_ms,
    )
    delivery.save(update_fields=["attempts", "status", "next_attempt_at", "delivered_at", "published_at"])


def delivery_try(*, delivery_id: int, number: int) -> str:
    """Make try ``number`` of delivery ``delivery_id`` if it is the next one and due; what happened.

    Safe to call any number of times: a delivered or failed delivery is left alone, a try number already
    made is not made again, and the row stays locked while the try runs (a second message for it skips).
    """
    countdown: float | None = None
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "skipped: being tried by another run (or unknown)"
        if delivery.status != Status.PENDING:
            return f"skipped: delivery is {delivery.status}"
        if delivery.attempts != number - 1:
            return f"skipped: try {number} is not next ({delivery.attempts} made)"
        now = timezone.now()
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now + timedelta(seconds=1):
            return "skipped: not due yet"
        subscription = delivery.subscription
        if subscription.deleted_at is not None:
            delivery.status, delivery.next_attempt_at = Status.FAILED, None
            delivery.save(update_fields=["status", "next_attempt_at"])
            return "failed: the webhook was deleted"
        started = time.monotonic()
        try:
            target = target_of(subscription.url)
        except TargetRefused as refused:
            answer = Answer(None, f"refused: {refused}"[:500])
        else:
            try:
                answer = _send(delivery, target)
            except background.TimeLimitReached:
                # a receiver that trickles its answer (each byte within the socket timeout) is cut by the
                # task's soft time limit: a failed try like a timeout, logged and counted, not a run that
                # rolls back and is published again by the sweeper, without end
                answer = Answer(None, "the receiver did not answer within the task's time limit")
        duration_ms = int((time.monotonic() - started) * 1000)
        delivery.attempts = number
        if not answer.error:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = Status.DELIVERED, now, None
            outcome = f"delivered: HTTP {answer.status_code}"
        elif number >= delivery.give_up_after:
            delivery.status, delivery.next_attempt_at = Status.FAILED, None
            outcome = f"failed after {number} tries: {answer.error}"
        else:
            # the back-off restarts with each series (a redelivery starts one at give_up_after - MAX)
            wait = backoff(max(1, number - (delivery.give_up_after - settings.MRV_WEBHOOK_MAX_ATTEMPTS)))
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=wait)
            if wait <= settings.MRV_WEBHOOK_COUNTDOWN_MAX_SECONDS:
                countdown, delivery.published_at = wait, timezone.now()
            else:  # published by the sweeper when due
                delivery.published_at = None
            outcome = f"retry in {wait:g} s: {answer.error}"
        _record(delivery, at=now, answer=answer, duration_ms=duration_ms)
    if countdown is not None:
        background.publish(background.DELIVER_WEBHOOK, delivery_id, number + 1, countdown=countdown)
    return outcome


def deliveries_sweep() -> int:
    """Publish the next try of every pending delivery that is due and has no message on its way: waits
    too long for a countdown, and messages lost (a broker down at publish, a worker gone). How many."""
    now = timezone.now()
    stuck = now - timedelta(seconds=settings.MRV_JOB_STUCK_SECONDS)
    due = WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).filter(
        Q(published_at__isnull=True) | Q(published_at__lte=stuck)
    )
    published = 0
    for pk, attempts in due.values_list("pk", "attempts")[:1000]:
        # conditional: a try that ran in between changed attempts (or status) and is left alone
        claimed = WebhookDelivery.objects.filter(pk=pk, attempts=attempts, status=Status.PENDING).update(
            published_at=now
        )
        if claimed and background.publish(background.DELIVER_WEBHOOK, pk, attempts + 1):
            published += 1
    return published

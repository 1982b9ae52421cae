"""One delivery attempt: check the address, sign, POST, record the answer, plan the next.

Deliveries are at least once: a receiver deduplicates on `webhook-id` (the event's id,
the same on every attempt). A claim (one conditional UPDATE) keeps two workers from
sending the same attempt; a worker that dies mid-send leaves the row claimed, and the
sweep records it as failed after the timeouts have surely passed, which plans a retry.

Addresses: the URL's host is resolved and every address checked before the request;
redirects are not followed (a 3xx is a failure), so a public host cannot bounce the
request into our network. Private, loopback, link-local, reserved, multicast and
unspecified addresses are refused unless WEBHOOKS_ALLOW_PRIVATE_URLS.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from partnerapp.webhooks import services
from partnerapp.webhooks.models import WebhookDelivery, WebhookEvent

logger = logging.getLogger(__name__)

State = WebhookDelivery.State
HEAD_BYTES = 500  # how much of an answer the delivery log keeps


class AddressRefused(Exception):
    """The URL may not be called; the message says why, for the delivery log."""


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    head: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def url_check(url: str) -> None:
    """Raise AddressRefused unless `url` is http(s) to a host whose every address is public
    (or private addresses are allowed by the setting)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused(_("Only http and https URLs with a host can receive webhooks."))
    if settings.WEBHOOKS_ALLOW_PRIVATE_URLS:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise AddressRefused(
            _("The host name does not resolve: %(error)s") % {"error": exc}
        ) from exc
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise AddressRefused(
                _("The host resolves to %(address)s, a private or reserved address.")
                % {"address": address}
            )


def signature_headers(event: WebhookEvent, body: bytes, secrets: list[str], at: datetime) -> dict:
    """The Standard Webhooks headers: one `v1,<signature>` per live secret, space separated,
    so a receiver holding either the old or the new secret verifies during a rotation."""
    signatures = [Webhook(secret).sign(event.pk, at, body) for secret in secrets]
    return {
        "webhook-id": event.pk,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": "partnerapp-webhooks/1",
    }


def event_body(event: WebhookEvent) -> bytes:
    return json.dumps(event.body(), separators=(",", ":"), ensure_ascii=False).encode()


def post(url: str, body: bytes, headers: dict) -> Answer:
    """POST with the connect and read timeouts, no redirects; the answer's first bytes."""
    started = time.monotonic()
    try:
        url_check(url)
        with requests.post(
            url,
            data=body,
            headers=headers,
            timeout=(settings.WEBHOOKS_CONNECT_TIMEOUT, settings.WEBHOOKS_READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
        ) as response:
            head = response.raw.read(HEAD_BYTES, decode_content=True) or b""
            return Answer(response.status_code, _ms(started), head.decode("utf-8", "replace"))
    except AddressRefused as exc:
        return Answer(None, _ms(started), error=str(exc))
    except requests.Timeout:
        return Answer(None, _ms(started), error=_("No answer in time (timeout)."))
    except (requests.RequestException, OSError) as exc:
        return Answer(None, _ms(started), error=_("Could not connect: %(error)s") % {"error": exc})


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one pending delivery and record the outcome. Returns the next attempt's row
    (pending, due at its `next_attempt_at`) after a failure that is tried again, else None.
    A delivery already claimed, or not pending, is left alone (None)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=State.PENDING, attempted_at=None
    ).update(attempted_at=now)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        return delivery_record(delivery, Answer(None, 0, error=_("The endpoint is switched off.")))
    body = event_body(delivery.event)
    headers = signature_headers(delivery.event, body, services.live_secrets(endpoint), now)
    return delivery_record(delivery, post(endpoint.url, body, headers))


def delivery_record(delivery: WebhookDelivery, answer: Answer) -> WebhookDelivery | None:
    """Store the answer on the attempt; on failure switch off an endpoint that has failed
    long enough, then plan the next attempt (or give up). Returns the next attempt or None."""
    endpoint = delivery.endpoint
    with transaction.atomic():
        if answer.ok:
            _store(delivery, answer, State.SUCCEEDED)
            services.endpoint_succeeded(endpoint)
            return None
        if endpoint.enabled:
            services.endpoint_failed(endpoint)
            endpoint.refresh_from_db(fields=["enabled"])
        delays = settings.WEBHOOKS_RETRY_DELAYS
        if not endpoint.enabled or delivery.attempt > len(delays):
            _store(delivery, answer, State.GIVEN_UP)
            return None
        _store(delivery, answer, State.FAILED)
        return WebhookDelivery.objects.create(
            event=delivery.event,
            endpoint=endpoint,
            attempt=delivery.attempt + 1,
            next_attempt_at=timezone.now() + timedelta(seconds=delays[delivery.attempt - 1]),
        )


def _store(delivery: WebhookDelivery, answer: Answer, state: str) -> None:
    delivery.state = state
    delivery.status_code, delivery.duration_ms = answer.status_code, answer.duration_ms
    delivery.response_head, delivery.error = answer.head, answer.error[:500]
    delivery.save(update_fields=["state", "status_code", "duration_ms", "response_head", "error"])


def deliveries_overdue(*, now: datetime | None = None) -> list[int]:
    """Pending deliveries whose task was lost: due a while ago and never claimed. Claimed
    ones whose worker died mid-send are recorded as failed here (which plans a retry).
    Returns the ids to enqueue."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.WEBHOOKS_SWEEP_INTERVAL)
    send_limit = settings.WEBHOOKS_CONNECT_TIMEOUT + settings.WEBHOOKS_READ_TIMEOUT + 60
    stuck = WebhookDelivery.objects.filter(
        state=State.PENDING, attempted_at__lt=now - timedelta(seconds=send_limit)
    ).select_related("event", "endpoint")
    retries = [
        delivery_record(delivery, Answer(None, 0, error=_("The worker stopped during the send.")))
        for delivery in stuck
    ]
    lost = WebhookDelivery.objects.filter(
        state=State.PENDING, attempted_at=None, next_attempt_at__lt=now - grace
    ).values_list("pk", flat=True)
    return [*lost, *(retry.pk for retry in retries if retry is not None)]

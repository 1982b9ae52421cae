"""Webhook endpoints and their secrets: create, change, rotate, switch, delete, send again.

Every change is checked against the permission module (Perm.SETTINGS) and recorded in
the organization's audit log; secrets never reach the log (audit.redact) or a payload.
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerapp.connections import crypto
from partnerapp.connections.notifications import site_url
from partnerapp.organizations import audit, permissions
from partnerapp.organizations.models import Membership
from partnerapp.organizations.notifications import mail, member_addresses
from partnerapp.organizations.permissions import Perm
from partnerapp.webhooks.models import (
    TEST_EVENT,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookSecret,
)

logger = logging.getLogger(__name__)
FIELDS = ["url", "events", "description"]


def secret_generate() -> str:
    """A new signing secret in the Standard Webhooks form: whsec_ + base64 of 24 bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def live_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The secrets a delivery is signed with now, newest first."""
    now = timezone.now()
    return [secret.secret for secret in endpoint.secrets.all() if secret.is_live(now)]


def endpoint_create(
    *, user, organization_id: int, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret in plain text (shown once by the caller)."""
    permissions.require_member(user, organization_id, Perm.SETTINGS)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization_id=organization_id, url=url, events=events, description=description
        )
        secret = _secret_add(endpoint)
        _record("create", endpoint, after=audit.snapshot(endpoint, FIELDS), actor=user)
    return endpoint, secret


def endpoint_update(
    *, user, endpoint: WebhookEndpoint, url: str, events: list[str], description: str
) -> None:
    permissions.require_member(user, endpoint.organization_id, Perm.SETTINGS)
    before = audit.snapshot(endpoint, FIELDS)
    endpoint.url, endpoint.events, endpoint.description = url, events, description
    endpoint.save(update_fields=FIELDS)
    before, after = audit.changes(before, audit.snapshot(endpoint, FIELDS))
    _record("update", endpoint, before=before, after=after, actor=user)


def endpoint_rotate_secret(*, user, endpoint: WebhookEndpoint) -> str:
    """A new current secret; the previous ones stay valid for WEBHOOKS_SECRET_OVERLAP_HOURS
    (deliveries carry a signature for each), so receivers can switch without a gap.
    Returns the new secret in plain text (shown once)."""
    permissions.require_member(user, endpoint.organization_id, Perm.SETTINGS)
    now = timezone.now()
    overlap = now + timedelta(hours=settings.WEBHOOKS_SECRET_OVERLAP_HOURS)
    with transaction.atomic():
        endpoint.secrets.filter(expires_at__lte=now).delete()  # dead ones sign nothing
        endpoint.secrets.filter(expires_at=None).update(expires_at=overlap)
        secret = _secret_add(endpoint)
        _record("rotate", endpoint, after={"previous_valid_until": overlap}, actor=user)
    return secret


def endpoint_set_enabled(*, user, endpoint: WebhookEndpoint, enabled: bool) -> None:
    """Switch on (the failure clock starts over) or off (pending deliveries give up)."""
    permissions.require_member(user, endpoint.organization_id, Perm.SETTINGS)
    before = {"enabled": endpoint.enabled}
    endpoint.enabled = enabled
    endpoint.disabled_at = None if enabled else timezone.now()
    endpoint.disabled_reason = "" if enabled else _("switched off by %(who)s") % {"who": user}
    endpoint.failing_since = None if enabled else endpoint.failing_since
    endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason", "failing_since"])
    _record("update", endpoint, before=before, after={"enabled": enabled}, actor=user)


def endpoint_delete(*, user, endpoint: WebhookEndpoint) -> None:
    permissions.require_member(user, endpoint.organization_id, Perm.SETTINGS)
    _record("delete", endpoint, before=audit.snapshot(endpoint, FIELDS), actor=user)
    endpoint.delete()


def endpoint_send_test(*, user, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint only (whatever it subscribes to)."""
    from partnerapp.webhooks.events import deliveries_enqueue

    permissions.require_member(user, endpoint.organization_id, Perm.SETTINGS)
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            organization_id=endpoint.organization_id,
            type=TEST_EVENT,
            payload={"endpoint_id": endpoint.pk, "message": "This is a test event."},
        )
        delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint)
        deliveries_enqueue([delivery])
    return delivery


def delivery_redeliver(*, user, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivered or failed event again, as a new first attempt (its own retries)."""
    from partnerapp.webhooks.events import deliveries_enqueue

    endpoint = delivery.endpoint
    permissions.require_member(user, endpoint.organization_id, Perm.SETTINGS)
    with transaction.atomic():
        again = WebhookDelivery.objects.create(event=delivery.event, endpoint=endpoint)
        _record("redeliver", endpoint, after={"event": delivery.event_id}, actor=user)
        deliveries_enqueue([again])
    return again


# -- health: the failure clock and switching off ------------------------------------------


def endpoint_succeeded(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).exclude(failing_since=None).update(
        failing_since=None
    )


def endpoint_failed(endpoint: WebhookEndpoint) -> None:
    """Start the failure clock (if not running), then switch off an endpoint past its limit."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(
        failing_since=timezone.now()
    )
    endpoints_disable_failing(endpoint_id=endpoint.pk)


def endpoints_disable_failing(*, endpoint_id: int | None = None) -> list[int]:
    """Switch off the enabled endpoints without a success for WEBHOOKS_DISABLE_AFTER_HOURS
    (one conditional UPDATE each) and e-mail their organization's owners and admins after
    the commit. Returns the ids switched off."""
    limit = timezone.now() - timedelta(hours=settings.WEBHOOKS_DISABLE_AFTER_HOURS)
    found = WebhookEndpoint.objects.filter(enabled=True, failing_since__lte=limit)
    if endpoint_id is not None:
        found = found.filter(pk=endpoint_id)
    switched = []
    for endpoint in found:
        reason = _off_reason(endpoint)
        off = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
            enabled=False, disabled_at=timezone.now(), disabled_reason=reason
        )
        if off:
            with audit.by_system():
                _record("disable", endpoint, before={"enabled": True}, after={"enabled": False})
            transaction.on_commit(lambda endpoint=endpoint: _mail_off(endpoint))
            switched.append(endpoint.pk)
    return switched


def _off_reason(endpoint: WebhookEndpoint) -> str:
    return _("no successful delivery since %(since)s") % {
        "since": timezone.localtime(endpoint.failing_since).strftime("%d.%m.%Y %H:%M")
    }


def _mail_off(endpoint: WebhookEndpoint) -> None:
    """Tell the owners and admins (who can switch it on again) that deliveries stopped."""
    admins = Membership.objects.filter(
        organization_id=endpoint.organization_id,
        role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
    ).select_related("user")
    link = site_url(reverse("webhooks:endpoint", args=[endpoint.pk]))

    def compose() -> tuple[str, str]:
        subject = _("Webhook endpoint switched off: %(url)s") % {"url": endpoint.url}
        body = _(
            "partnerapp switched off the webhook endpoint %(url)s of %(organization)s: "
            "%(reason)s.\n\n"
            "No events are sent to it until you switch it on again here:\n%(link)s\n"
        ) % {
            "url": endpoint.url,
            "organization": endpoint.organization.name,
            "reason": _off_reason(endpoint),
            "link": link,
        }
        return subject, body

    mail(member_addresses(admins), compose, what=f"webhook endpoint {endpoint.pk}")


def secrets_reencrypt() -> int:
    """Every signing secret under the newest TOKEN_ENCRYPTION_KEYS key (the key rotation
    command calls it in its transaction); returns how many."""
    rows = WebhookSecret.objects.select_for_update().only("pk", "secret_ciphertext")
    for row in rows:
        row.secret_ciphertext = crypto.reencrypt(row.secret_ciphertext)
        row.save(update_fields=["secret_ciphertext"])
    return len(rows)


def _secret_add(endpoint: WebhookEndpoint) -> str:
    secret = secret_generate()
    WebhookSecret.objects.create(endpoint=endpoint, secret_ciphertext=crypto.encrypt(secret))
    return secret


def _record(event: str, endpoint: WebhookEndpoint, **kwargs) -> None:
    audit.record(
        f"webhook.{event}",
        organization=endpoint.organization_id,
        obj=endpoint,
        label=endpoint.url,
        **kwargs,
    )

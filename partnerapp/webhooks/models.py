"""Signed webhooks: an organization's endpoints, their secrets, the events and deliveries.

An event is stored once (`WebhookEvent`, its id is the `webhook-id` a receiver
deduplicates on); each subscribed endpoint gets its own `WebhookDelivery` row per
attempt, so the delivery log shows every try with its answer.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerapp.connections import crypto
from partnerapp.organizations.models import Organization

EVENT_TYPES = {
    "job.finished": _("A job finished"),
    "job.paused": _("A job paused and waits for someone"),
    "job.item_uncertain": _("An item is uncertain and needs a review"),
    "connection.needs_reauth": _("A connection needs to be reconnected"),
    "connection.recovered": _("A connection works again after reconnecting"),
    "connect_link.completed": _("A client connected an account through a connect link"),
    "payment_import.finished": _("The payments of a bank file are recorded"),
}
TEST_EVENT = "webhook.test"  # "send test event": only to the endpoint that asked for it


class WebhookEndpoint(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)  # a list of EVENT_TYPES keys
    description = models.CharField(_("description"), max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # The first failed delivery since the last success (None: healthy). Three days of
    # this and the endpoint is switched off (services.endpoint_disable_if_failing).
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.description or self.url

    def subscribes(self, event_type: str) -> bool:
        return event_type in self.events


class WebhookSecret(models.Model):
    """A signing secret (`whsec_…`, Fernet-encrypted at rest). Rotation adds a new one and
    gives the old one an `expires_at`; deliveries are signed with every live secret."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets")
    secret_ciphertext = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)  # None: the current secret

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"secret of {self.endpoint_id} from {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_ciphertext)

    def is_live(self, now=None) -> bool:
        return self.expires_at is None or self.expires_at > (now or timezone.now())


def event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookEvent(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=event_id, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_events"
    )
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)  # the body's "data": ids, names, counts, links
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def body(self) -> dict:
        """The JSON a receiver gets, Standard Webhooks' shape: type, timestamp, data."""
        return {"type": self.type, "timestamp": self.created_at.isoformat(), "data": self.payload}


class WebhookDelivery(models.Model):
    """One attempt of one event to one endpoint; a retry is a new row with attempt + 1."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("delivered")
        FAILED = "failed", _("failed, tried again")
        GIVEN_UP = "given_up", _("failed, given up")

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    next_attempt_at = models.DateTimeField(default=timezone.now)  # when a pending one is due
    attempted_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_head = models.TextField(blank=True)  # the answer's first bytes, for the log
    error = models.CharField(max_length=500, blank=True)  # no answer: why (timeout, refused…)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["endpoint", "-id"]),
            models.Index(fields=["state", "next_attempt_at"]),  # the sweep of overdue ones
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} #{self.attempt}"

    @property
    def badge(self) -> str:
        """The badge colour of the same meaning elsewhere (a job item's states)."""
        return BADGES[self.state]


BADGES = {
    WebhookDelivery.State.PENDING: "pending",
    WebhookDelivery.State.SUCCEEDED: "sent",
    WebhookDelivery.State.FAILED: "uncertain",
    WebhookDelivery.State.GIVEN_UP: "failed",
}

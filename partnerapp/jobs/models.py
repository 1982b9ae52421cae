"""Batch jobs and their items, with one state machine each.

Transitions happen only through `states.py`, which refuses invalid ones and
makes every item transition one conditional UPDATE.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerapp.connections.models import Connection


class Action(models.TextChoices):
    INVOICE_SEND_BY_EMAIL = "invoice.send_by_email", _("Send invoices by email")


class BatchJob(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")
        FAILED = "failed", _("failed")

    class PauseReason(models.TextChoices):
        NONE = "", ""
        USER = "user", _("paused by you")
        NEEDS_REAUTH = "needs_reauth", _("the connection needs re-authorization")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="jobs")
    action = models.CharField(max_length=40, choices=Action.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    pause_reason = models.CharField(max_length=20, choices=PauseReason.choices, blank=True)
    # What to act on: {"ids": [...]}; resolved into items by the prepare step.
    selection = models.JSONField(default=dict)
    # The action's arguments, e.g. {"subject", "body", "receipt", "sender"}.
    parameters = models.JSONField(default=dict)
    auto_start = models.BooleanField(default=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    prepared_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.CANCELLED, self.Status.FAILED}


class JobItem(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")
        UNCERTAIN = "uncertain", _("uncertain — review")

    job = models.ForeignKey(BatchJob, on_delete=models.CASCADE, related_name="items")
    document_id = models.BigIntegerField()
    document_number = models.CharField(max_length=40, blank=True)
    document_status = models.CharField(max_length=4, blank=True)  # when prepared
    contact_name = models.CharField(max_length=200, blank=True)
    recipient_email = models.CharField(max_length=254, blank=True)
    recipient_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)  # backoff after a transient error
    request_id = models.CharField(max_length=64, blank=True)  # provider's X-Request-Id
    outcome = models.TextField(blank=True)  # a sentence for people: why skipped/failed/uncertain
    error_status = models.PositiveIntegerField(null=True, blank=True)
    error_detail = models.JSONField(default=dict, blank=True)  # code, message, meta incl. errors
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "document_id"], name="item_per_document")
        ]
        indexes = [models.Index(fields=["job", "state"])]

    def __str__(self) -> str:
        return f"{self.document_number or self.document_id} ({self.state})"

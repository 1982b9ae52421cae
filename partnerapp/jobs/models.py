"""Batch jobs and their items, with one state machine each.

Transitions happen only through `states.py`, which refuses invalid ones and
makes every item transition one conditional UPDATE.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerapp.connections.models import Connection
from partnerapp.jobs import naming
from partnerapp.jobs.operations import OPERATION_CHOICES, operation_for
from partnerapp.jobs.outcomes import NOT_RETRYABLE
from partnerapp.organizations.models import Organization


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

    # The connection's organization, kept on the row: every list filters by it.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="jobs")
    # Who created it (null: a schedule's creator who left, or a deleted user).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="jobs")
    action = models.CharField(max_length=40, choices=OPERATION_CHOICES)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    pause_reason = models.CharField(max_length=20, choices=PauseReason.choices, blank=True)
    # What to act on: {"ids": [...], "filter": {status, date_from, date_to, contact_id, q}};
    # resolved into items by the prepare step.
    selection = models.JSONField(default=dict)
    # The action's arguments, e.g. {"subject", "body", "receipt", "sender", "resend"}.
    parameters = models.JSONField(default=dict)
    # What people call it (`naming.py` makes the default one, in the creator's language);
    # empty on jobs from before names were stored: `title` makes it for the reader.
    name = models.CharField(max_length=200, blank=True)
    auto_start = models.BooleanField(default=False)  # False: wait for the preview's confirm
    schedule_run = models.OneToOneField(
        "ScheduleRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="job"
    )
    # Why it failed or stopped: a sentence, or one of ERROR_TEXTS' codes (`error_message`).
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    prepared_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["status"]),
        ]

    # Codes `error` may hold instead of a sentence, said in the reader's language.
    DRAFT_EXPIRED = "draft_expired"
    ERROR_TEXTS = {
        DRAFT_EXPIRED: _(
            "Nobody confirmed this draft in time, so it expired and was cancelled. "
            "Nothing was done; create a new job to do it."
        ),
    }

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if self.organization_id is None:
            self.organization_id = self.connection.organization_id
        super().save(*args, **kwargs)

    @property
    def title(self) -> str:
        """What people call the job: its name, else its default name made now — in a list
        that left out the selection (jobs from before names were stored), the operation's
        name, which needs no query per row."""
        if self.name:
            return self.name
        if "selection" in self.get_deferred_fields():
            return str(self.operation.name_label)
        return naming.default_name(self)

    @property
    def error_message(self) -> str:
        """`error` for people: a code's sentence in the active language, else as stored."""
        text = self.ERROR_TEXTS.get(self.error)
        return str(text) if text is not None else self.error

    @property
    def expires_at(self):
        """When an unconfirmed draft expires (`services.jobs_expire_drafts`); None for a
        job that is no such draft."""
        if self.status != self.Status.DRAFT or self.auto_start:
            return None
        return self.created_at + timedelta(hours=settings.JOB_DRAFT_EXPIRY_HOURS)

    @property
    def operation(self):
        """The operation this job runs (`jobs/operations/`)."""
        return operation_for(self.action)

    spec = operation  # the name older callers use

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
    # What the preview renders: number, dates, total, currency, language, contact fields.
    snapshot = models.JSONField(default=dict, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    recipient_email = models.CharField(max_length=254, blank=True)
    recipient_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)  # backoff after a transient error
    request_id = models.CharField(max_length=64, blank=True)  # provider's X-Request-Id
    outcome = models.TextField(blank=True)  # a sentence for people: why skipped/failed/uncertain
    # The same as a code and its parameters (jobs/outcomes.py), rendered in the reader's
    # language; rows written before the codes existed have only the sentence.
    outcome_code = models.CharField(max_length=60, blank=True)
    outcome_params = models.JSONField(default=dict, blank=True)
    error_status = models.PositiveIntegerField(null=True, blank=True)
    error_detail = models.JSONField(default=dict, blank=True)  # code, message, meta incl. errors
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Skipped because another item holds the document's action in the ledger: that item.
    conflict_item = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A person chose to act on this document again although another item did (ledger.py).
    resend = models.BooleanField(default=False)
    # Multi-step operations (a reminder: change the status, then email): the index of the
    # first step not proven done, and what each done step answered
    # ([{"step": "change_status", "request_id": …, "at": ISO time, "proven": bool}]).
    step = models.PositiveSmallIntegerField(default=0)
    step_log = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=8, blank=True)  # the email's language
    # Tells apart several items of one document in a job: a payment item's bank entry key
    # ("acctsvcrref:…"). Empty for operations that act once per document.
    key = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "document_id", "key"], name="item_per_document_and_key"
            )
        ]
        indexes = [
            # counts by state (index-only GROUP BY) and the items table filtered by state,
            # paged by id (keyset); the plain table pages on (job, id)
            models.Index(fields=["job", "state", "id"], name="item_job_state_id"),
            models.Index(fields=["job", "id"], name="item_job_id"),
            models.Index(fields=["job", "finished_at"], name="item_job_finished"),  # throughput
            # the claim (states.CLAIM): a job's due pending items in claim order, whatever
            # share is done; partial, so small, and a claimed item leaves it (0013)
            models.Index(
                fields=["job", "not_before", "id"],
                condition=models.Q(state="pending"),
                name="item_job_pending",
            ),
            # how many failed items "Retry failed" leaves alone, without reading every
            # failed item of a big job (jobs.services.job_failed_counts)
            models.Index(
                fields=["job"],
                condition=models.Q(state="failed") & NOT_RETRYABLE,
                name="item_job_failed_final",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_number or self.document_id} ({self.state})"


class JobItemCount(models.Model):
    """A change in how many of a job's items are in a state, written by the database.

    Triggers on jobs_jobitem (migration 0013) append a row per statement and (job,
    state) it changed; a job's counts are the sums (`counts.py`). No foreign-key
    constraint: deleting a job deletes its items, whose rows bring its sums to zero,
    and Django need not collect these rows first.
    """

    job = models.ForeignKey(
        BatchJob, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    state = models.CharField(max_length=12)
    count = models.BigIntegerField()  # the difference: +n items came, -n went

    def __str__(self) -> str:
        return f"job {self.job_id} {self.state} {self.count:+d}"


class FinishedItemCount(models.Model):
    """A change in how many of an organization's items finished in a quarter hour in a
    state, written by the database.

    Triggers on jobs_jobitem (migration 0014) append a row per statement and
    (organization, quarter hour, state) it changed; the activity charts read the sums
    (`counts.finished_per_quarter`), a few rows per bar instead of every item. Quarter
    hours, because every time zone's days and every UTC hour are made of whole ones.
    No foreign-key constraint, as for JobItemCount.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    quarter = models.DateTimeField()  # the start of the quarter hour (UTC) they finished in
    state = models.CharField(max_length=12)
    count = models.BigIntegerField()  # the difference: +n items finished, -n moved on

    class Meta:
        indexes = [
            models.Index(fields=["organization", "quarter"], name="finished_count_org_quarter")
        ]

    def __str__(self) -> str:
        return (
            f"organization {self.organization_id} {self.quarter:%H:%M} {self.state} {self.count:+d}"
        )


class SendSlot(models.Model):
    """One of a connection's JOB_CONCURRENCY_PER_CONNECTION work slots (a lease).

    A work slice holds a slot while it sends; a crashed worker's slot frees itself
    when its lease expires. This caps concurrent calls per account across all jobs.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="slots")
    number = models.PositiveSmallIntegerField()
    holder = models.CharField(max_length=64, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "number"], name="slot_per_connection")
        ]

    def __str__(self) -> str:
        return f"slot {self.number} of {self.connection_id}"


class Schedule(models.Model):
    """A recurring job: at each cron slot, one normal job with the same action and filter."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="schedules"
    )
    # Who made it; its jobs are created in their name.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="schedules",
    )
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=200)
    action = models.CharField(max_length=40, choices=OPERATION_CHOICES)
    cron = models.CharField(max_length=100, help_text=_("e.g. 0 8 * * 1-5: weekdays at 08:00"))
    time_zone = models.CharField(max_length=64, default="Europe/Zurich")
    # A filter whose dates may be "today": resolved to the slot's date at each run.
    selection = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_slot_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.organization_id is None:
            self.organization_id = self.connection.organization_id
        super().save(*args, **kwargs)


class ScheduleRun(models.Model):
    """One cron slot of a schedule. Unique per slot: a repeated tick cannot run it twice."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="runs")
    slot_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-slot_at"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "slot_at"], name="one_run_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.schedule} at {self.slot_at}"


class ActionClaim(models.Model):
    """The at-most-once ledger: who holds (provider account, document, action).

    One active row per key across every job, schedule, user and connection, enforced
    by a partial unique index and taken in the same transaction as the item's
    pending → sending claim (`ledger.py`). The row stays while its item is sending,
    sent or uncertain (the action happened or may have); it goes when the provider
    provably did not act. A person's "resend" retires the row (active = False) and a
    new one is taken.
    """

    base_url = models.CharField(max_length=200)  # the provider: one per base URL
    account_id = models.CharField(max_length=64)  # the provider's owner id
    document = models.CharField(max_length=40)  # "invoice", "offer", …
    document_id = models.BigIntegerField()
    action = models.CharField(max_length=40)  # "send_by_email", "change_status:DR>S", …
    # None once the holding item is gone (its owner deleted): the row still holds.
    item = models.ForeignKey(JobItem, null=True, on_delete=models.SET_NULL, related_name="claims")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["base_url", "account_id", "document", "document_id", "action"],
                condition=models.Q(active=True),
                name="one_active_claim_per_document_action",
            )
        ]

    def __str__(self) -> str:
        return f"{self.document} {self.document_id} {self.action} → item {self.item_id}"

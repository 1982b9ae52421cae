"""Bank files and the bank's transactions in them, on the way to recorded payments.

A `BankTransaction` is one credit the bank booked to a provider account, unique per
(provider, account, entry key): uploading the same file again, or an overlapping
camt.053, finds the rows it already has and records nothing twice. Its state says
whether a person gave it to a payment job (`submitted`, once, for good); what the job
did is read from that job's item (`JobItem.key` = the entry key), never copied.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerapp.connections.models import Connection
from partnerapp.jobs.models import BatchJob
from partnerapp.organizations.models import Organization


class BankTransaction(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("to review")
        SUBMITTED = "submitted", _("given to a payment job")

    base_url = models.CharField(max_length=200)  # the provider account it was paid to:
    account_id = models.CharField(max_length=64)  # one row per account and entry key
    key = models.CharField(max_length=200)  # bankfiles' entry key ("acctsvcrref:…")
    booking_date = models.DateField(null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=40, blank=True)  # creditor reference (QR/SCOR)
    reference_type = models.CharField(max_length=10, blank=True)
    bank_reference = models.CharField(max_length=100, blank=True)  # AcctSvcrRef, EndToEndId
    payer = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    # The last matching against the provider's open invoices (rerun while `open`).
    match_status = models.CharField(max_length=12, blank=True)  # bankfiles.MatchStatus
    match_basis = models.CharField(max_length=20, blank=True)
    classification = models.CharField(max_length=20, blank=True)
    # The matched invoice, the ambiguous candidates, or the invoices the text mentions:
    # [{"id", "number", "contact_name", "total", "total_paid", "currency", "status"}]
    candidates = models.JSONField(default=list, blank=True)
    open_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    amount_to_record = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    # Set together with state=submitted, in one conditional UPDATE (services.py).
    job = models.ForeignKey(
        BatchJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invoice_id = models.BigIntegerField(null=True, blank=True)  # the invoice it went to
    invoice_number = models.CharField(max_length=40, blank=True)
    submitted_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["base_url", "account_id", "key"], name="one_transaction_per_entry_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.key})"


class BankUpload(models.Model):
    """One uploaded bank file: what it held, and its matching against the invoices."""

    class State(models.TextChoices):
        MATCHING = "matching", _("matching against your open invoices")
        READY = "ready", _("ready to review")
        FAILED = "failed", _("matching failed")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="bank_uploads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bank_uploads",
    )
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="bank_uploads"
    )
    filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    format = models.CharField(max_length=10)  # camt.053, camt.054, csv
    message = models.CharField(max_length=40, blank=True)  # camt.054.001.08
    state = models.CharField(max_length=12, choices=State.choices, default=State.MATCHING)
    error = models.TextField(blank=True)
    # Entries the file holds that are no payments to record, for the review page:
    # [{"date", "amount", "currency", "payer", "text", "reason"}]
    ignored = models.JSONField(default=list, blank=True)
    transactions = models.ManyToManyField(BankTransaction, related_name="uploads")
    invoices_read = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now)
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        indexes = [models.Index(fields=["organization", "-uploaded_at"])]

    def __str__(self) -> str:
        return self.filename or f"bank file {self.pk}"

    def save(self, *args, **kwargs):
        if self.organization_id is None:
            self.organization_id = self.connection.organization_id
        super().save(*args, **kwargs)

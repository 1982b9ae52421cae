"""The sandbox provider's own data: owners, OAuth clients and grants, documents, outbox.

Nothing here is partnerapp's: these tables play the SmartBusiness side. Tokens
and client secrets are stored as SHA-256 digests, as a provider would.
"""

import hashlib
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.utils import timezone

SCOPES = {
    "profile": "See your name and company profile",
    "contact": "Read and change your contacts",
    "letter": "Read, send and change your letters",
    "catalog": "Read and change your product and service catalog",
    "invoice": "Read, send and change your invoices",
    "offer": "Read, send and change your offers",
    "delivery_note": "Read, send and change your delivery notes",
    "order_confirmation": "Read, send and change your order confirmations",
    "project": "Read and change your projects",
    "cost_unit": "Read and change your cost units",
    "working_hours": "Read and change working hours",
    "activity": "Read and change activities",
    "effort": "Read and change efforts",
    "contact_reminder": "Read and change contact reminders",
    "configuration": "Read and change your settings",
}


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Owner(models.Model):
    """A SmartBusiness account owner: logs in at the consent page, owns documents."""

    email = models.EmailField(unique=True)
    password = models.CharField(max_length=128)
    name = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    company_name = models.CharField(max_length=200, blank=True)
    company_email = models.EmailField(blank=True)
    language = models.CharField(max_length=2, default="de")
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} {self.surname} <{self.email}>"

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)


class Client(models.Model):
    """A registered OAuth client (a partner app), type "Authorization Code"."""

    client_id = models.CharField(max_length=100, unique=True)
    secret_digest = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    redirect_uris = models.TextField(help_text="One per line; matched exactly.")
    allowed_scopes = models.TextField(default=" ".join(SCOPES))
    # The account a client-credentials token acts for (the client's own account).
    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.CASCADE)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    def set_secret(self, raw: str) -> None:
        self.secret_digest = digest(raw)

    def check_secret(self, raw: str) -> bool:
        return secrets.compare_digest(self.secret_digest, digest(raw or ""))

    @property
    def redirect_uri_list(self) -> list[str]:
        return self.redirect_uris.split()

    @property
    def allowed_scope_list(self) -> list[str]:
        return self.allowed_scopes.split()


class Grant(models.Model):
    """An owner's consent for one client. Revoking it kills every token it issued."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="grants")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="grants")
    scopes = models.TextField()
    created = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.owner} → {self.client}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class AuthorizationCode(models.Model):
    code_digest = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE)
    redirect_uri = models.TextField()
    scopes = models.TextField()
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.grant_id}"


class AccessToken(models.Model):
    token_digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE)
    grant = models.ForeignKey(Grant, null=True, blank=True, on_delete=models.CASCADE)
    scopes = models.TextField()
    expires_at = models.DateTimeField()
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"access token of {self.owner_id} via {self.client_id}"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class RefreshToken(models.Model):
    """Single use: a refresh marks it used and issues a new pair."""

    token_digest = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE)
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"refresh token of grant {self.grant_id}"


class Contact(models.Model):
    TYPES = [("C", "Company"), ("P", "Private")]

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="contacts")
    number = models.CharField(max_length=20)
    type = models.CharField(max_length=1, choices=TYPES, default="C")
    gender = models.CharField(max_length=1, blank=True)
    name = models.CharField(max_length=200)
    salutation = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)  # may be missing or invalid
    phone = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=2, default="de")
    currency = models.CharField(max_length=3, default="CHF")
    street = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, default="CH")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "number"], name="contact_number")]

    def __str__(self) -> str:
        return self.name


class Invoice(models.Model):
    STATUSES = [
        ("DR", "draft"),
        ("S", "sent"),
        ("P", "paid"),
        ("PP", "partially paid"),
        ("R1", "1st reminder"),
        ("R2", "2nd reminder"),
        ("R3", "3rd reminder"),
        ("R", "reminder"),
        ("DC", "debt collection"),
        ("C", "cancelled"),
        ("D", "deleted"),
    ]

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="invoices")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=20)
    date = models.DateField()
    due = models.DateField()
    currency = models.CharField(max_length=3, default="CHF")
    total = models.DecimalField(max_digits=12, decimal_places=2)
    total_paid = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    status = models.CharField(max_length=2, choices=STATUSES, default="DR")
    language = models.CharField(max_length=2, default="de")
    period_text = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "number"], name="invoice_number")]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return self.number


class OutboxEmail(models.Model):
    """Every email the sandbox "sent": the proof of exactly-once."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="outbox")
    client = models.ForeignKey(Client, null=True, on_delete=models.SET_NULL)
    document_type = models.CharField(max_length=30, default="invoice")
    document_id = models.BigIntegerField()
    document_number = models.CharField(max_length=20)
    recipients = models.JSONField()
    subject = models.TextField()
    body = models.TextField()
    sender = models.CharField(max_length=2, blank=True)  # the `from` field: CO, U, S, CE
    receipt = models.BooleanField(default=False)
    request_id = models.CharField(max_length=36)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["owner", "document_type", "document_id"])]

    def __str__(self) -> str:
        return f"{self.document_number}: {self.subject}"


class RateWindow(models.Model):
    """Calls counted per (owner, client) in the current fixed window."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "client"], name="rate_window_owner_client")
        ]

    def __str__(self) -> str:
        return f"{self.count} calls since {self.window_start}"

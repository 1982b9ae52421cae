"""The sandbox provider's own data: owners, OAuth clients and grants, documents, outbox.

Nothing here is partnerapp's: these tables play the SmartBusiness side. Tokens
and client secrets are stored as SHA-256 digests, as a provider would.
"""

import hashlib
import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from partnerapp.sandbox.references import invoice_reference

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
    # Set by a refresh (league revokes the access token the used refresh token came
    # with) or by the owner revoking the grant; the row stays, so a call is told why.
    revoked_at = models.DateTimeField(null=True, blank=True)
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
    # The access token issued together with this one: using this one revokes it.
    access_token = models.ForeignKey(
        AccessToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"refresh token of grant {self.grant_id}"


class Contact(models.Model):
    """A customer of the owner. The sandbox keeps one address per contact, inline, and
    gives it the contact's id as its address id (`contact_address_id`)."""

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
    relation = models.CharField(
        max_length=5, default="CL"
    )  # space separated: CL customer, CR creditor
    notes = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "number"], name="contact_number")]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """A contact's person (a company's clerk): what `contact_person_id` points at."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="people")
    default = models.BooleanField(default=False)
    gender = models.CharField(max_length=1, default="F")
    name = models.CharField(max_length=100)
    surname = models.CharField(max_length=100)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    department = models.CharField(max_length=100, blank=True)
    salutation = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} {self.surname}"


class BankAccount(models.Model):
    """An owner's bank account (configuration): invoices name one as `bank_account_id`."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="bank_accounts")
    default = models.BooleanField(default=False)
    description = models.CharField(max_length=200, blank=True)
    bank_name = models.CharField(max_length=200)
    number = models.CharField(max_length=40, blank=True)
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11, blank=True)
    post_account = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.iban


class Isr(models.Model):
    """An owner's inpayment slip set-up (ISR/QR): its QR-IBAN receives QR-referenced payments."""

    TYPES = [("ISR", "orange slip"), ("ISR+", "orange slip plus"), ("RIS", "red slip")]

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="isrs")
    default = models.BooleanField(default=False)
    type = models.CharField(max_length=4, choices=TYPES, default="ISR")
    position = models.CharField(max_length=1, default="A")
    name = models.CharField(max_length=200, blank=True)
    bank_name = models.CharField(max_length=200)
    bank_address = models.CharField(max_length=200, blank=True)
    recipient_name = models.CharField(max_length=200)
    recipient_addition = models.CharField(max_length=200, blank=True)
    recipient_street = models.CharField(max_length=200, blank=True)
    recipient_city = models.CharField(max_length=200, blank=True)
    delivery_number = models.CharField(max_length=20, blank=True)
    iban = models.CharField(max_length=34)  # a QR-IBAN
    subscriber_number = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.iban


class Unit(models.Model):
    """A unit positions are counted in. The system units (owner None) are everyone's."""

    SCOPES = [("s", "service"), ("p", "product"), ("a", "all")]

    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.CASCADE)
    name = models.CharField(max_length=50)
    scope = models.CharField(max_length=1, choices=SCOPES, default="a")

    def __str__(self) -> str:
        return self.name

    @property
    def custom(self) -> bool:
        return self.owner_id is not None


class CatalogItem(models.Model):
    """A product (P) or service (S) of the owner's catalog."""

    TYPES = [("P", "product"), ("S", "service")]

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="catalog_items")
    type = models.CharField(max_length=1, choices=TYPES)
    number = models.CharField(max_length=50)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    including_vat = models.BooleanField(default=False)
    vat = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(max_digits=12, decimal_places=2)
    price_purchase = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    inventory_available = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    default_amount = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    """What every kind of document shares. Each kind has its own table and its own ids,
    as at the provider; `kinds.py` describes how the API serves each one.

    Status "D" (deleted) is a soft delete: the row stays, so the outbox keeps pointing
    at something, but the API no longer lists or serves it.
    """

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="%(class)ss")
    # RESTRICT: a contact with documents cannot go, unless its owner goes with both.
    contact = models.ForeignKey(Contact, on_delete=models.RESTRICT, related_name="%(class)ss")
    date = models.DateField()
    language = models.CharField(max_length=2, default="de")
    status = models.CharField(max_length=2, default="DR")
    # When the status last changed through change-status (its `date_time`, else the call's).
    status_changed = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class PricedDocument(Document):
    """Invoices, offers, delivery notes and order confirmations: numbered, with positions."""

    number = models.CharField(max_length=20)
    currency = models.CharField(max_length=3, default="CHF")
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    period_text = models.CharField(max_length=200, blank=True)
    # The provider's position objects, as sent and normalised (see validation.py).
    positions = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["owner", "number"], name="%(class)s_number")]
        indexes = [models.Index(fields=["owner", "status"], name="%(class)s_status")]

    def __str__(self) -> str:
        return self.number


class Invoice(PricedDocument):
    DISCOUNT_TYPES = [("A", "amount"), ("P", "percent")]
    ISR_POSITIONS = [("A", "additional page"), ("F", "first page"), ("L", "last page")]

    due = models.DateField()
    total_paid = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    paid_date = models.DateField(null=True, blank=True)
    # The status payments lifted the invoice from, restored when they are all deleted.
    unpaid_status = models.CharField(max_length=2, blank=True)
    vat_included = models.BooleanField(default=False)
    discount_rate = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    discount_type = models.CharField(max_length=1, choices=DISCOUNT_TYPES, default="P")
    period_from = models.DateField(null=True, blank=True)
    period_to = models.DateField(null=True, blank=True)
    cash_discount_rate = models.PositiveSmallIntegerField(default=0)
    cash_discount_date = models.DateField(null=True, blank=True)
    contact_person = models.ForeignKey(
        "Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bank_account = models.ForeignKey(
        "BankAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    isr = models.ForeignKey(
        "Isr", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    isr_position = models.CharField(max_length=1, choices=ISR_POSITIONS, default="A")

    class Meta(PricedDocument.Meta):
        pass

    @property
    def isr_reference_number(self) -> str:
        """The invoice's 27-digit QR reference (derived, so every invoice has one)."""
        return invoice_reference(self.owner_id, self.pk) if self.pk else ""

    @property
    def open_amount(self):
        return max(self.total - self.total_paid, 0)


class Payment(models.Model):
    """A payment recorded on an invoice; its amount counts towards `total_paid`."""

    TYPES = [
        ("N", "normal"),
        ("C", "cash discount"),
        ("D", "rounding difference"),
        ("W", "write-off"),
    ]
    CHANNELS = [
        ("T", "bank transfer"),
        ("C", "cash"),
        ("PP", "PayPal"),
        ("PF", "PostFinance"),
        ("CC", "credit card"),
        ("PR", "Payrexx"),
        ("SC", "Smartcommerce"),
    ]

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    type = models.CharField(max_length=1, choices=TYPES)
    channel = models.CharField(max_length=2, choices=CHANNELS, default="T")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    date = models.DateField()
    notes = models.TextField(blank=True)
    request_id = models.CharField(max_length=36, blank=True)  # "" for seeded payments
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.amount} on invoice {self.invoice_id}"


class Offer(PricedDocument):
    valid_until = models.DateField()

    class Meta(PricedDocument.Meta):
        pass


class DeliveryNote(PricedDocument):
    class Meta(PricedDocument.Meta):
        pass


class OrderConfirmation(PricedDocument):
    class Meta(PricedDocument.Meta):
        pass


class Letter(Document):
    title = models.CharField(max_length=200, blank=True)
    content = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "status"], name="letter_status")]


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


class PostalDispatch(models.Model):
    """Every document the sandbox "sent by post": send-by-post is no more idempotent than email."""

    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="postal_dispatches")
    client = models.ForeignKey(Client, null=True, on_delete=models.SET_NULL)
    document_type = models.CharField(max_length=30)
    document_id = models.BigIntegerField()
    document_number = models.CharField(max_length=20, blank=True)
    palette = models.CharField(max_length=2)  # C colour, BW black & white
    print_mode = models.CharField(max_length=1)  # the `print` field: D duplex, S simplex
    speed = models.CharField(max_length=1)  # P priority, E economy
    request_id = models.CharField(max_length=36)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["owner", "document_type", "document_id"])]

    def __str__(self) -> str:
        return f"{self.document_type} {self.document_number} by post"


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


PROBABILITY = [MinValueValidator(0), MaxValueValidator(1)]


class FaultProfile(models.Model):
    """How the sandbox misbehaves, changeable at run time by every process that serves it.

    One global row (`is_global`) and at most one row per owner; an owner's row, when it
    exists, replaces the global one as a whole (it starts as a copy of it). Without any
    row the defaults come from settings (SANDBOX_FAULT_*). `faults.py` reads it.

    Besides faults it holds the run-time budget of the rate limit, the plan limits
    that make 402 (feature limit) and 403 (feature missing) reachable, and how the token
    endpoint behaves: the shape of its refusals and whether a refresh revokes the old
    access token (league/oauth2-server does both its way by default).
    """

    LOST_MODES = [
        ("502", "answer 502 Bad Gateway"),
        ("504", "answer 504 Gateway Timeout"),
        ("hold", "hold the response past the client's read timeout"),
    ]
    TOKEN_ERROR_STYLES = [
        ("league", "league/oauth2-server: its status, code and {error, message, hint}"),
        ("wrapped", "the same status and code as {code, message, meta: {error_type, hint}}"),
        ("legacy", "401 {code: 401, message, meta} for every refusal (the sandbox before)"),
    ]

    owner = models.OneToOneField(
        Owner, null=True, blank=True, on_delete=models.CASCADE, related_name="fault_profile"
    )
    is_global = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(default=0)
    jitter_ms = models.PositiveIntegerField(default=0)
    p429 = models.FloatField(default=0, validators=PROBABILITY)
    p500 = models.FloatField(default=0, validators=PROBABILITY)
    p503 = models.FloatField(default=0, validators=PROBABILITY)
    p_lost = models.FloatField(
        default=0, validators=PROBABILITY, help_text="writes only: act, then lose the response"
    )
    lost_mode = models.CharField(max_length=4, choices=LOST_MODES, default="504")
    lost_hold_seconds = models.FloatField(default=35, validators=[MinValueValidator(0)])
    expire_next_tokens = models.PositiveIntegerField(
        default=0, help_text="the next N authenticated calls find their access token expired"
    )
    token_lifetime = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")
    rate_limit = models.PositiveIntegerField(null=True, blank=True)
    rate_limit_period = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")
    invoice_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="plan limit on invoices: creating one more is a 402"
    )
    missing_features = models.CharField(
        max_length=200, blank=True, help_text="space separated, e.g. send_by_post: a 403"
    )
    seed = models.BigIntegerField(null=True, blank=True, help_text="makes the dice repeatable")
    token_error_style = models.CharField(
        max_length=7,
        choices=TOKEN_ERROR_STYLES,
        default="league",
        help_text="how the token endpoint refuses",
    )
    revoke_access_on_refresh = models.BooleanField(
        default=True, help_text="a refresh revokes the access token issued with the old one"
    )
    requests_seen = models.PositiveBigIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_global"], condition=models.Q(is_global=True), name="one_global_profile"
            ),
            models.CheckConstraint(
                condition=models.Q(is_global=True, owner__isnull=True)
                | models.Q(is_global=False, owner__isnull=False),
                name="global_or_owner_profile",
            ),
        ]

    def __str__(self) -> str:
        return "global faults" if self.is_global else f"faults of owner {self.owner_id}"

    @property
    def missing_feature_list(self) -> list[str]:
        return self.missing_features.split()

"""A partner user's connection to one SmartBusiness account: one encrypted token set."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerapp.connections import crypto
from partnerapp.organizations.models import Organization


class Connection(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        NEEDS_REAUTH = "needs_reauth", _("needs re-authorization")
        DISCONNECTED = "disconnected", _("disconnected")

    class Grant(models.TextChoices):
        CONSENT = "authorization_code", _("the owner's consent")
        OWN_ACCOUNT = "client_credentials", _("own account (client credentials)")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="connections"
    )
    # Who connected it (a member, or the member who made the connect link).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="connections",
    )
    grant = models.CharField(max_length=20, choices=Grant.choices, default=Grant.CONSENT)
    # Own accounts only: the partner's own API client; the secret as ciphertext.
    own_client_id = models.CharField(max_length=200, blank=True)
    own_client_secret_ciphertext = models.TextField(blank=True)
    base_url = models.URLField()
    account_id = models.CharField(max_length=64)  # the provider's owner id
    owner_name = models.CharField(max_length=200)
    scopes = models.CharField(max_length=500)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # Ciphertext only (see crypto.py); read through the properties below.
    access_token_ciphertext = models.TextField(blank=True)
    refresh_token_ciphertext = models.TextField(blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Seconds the provider gave the current access token: the refresh margin is at most
    # half of it (a provider handing out 5-minute tokens must not cause a refresh per call).
    access_token_lifetime = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "base_url", "account_id"],
                name="connection_per_organization_account",
            )
        ]
        ordering = ["owner_name", "pk"]

    def __str__(self) -> str:
        return f"{self.owner_name} ({self.account_id})"

    def save(self, *args, **kwargs):
        if self.organization_id is None and self.user_id is not None:
            from partnerapp.organizations.current import personal_organization

            self.organization = personal_organization(self.user)
        super().save(*args, **kwargs)

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_ciphertext)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_ciphertext)

    @property
    def own_client_secret(self) -> str:
        return crypto.decrypt(self.own_client_secret_ciphertext)

    @property
    def is_own_account(self) -> bool:
        return self.grant == self.Grant.OWN_ACCOUNT

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    TOKEN_FIELDS = (
        "access_token_ciphertext",
        "refresh_token_ciphertext",
        "access_token_expires_at",
        "access_token_lifetime",
    )

    def store_tokens(
        self, *, access_token: str, refresh_token: str, expires_at, lifetime: float | None = None
    ) -> None:
        """Set the encrypted pair (the caller saves `TOKEN_FIELDS`)."""
        self.access_token_ciphertext = crypto.encrypt(access_token)
        self.refresh_token_ciphertext = crypto.encrypt(refresh_token)
        self.access_token_expires_at = expires_at
        self.access_token_lifetime = max(0, round(lifetime)) if lifetime is not None else None

    def refresh_margin(self) -> float:
        """TOKEN_REFRESH_MARGIN_SECONDS, but never more than half the token's lifetime."""
        margin = float(settings.TOKEN_REFRESH_MARGIN_SECONDS)
        if self.access_token_lifetime is not None:
            margin = min(margin, self.access_token_lifetime / 2)
        return margin

    def access_token_expires_soon(self, margin: float | None = None) -> bool:
        margin = self.refresh_margin() if margin is None else margin
        expires = self.access_token_expires_at
        return expires is None or expires <= timezone.now() + timedelta(seconds=margin)

    @property
    def rate(self) -> RateWindow:
        """The rate-limit window as last seen (an empty, unsaved one before any call)."""
        try:
            return self.rate_window
        except RateWindow.DoesNotExist:
            return RateWindow(connection=self)

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.ACTIVE


class RateWindow(models.Model):
    """The provider's rate-limit window of one connection, as last seen (pacing.py).

    A row of its own, not columns of Connection: every call writes it, and a token
    refresh writing the connection must never wait for it, nor write it back stale.
    """

    connection = models.OneToOneField(
        Connection, primary_key=True, on_delete=models.CASCADE, related_name="rate_window"
    )
    limit = models.PositiveIntegerField(null=True, blank=True)  # None: unknown
    remaining = models.PositiveIntegerField(null=True, blank=True)
    reset_at = models.DateTimeField(null=True, blank=True)
    # When our copy of the window was opened: answers to calls sent before are stale.
    opened_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.remaining}/{self.limit} until {self.reset_at}"


class ClientRefusal(models.Model):
    """The provider refused partnerapp's own client id/secret (`invalid_client`).

    An operator's problem, not a connection's: shown once on every overview until a
    token call with our credentials succeeds again.
    """

    base_url = models.URLField(unique=True)
    client_id = models.CharField(max_length=200)
    refused_at = models.DateTimeField(default=timezone.now)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=300, blank=True)  # the provider's message and hint

    def __str__(self) -> str:
        return f"{self.client_id} refused at {self.base_url}"


class RequestLogEntry(models.Model):
    """One call to the provider: what support asks for (X-Request-Id) and what we paid.

    The path never holds a secret (tokens travel in headers and bodies, which are not
    stored). Job ids are plain integers: jobs build on connections, not the other way.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="calls")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no response
    duration_ms = models.PositiveIntegerField()
    request_id = models.CharField(max_length=64, blank=True)
    job_id = models.BigIntegerField(null=True, blank=True)
    job_item_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["connection", "-created_at"]),
            models.Index(fields=["request_id"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status or 'no response'}"


class RequestLogCount(models.Model):
    """A change in how many calls a connection made in one hour, written by the database.

    Triggers on the request log (migration 0010) append a row per statement and
    (connection, hour) it changed: +n for calls written, -n for calls purged. An hour's
    calls are the sums (`requestlog.calls_per_hour`), so the rate charts read a row or
    a few per bar, not every call. No foreign-key constraint, as for JobItemCount:
    deleting a connection deletes its calls, whose rows bring its sums to zero.
    """

    connection = models.ForeignKey(
        Connection, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    hour = models.DateTimeField()  # the start of the hour (UTC) the calls were made in
    calls = models.BigIntegerField()  # the difference: +n calls logged, -n purged
    throttled = models.BigIntegerField()  # of these, the ones refused with 429

    class Meta:
        indexes = [
            models.Index(fields=["connection", "hour"], name="request_count_connection_hour")
        ]

    def __str__(self) -> str:
        return f"connection {self.connection_id} {self.hour:%Y-%m-%d %H}h {self.calls:+d}"


class ConnectLink(models.Model):
    """A member's request to a client to connect their account, sent as a secret link.

    The client opens it without a partnerapp login and consents at the provider; the
    connection lands in the link's organization. Single use (`completed_at` is set by
    one conditional UPDATE), valid until `expires_at`, revocable while pending. Only the
    token's SHA-256 finds a link; its ciphertext lets members copy a pending link again.
    """

    class State(models.TextChoices):
        SENT = "sent", _("sent")
        OPENED = "opened", _("opened")
        CONNECTED = "connected", _("connected")
        DENIED = "denied", _("denied")
        EXPIRED = "expired", _("expired")
        REVOKED = "revoked", _("revoked")

    PENDING_STATES = frozenset({State.SENT, State.OPENED, State.DENIED})  # still usable

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="connect_links"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client_name = models.CharField(_("client"), max_length=200)
    client_email = models.EmailField(_("client's e-mail"), blank=True)
    scopes = models.CharField(max_length=500)
    message = models.TextField(_("message"), max_length=1000, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    token_hash = models.CharField(max_length=64, unique=True)
    token_ciphertext = models.TextField()  # never logged; shown only while pending
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    denied_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    connection = models.ForeignKey(
        Connection,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="connect_links",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"connect link for {self.client_name}"

    @property
    def state(self) -> str:
        """The latest thing that happened to the link, as the member's list shows it."""
        if self.completed_at:
            return self.State.CONNECTED
        if self.revoked_at:
            return self.State.REVOKED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        if self.denied_at:
            return self.State.DENIED
        if self.opened_at:
            return self.State.OPENED
        return self.State.SENT

    def get_state_display(self) -> str:
        return self.State(self.state).label

    @property
    def is_pending(self) -> bool:
        """Whether the client can still use it (a denial may be tried again)."""
        return self.state in self.PENDING_STATES

    @property
    def token(self) -> str:
        """The link's secret; for pending links only (callers check `is_pending`)."""
        return crypto.decrypt(self.token_ciphertext)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

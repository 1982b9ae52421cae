"""API keys of an organization and the first answers to idempotent POSTs.

A key is shown once (`pa_live_<prefix>_<secret>`); only its prefix and the SHA-256 of
the whole key are kept. A plain hash (no salt, no slow KDF) is enough here: the secret
is 32 random bytes, so there is no dictionary to try, and each request must be checked
quickly. See `keys.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerapp.organizations.models import Organization


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("read")
        WRITE = "write", _("read and write")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)  # shown, and the lookup key
    secret_hash = models.CharField(max_length=64)  # hex SHA-256 of the whole key
    scope = models.CharField(_("scope"), max_length=5, choices=Scope.choices)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.label})"

    @property
    def label(self) -> str:
        """How the key is named in the audit log and on pages: never its secret."""
        return f"pa_live_{self.prefix}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE


class IdempotencyRecord(models.Model):
    """One POST made with an `Idempotency-Key`: taken before the work, answered after.

    The unique (organization, key) row is the lock: the first INSERT wins, a concurrent
    one finds it in flight (409). `status` stays NULL while the first request runs; a
    crash leaves it NULL until `expires_at`, then the purge removes it and the key is free.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.BinaryField(default=bytes)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="api_idempotency_unique")
        ]
        indexes = [models.Index(fields=["expires_at"], name="api_idempotency_expires")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status or 'in flight'})"

"""Firms, their members and roles, and invitations to join them.

Every connection, job, schedule and bank upload belongs to one organization; a user
belongs to one or more (always at least their personal one) with one role in each.
What a role may do is decided in `permissions.py` and nowhere else.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    # The one created with the user's sign-up; a user always keeps one organization.
    personal = models.BooleanField(default=False)
    require_mfa = models.BooleanField(
        _("members must use two-factor sign-in"),
        default=False,
        help_text=_("Members without two-factor sign-in are sent to set it up first."),
    )
    audit_retention_days = models.PositiveIntegerField(
        _("keep the audit log for (days)"), default=400
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


def default_notify() -> list[str]:
    from partnerapp.organizations.notifications import DEFAULT_EVENTS

    return list(DEFAULT_EVENTS)


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("owner")
        ADMIN = "admin", _("admin")
        OPERATOR = "operator", _("operator")
        VIEWER = "viewer", _("viewer")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)
    # E-mails the member asked for (`notifications.EVENTS`), e.g. ["job_paused"].
    notify = models.JSONField(default=default_notify, blank=True)
    # The language the member last chose or signed in with: their e-mails are written in it
    # (empty: the site's default).
    language = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["organization", "user__email", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Invitation(models.Model):
    """A single-use link that makes whoever opens it (signed in) a member."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        REVOKED = "revoked", _("revoked")
        EXPIRED = "expired", _("expired")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail"))
    role = models.CharField(
        _("role"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.OPERATOR
    )
    # SHA-256 of the token in the link: the link itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"

    @property
    def state(self) -> str:
        if self.accepted_at:
            return self.State.ACCEPTED
        if self.revoked_at:
            return self.State.REVOKED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        return self.State.PENDING

    def get_state_display(self) -> str:
        return self.State(self.state).label


class AppendOnlyError(Exception):
    """An audit event was to be changed or removed: the log only grows."""


class AuditEventQuerySet(models.QuerySet):
    """Refuses the bulk paths that would rewrite history.

    Only the retention purge (`audit.audit_purge`) removes rows, with `_raw_delete`.
    Django's own deletion collector uses the plain base manager, so deleting a user
    still sets `actor` to NULL and deleting an organization still takes its log along.
    """

    def update(self, **kwargs):
        raise AppendOnlyError("audit events are never updated")

    def delete(self):
        raise AppendOnlyError("audit events are never deleted (retention purges them)")


class AuditEvent(models.Model):
    """One state-changing action: who, when, from where, on what, and what changed.

    Written only through `partnerapp.organizations.audit.record`, which redacts
    secrets before anything reaches this table.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The actor's e-mail at the time ("partnerapp" for the system): survives the user.
    actor_label = models.CharField(max_length=254)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=50)  # e.g. "job.create", "member.role_change"
    object_type = models.CharField(max_length=100, blank=True)  # e.g. "jobs.batchjob"
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_created"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are never deleted (retention purges them)")

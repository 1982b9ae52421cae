"""Organizations, memberships and invitations: every change goes through here.

Each function takes the acting member (`actor`) and asks `permissions` whether they may;
`OrganizationError` carries a sentence for the person when the change is refused for a
reason that is not a missing role (the last owner, an expired link, …).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerapp.organizations import audit, permissions
from partnerapp.organizations.current import personal_organization
from partnerapp.organizations.models import Invitation, Membership, Organization
from partnerapp.organizations.permissions import Perm

Role = Membership.Role


class OrganizationError(Exception):
    """The change was refused; the message is for the person who asked."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- organizations ----------------------------------------------------------------------------


def organization_create(*, user, name: str) -> Organization:
    with transaction.atomic():
        organization = Organization.objects.create(name=name.strip()[:200])
        Membership.objects.create(organization=organization, user=user, role=Role.OWNER)
        audit.record(
            "organization.create",
            organization=organization,
            obj=organization,
            after={"name": organization.name},
            actor=user,
        )
    return organization


SETTINGS_FIELDS = ("name", "require_mfa", "audit_retention_days")


def organization_update(*, actor: Membership, values: dict) -> Organization:
    """Save the settings in `values` (keys of SETTINGS_FIELDS) and record what changed."""
    permissions.require(actor, Perm.SETTINGS)
    fields = [name for name in SETTINGS_FIELDS if name in values]
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=actor.organization_id)
        before = audit.snapshot(organization, fields)
        for name in fields:
            setattr(organization, name, values[name])
        organization.save(update_fields=fields)
        before, after = audit.changes(before, audit.snapshot(organization, fields))
        if after:
            audit.record(
                "organization.settings",
                organization=organization,
                obj=organization,
                before=before,
                after=after,
                actor=actor.user,
            )
    return organization


def organization_delete(*, actor: Membership) -> None:
    """Delete the organization with its connections, jobs, schedules and imports.

    Refused for a personal organization and while a job is still at work (its worker
    would write into rows that are gone)."""
    permissions.require(actor, Perm.OWN)
    organization = actor.organization
    if organization.personal:
        raise OrganizationError(_("Your personal organization cannot be deleted."))
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        working = organization.jobs.filter(status__in=["queued", "running"]).exists()
        if working:
            raise OrganizationError(
                _("Jobs are still running here. Cancel them or let them finish first.")
            )
        organization.jobs.all().delete()  # jobs protect their connection
        organization.delete()  # its audit log goes with it: the trace stays with the owner
        audit.record(
            "organization.delete",
            organization=personal_organization(actor.user),
            label=organization.name,
            before={"name": organization.name, "id": organization.pk},
            actor=actor.user,
        )


# -- members ----------------------------------------------------------------------------------


def _owners(organization_id: int) -> int:
    return Membership.objects.filter(organization_id=organization_id, role=Role.OWNER).count()


def member_role_change(*, actor: Membership, member: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise OrganizationError(_("Unknown role."))
    if not permissions.can_assign(actor, role, target=member):
        raise permissions.PermissionDenied
    with transaction.atomic():
        member = Membership.objects.select_for_update().get(pk=member.pk)
        _lock_owners(member.organization_id)
        if (
            member.role == Role.OWNER
            and role != Role.OWNER
            and _owners(member.organization_id) == 1
        ):
            raise OrganizationError(
                _("An organization needs an owner: make someone else owner first.")
            )
        before = member.role
        member.role = role
        member.save(update_fields=["role"])
        audit.record(
            "member.role_change",
            organization=member.organization_id,
            obj=member,
            label=member.user.email,
            before={"role": before},
            after={"role": role},
            actor=actor.user,
        )
    return member


def member_remove(*, actor: Membership, member: Membership) -> None:
    """Remove a member, or leave (actor == member). The last owner cannot go."""
    leaving = actor.pk == member.pk
    if not leaving and not permissions.can_assign(actor, member.role, target=member):
        raise permissions.PermissionDenied
    with transaction.atomic():
        _lock_owners(member.organization_id)
        if member.role == Role.OWNER and _owners(member.organization_id) == 1:
            raise OrganizationError(
                _("An organization needs an owner: make someone else owner first.")
            )
        if leaving and member.organization.personal:
            raise OrganizationError(_("You cannot leave your personal organization."))
        Membership.objects.filter(pk=member.pk).delete()
        audit.record(
            "member.leave" if leaving else "member.remove",
            organization=member.organization_id,
            obj=member,
            label=member.user.email,
            before={"role": member.role},
            actor=actor.user,
        )


def _lock_owners(organization_id: int) -> None:
    """Two owners demoting each other at once: the second waits and then counts one."""
    Organization.objects.select_for_update().filter(pk=organization_id).first()


# -- invitations ------------------------------------------------------------------------------


def invitation_create(*, actor: Membership, email: str, role: str) -> tuple[Invitation, str]:
    """A pending invitation and its token (returned once: only its hash is kept)."""
    if not permissions.can_assign(actor, role):
        raise permissions.PermissionDenied
    email = email.strip().lower()
    organization = actor.organization
    if organization.memberships.filter(user__email__iexact=email).exists():
        raise OrganizationError(_("%(email)s is already a member.") % {"email": email})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_DAYS),
    )
    audit.record(
        "invitation.create",
        organization=organization,
        obj=invitation,
        label=email,
        after={"email": email, "role": role},
        actor=actor.user,
    )
    return invitation, token


def invitation_send(*, invitation: Invitation, link: str) -> None:
    """E-mail the link to the invited address, in the inviting member's language."""
    context = {"invitation": invitation, "link": link, "days": settings.INVITATION_DAYS}
    subject = _("%(name)s invites you to partnerapp") % {"name": invitation.organization.name}
    body = render_to_string("organizations/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


def invitation_revoke(*, actor: Membership, invitation: Invitation) -> bool:
    permissions.require(actor, Perm.MEMBERS)
    if invitation.organization_id != actor.organization_id:
        raise permissions.NotMember
    changed = Invitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    if changed:
        audit.record(
            "invitation.revoke",
            organization=invitation.organization_id,
            obj=invitation,
            label=invitation.email,
            before={"state": Invitation.State.PENDING},
            after={"state": Invitation.State.REVOKED},
            actor=actor.user,
        )
    return changed == 1


def invitation_for(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=token_hash(token))
        .first()
    )


def invitation_accept(*, user, invitation: Invitation) -> Membership:
    """Spend the invitation (one conditional UPDATE: a second use finds it spent) and make
    `user` a member with its role; an existing member keeps their role."""
    now = timezone.now()
    with transaction.atomic():
        spent = Invitation.objects.filter(
            pk=invitation.pk, accepted_at=None, revoked_at=None, expires_at__gt=now
        ).update(accepted_at=now, accepted_by=user)
        if spent != 1:
            invitation.refresh_from_db()
            raise OrganizationError(_invitation_unusable(invitation))
        membership, _created = Membership.objects.get_or_create(
            organization=invitation.organization, user=user, defaults={"role": invitation.role}
        )
        audit.record(
            "invitation.accept",
            organization=invitation.organization_id,
            obj=invitation,
            label=invitation.email,
            after={"role": membership.role, "member": user.email},
            actor=user,
        )
    return membership


def _invitation_unusable(invitation: Invitation) -> str:
    state = invitation.state
    if state == Invitation.State.ACCEPTED:
        return _("This invitation was already used.")
    if state == Invitation.State.REVOKED:
        return _("This invitation was withdrawn. Ask for a new one.")
    return _("This invitation has expired. Ask for a new one.")


def invitation_problem(invitation: Invitation | None) -> str:
    """Why the invitation cannot be accepted, or "" when it can."""
    if invitation is None:
        return _("This invitation link is not valid. Check that you copied all of it.")
    if invitation.state != Invitation.State.PENDING:
        return _invitation_unusable(invitation)
    return ""


# -- settings ---------------------------------------------------------------------------------


def notify_set(*, membership: Membership, events: list[str]) -> None:
    from partnerapp.organizations.notifications import EVENTS

    before = membership.notify
    membership.notify = [event for event in EVENTS if event in events]
    membership.save(update_fields=["notify"])
    audit.record(
        "member.notify",
        organization=membership.organization_id,
        obj=membership,
        label=membership.user.email,
        before={"notify": before},
        after={"notify": membership.notify},
        actor=membership.user,
    )

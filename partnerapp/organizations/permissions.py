"""Who may do what in an organization: the one place that decides it.

Every view (through `member_required`), every service that changes something (through
`require`) and the partner API ask here; no view compares roles itself.

- owner: everything, including owners, roles and deleting the organization;
- admin: members (except owners), connections, settings;
- operator: runs jobs, bank imports, schedules and connect links;
- viewer: reads everything (exports included), changes nothing.

A user who is not a member of an organization learns nothing about it: views answer
404 (`NotMember`), never 403.
"""

from __future__ import annotations

from enum import StrEnum
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from partnerapp.organizations.models import Membership, Organization

Role = Membership.Role


class Perm(StrEnum):
    VIEW = "view"  # read pages, download exports and archives
    OPERATE = "operate"  # jobs, bank imports, schedules, connect links
    CONNECT = "connect"  # connect, reconnect, disconnect and remove connections
    MEMBERS = "members"  # invite, change roles, remove (owners: only an owner)
    SETTINGS = "settings"  # the organization's name, two-factor rule, audit retention
    OWN = "own"  # owners, deleting the organization


GRANTS: dict[str, frozenset[Perm]] = {
    Role.VIEWER: frozenset({Perm.VIEW}),
    Role.OPERATOR: frozenset({Perm.VIEW, Perm.OPERATE}),
    Role.ADMIN: frozenset({Perm.VIEW, Perm.OPERATE, Perm.CONNECT, Perm.MEMBERS, Perm.SETTINGS}),
    Role.OWNER: frozenset(Perm),
}


class NotMember(Http404):
    """The user is no member of the organization: to them it does not exist."""


def can(membership: Membership | None, perm: Perm) -> bool:
    return membership is not None and perm in GRANTS.get(membership.role, ())


def require(membership: Membership | None, perm: Perm) -> None:
    """Raise NotMember (404) without a membership, PermissionDenied (403) without the role."""
    if membership is None:
        raise NotMember
    if not can(membership, perm):
        raise PermissionDenied


def membership_of(user, organization: Organization | int) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    org_id = organization.pk if isinstance(organization, Organization) else organization
    return (
        Membership.objects.select_related("organization")
        .filter(user=user, organization_id=org_id)
        .first()
    )


def require_member(user, organization: Organization | int, perm: Perm) -> Membership:
    """The service-side check: `user` may do `perm` in `organization`."""
    membership = membership_of(user, organization)
    require(membership, perm)
    return membership


def can_assign(actor: Membership, role: str, *, target: Membership | None = None) -> bool:
    """May `actor` give `role` (to `target`, or to someone invited)? Only owners make or
    change owners; admins manage everyone else."""
    if not can(actor, Perm.MEMBERS):
        return False
    touches_owner = role == Role.OWNER or (target is not None and target.role == Role.OWNER)
    return not touches_owner or can(actor, Perm.OWN)


def roles_assignable(actor: Membership) -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices if can_assign(actor, value)]


# -- views -----------------------------------------------------------------------------------

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def member_required(perm: Perm = Perm.VIEW, *, post: Perm | None = None, mfa_exempt=False):
    """A view for members of the current organization holding `perm`; unsafe methods
    need `post` (default: `perm`). Sets `request.membership` and `request.organization`.
    Members of an organization that asks for two-factor sign-in go to set it up first,
    unless the view is `mfa_exempt` (leaving: nobody is held in an organization)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            from partnerapp.organizations import current, mfa

            membership = current.membership(request)
            if not mfa_exempt and mfa.blocks(request, membership):
                return mfa.setup_redirect(request)
            needed = perm if request.method in SAFE_METHODS else (post or perm)
            require(membership, needed)
            request._member_perm = needed
            try:
                return view(request, *args, **kwargs)
            except mfa.SetupRequired:
                # an object of another organization that asks for two-factor sign-in
                return mfa.setup_redirect(request)

        wrapper.member_perm = perm  # for a reader of the URL map (tests keep their own table)
        wrapper.member_post_perm = post or perm
        return wrapper

    return decorate

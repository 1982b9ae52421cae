"""The organization a signed-in user is working in (kept in the session; switched in
the header) and lookups that stay inside the user's organizations."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404

from partnerapp.organizations.models import Membership, Organization

SESSION_KEY = "organization_id"


def personal_organization(user) -> Organization:
    """The user's personal organization, created when missing (users made before
    organizations existed, or by `createsuperuser`)."""
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, organization__personal=True, role=Membership.Role.OWNER)
        .order_by("pk")
        .first()
    )
    if membership is not None:
        return membership.organization
    with transaction.atomic():
        organization = Organization.objects.create(name=_personal_name(user), personal=True)
        Membership.objects.create(organization=organization, user=user, role=Membership.Role.OWNER)
    return organization


def _personal_name(user) -> str:
    return (getattr(user, "email", "") or user.get_username())[:200]


def memberships(user) -> list[Membership]:
    """The user's memberships, personal organization first, then by name."""
    rows = Membership.objects.select_related("organization").filter(user=user)
    return sorted(rows, key=lambda m: (not m.organization.personal, m.organization.name.lower()))


def request_memberships(request) -> list[Membership]:
    """`memberships(request.user)`, read once per request (the header's switcher and the
    current membership share the one query)."""
    cached = getattr(request, "_memberships", None)
    if cached is None:
        cached = request._memberships = memberships(request.user)
    return cached


def membership(request) -> Membership:
    """The current membership (cached on the request); falls back to the personal
    organization when the session names none or one the user has left."""
    cached = getattr(request, "_membership", None)
    if cached is not None:
        return cached
    wanted = request.session.get(SESSION_KEY)
    rows = request_memberships(request)
    found = next((m for m in rows if m.organization_id == wanted), None) if wanted else None
    if found is None:
        found = next((m for m in rows if m.organization.personal and m.role == "owner"), None)
    if found is None:  # a user made before organizations, or by createsuperuser
        organization = personal_organization(request.user)
        request._memberships = None
        found = next(m for m in request_memberships(request) if m.organization == organization)
    _use(request, found)
    return found


def _use(request, found: Membership) -> None:
    request._membership = found
    request.membership = found
    request.organization = found.organization
    if request.session.get(SESSION_KEY) != found.organization_id:
        request.session[SESSION_KEY] = found.organization_id


def switch(request, organization_id) -> Membership:
    """Make `organization_id` current; 404 for an organization the user is not in."""
    found = (
        Membership.objects.select_related("organization")
        .filter(user=request.user, organization_id=organization_id)
        .first()
    )
    if found is None:
        raise Http404
    _use(request, found)
    return found


def get_or_404(request, queryset, **lookup):
    """The object of the current organization; an object of another organization the
    user belongs to switches there (a link from an e-mail or a colleague); any other
    object does not exist."""
    current = membership(request)
    found = queryset.filter(organization=current.organization, **lookup).first()
    if found is not None:
        return found
    other = get_object_or_404(queryset, organization__memberships__user=request.user, **lookup)
    switched = switch(request, other.organization_id)
    from partnerapp.organizations import mfa
    from partnerapp.organizations.permissions import Perm, require

    if mfa.blocks(request, switched):
        # The user is a member, so the object exists for them: rather than a 404, the
        # page (of the organization now current) that says how to get in.
        raise mfa.SetupRequired
    require(switched, getattr(request, "_member_perm", Perm.VIEW))
    return other

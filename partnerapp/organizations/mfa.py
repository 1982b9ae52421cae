"""An organization's rule "members must use two-factor sign-in".

A member without a second factor (an authenticator app or a security key; recovery
codes alone are only a fallback) sees none of such an organization's pages: each one
sends them to `organizations:mfa_required`, which links to allauth's set-up pages.
Switching to another organization, allauth's pages and leaving stay open to them.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect


class SetupRequired(PermissionDenied):
    """Raised inside a view (by `current.get_or_404`) when the object belongs to an
    organization this user may not see before setting up two-factor sign-in.
    `member_required` answers it with `setup_redirect`; elsewhere it is a plain 403."""


def blocks(request, membership) -> bool:
    """True when the organization asks for two-factor sign-in and this user has none."""
    if membership is None or not membership.organization.require_mfa:
        return False
    return not has_two_factor(request.user)


def has_two_factor(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def setup_redirect(request):
    return redirect("organizations:mfa_required")

"""An organization's rule "members must use two-factor sign-in"."""

from __future__ import annotations

from django.shortcuts import redirect


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

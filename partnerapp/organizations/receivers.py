"""Every new user gets a personal organization, whichever way the user was made
(sign-up, an invitation, `createsuperuser`, the demo command); sign-ins, failed
sign-ins and sign-outs go to the audit log of each organization of the user."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver

from partnerapp.organizations import audit
from partnerapp.organizations.current import personal_organization
from partnerapp.organizations.models import Membership
from partnerapp.organizations.notifications import remember_language


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="personal_organization")
def user_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        personal_organization(instance)


# -- the audit log: sign-in, failed sign-in, sign-out --------------------------------------------


@receiver(user_logged_in, dispatch_uid="audit_login")
def signed_in(sender, request, user, **kwargs):
    _record_everywhere("auth.login", user, actor=user)
    if request is not None:  # the language the site speaks to them in, for their e-mails
        remember_language(user, getattr(request, "LANGUAGE_CODE", ""))


@receiver(user_logged_out, dispatch_uid="audit_logout")
def signed_out(sender, request, user, **kwargs):
    if user is not None:  # a visitor without a session signs out too
        _record_everywhere("auth.logout", user, actor=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    """Only for an existing account: a guessed address has no organization to tell."""
    user = _account_for(credentials)
    if user is not None:  # whoever typed the password is not known: no actor
        _record_everywhere("auth.login_failed", user, actor=None)


def _record_everywhere(action: str, user, *, actor) -> None:
    """A sign-in is no organization's own: each organization of the user sees it."""
    for organization_id in Membership.objects.filter(user=user).values_list(
        "organization_id", flat=True
    ):
        audit.record(
            action,
            organization=organization_id,
            obj=user,
            label=user.email,
            actor=actor,
        )


def _account_for(credentials: dict):
    # allauth passes the address as "email" (or "username", as Django's own form does);
    # the password in `credentials` is already masked by Django and never read here.
    login = credentials.get("email") or credentials.get("username") or ""
    if not login:
        return None
    users = get_user_model().objects.filter(Q(email__iexact=login) | Q(username__iexact=login))
    return users.order_by("pk").first()

"""Every new user gets a personal organization, whichever way the user was made
(sign-up, an invitation, `createsuperuser`, the demo command)."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from partnerapp.organizations.current import personal_organization


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="personal_organization")
def user_created(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        personal_organization(instance)

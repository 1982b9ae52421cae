"""Who of an organization hears about what: each member picks the events (Membership.notify).

A job's creator always hears about their own job; everyone else who opted in hears too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from partnerapp.organizations.models import Membership

logger = logging.getLogger(__name__)

EVENTS = {
    "job_finished": _("A job finished"),
    "job_paused": _("A job paused and waits for someone"),
    "connection_needs_reauth": _("A connection needs to be reconnected"),
    "connect_link_used": _("A client used a connect link"),
}
DEFAULT_EVENTS = ["job_paused", "connection_needs_reauth", "connect_link_used"]


def recipients(organization_id: int, event: str, *, creator=None) -> list[tuple[str, str]]:
    """(e-mail address, language) of the members who asked for `event`, and of `creator`
    (when still a member), each address once."""
    members = Membership.objects.filter(organization_id=organization_id).select_related("user")
    return member_addresses(
        membership
        for membership in members.order_by("pk")
        if event in membership.notify or (creator is not None and membership.user_id == creator.pk)
    )


def notify(
    organization_id: int,
    event: str,
    *,
    compose: Callable[[], tuple[str, str]],
    creator=None,
) -> int:
    """Mail the event to its recipients, each in their own language (`mail`)."""
    to = recipients(organization_id, event, creator=creator)
    return mail(to, compose, what=f"organization {organization_id} about {event}")


def mail(to: list[tuple[str, str]], compose: Callable[[], tuple[str, str]], *, what: str) -> int:
    """One message per (address, language) — nobody sees the others' addresses — written in
    that language: `compose()` returns (subject, body) and is called once per language with
    it active. Returns how many were sent; a mail outage is logged, never raised: the state
    a message reports is stored either way."""
    said: dict[str, tuple[str, str]] = {}
    messages = []
    for address, language in to:
        if language not in said:
            with translation.override(language):
                subject, body = compose()
                said[language] = (str(subject), str(body))
        messages.append((*said[language], None, [address]))
    try:
        return send_mass_mail(messages, fail_silently=False) if messages else 0
    except OSError:
        logger.exception("could not e-mail %s", what)
        return 0


def member_addresses(memberships) -> list[tuple[str, str]]:
    """(address, language) of each member with an address, each address once."""
    found: dict[str, str] = {}
    for membership in memberships:
        if membership.user.email and membership.user.email not in found:
            found[membership.user.email] = membership.language or settings.LANGUAGE_CODE
    return list(found.items())


def remember_language(user, language: str) -> None:
    """Keep the language `user` chose (or signed in with) on their memberships: their
    e-mails are written in it. One UPDATE, none when nothing changes."""
    if language not in dict(settings.LANGUAGES):
        return
    Membership.objects.filter(user=user).exclude(language=language).update(language=language)

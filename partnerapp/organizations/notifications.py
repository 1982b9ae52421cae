"""Who of an organization hears about what: each member picks the events (Membership.notify).

A job's creator always hears about their own job; everyone else who opted in hears too.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mass_mail
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


def recipients(organization_id: int, event: str, *, creator=None) -> list[str]:
    """The e-mail addresses of the members who asked for `event`, and of `creator` (when
    still a member), each once."""
    members = Membership.objects.filter(organization_id=organization_id).select_related("user")
    emails = []
    for membership in members.order_by("pk"):
        wanted = event in membership.notify or (
            creator is not None and membership.user_id == creator.pk
        )
        if wanted and membership.user.email and membership.user.email not in emails:
            emails.append(membership.user.email)
    return emails


def notify(organization_id: int, event: str, *, subject: str, body: str, creator=None) -> int:
    """Mail `subject`/`body` to the event's recipients, one message each (nobody sees the
    others' addresses). Returns how many were sent; a mail outage is logged, never raised:
    the state it reports is stored either way."""
    to = recipients(organization_id, event, creator=creator)
    messages = [(subject, body, None, [address]) for address in to]
    try:
        return send_mass_mail(messages, fail_silently=False) if messages else 0
    except OSError:
        logger.exception("could not e-mail organization %s about %s", organization_id, event)
        return 0

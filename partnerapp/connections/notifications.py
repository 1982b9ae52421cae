"""Telling the partner user what needs their hand."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from partnerapp.connections.models import Connection

logger = logging.getLogger(__name__)


def site_url(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}" if settings.SITE_URL else path


def needs_reauth_notify(connection: Connection) -> None:
    """Email the connection's user that the owner must connect the account again."""
    if not connection.user.email:
        return
    link = site_url(reverse("dashboard:connection", args=[connection.pk]))
    subject = _("SmartBusiness account %(name)s needs to be reconnected") % {
        "name": connection.owner_name
    }
    body = _(
        "partnerapp can no longer use the SmartBusiness account %(name)s: %(reason)s\n\n"
        "Jobs of this account are paused and resume after you reconnect it here:\n%(link)s\n"
    ) % {"name": connection.owner_name, "reason": connection.last_error, "link": link}
    try:
        send_mail(subject, body, None, [connection.user.email])
    except OSError:  # a mail outage must not hide the connection state, which is stored
        logger.exception(
            "could not email user %s about connection %s", connection.user_id, connection.pk
        )

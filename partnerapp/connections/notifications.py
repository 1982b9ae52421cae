"""Telling the partner user what needs their hand."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from partnerapp.connections.models import Connection
from partnerapp.organizations.notifications import notify


def site_url(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}" if settings.SITE_URL else path


def needs_reauth_notify(connection: Connection) -> None:
    """E-mail the members who asked for it (and whoever connected the account) that the
    owner must connect the account again; the link leads to its Reconnect button."""
    link = site_url(reverse("dashboard:connection", args=[connection.pk]))

    def compose() -> tuple[str, str]:
        subject = _("SmartBusiness account %(name)s needs to be reconnected") % {
            "name": connection.owner_name
        }
        body = _(
            "partnerapp can no longer use the SmartBusiness account %(name)s: %(reason)s\n\n"
            "Jobs of this account are paused and resume after you reconnect it here:\n%(link)s\n"
        ) % {"name": connection.owner_name, "reason": connection.last_error, "link": link}
        return subject, body

    notify(
        connection.organization_id,
        "connection_needs_reauth",
        compose=compose,
        creator=connection.user,
    )
    from partnerapp.webhooks import events  # lazily: webhooks imports connections

    events.connection_needs_reauth(connection)

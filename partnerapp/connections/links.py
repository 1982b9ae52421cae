"""Connect links: a member asks a client to connect their SmartBusiness account.

The client opens a secret link without a partnerapp login, reads which firm asks for
what and why, and consents at the provider. The consent runs through consent.py like
a member's: the pending entry in the client's browser session is marked with the link,
and `link_finish` brings the store that lands the connection in the link's
organization (its creator as `user`). One conditional UPDATE spends the link in the
same transaction that stores the connection: two callbacks make one connection.

Only the token's SHA-256 finds a link; its Fernet ciphertext lets members copy a
pending link again. Neither is ever logged or written to the audit log.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partnerapp.connections import consent, crypto
from partnerapp.connections.models import ConnectLink
from partnerapp.connections.notifications import site_url
from partnerapp.connections.services import ActivationRefused, connection_activate
from partnerapp.organizations import audit, permissions
from partnerapp.organizations.notifications import notify
from partnerapp.organizations.permissions import Perm
from partnerapp.organizations.services import token_hash
from partnerapp.smartbusiness import oauth

# What each scope lets the firm do, in words for the account's owner.
SCOPE_WORDS = {
    "profile": gettext_lazy("see who owns the account (name and company)"),
    "invoice": gettext_lazy("read your invoices and send them by e-mail"),
    "contact": gettext_lazy("read your customer contacts"),
    "offer": gettext_lazy("read and send your offers"),
    "delivery_note": gettext_lazy("read and send your delivery notes"),
    "order_confirmation": gettext_lazy("read and send your order confirmations"),
    "letter": gettext_lazy("read and send your letters"),
}


class LinkError(Exception):
    """The link cannot be used; the message is for whoever holds it."""


def link_create(
    *,
    user,
    organization_id: int,
    client_name: str,
    scopes: list[str],
    language: str,
    client_email: str = "",
    message: str = "",
    by_api: bool = False,
) -> tuple[ConnectLink, str]:
    """A pending link and its token (the caller shows it; only hash and ciphertext stay).
    `by_api`: asked through the partner API (`user` None; the API checked its key)."""
    if not by_api:
        permissions.require_member(user, organization_id, Perm.OPERATE)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    link = ConnectLink.objects.create(
        organization_id=organization_id,
        created_by=user,
        client_name=client_name.strip()[:200],
        client_email=client_email.strip().lower(),
        scopes=" ".join(scopes),
        message=message.strip()[:1000],
        language=language,
        token_hash=token_hash(token),
        token_ciphertext=crypto.encrypt(token),
        created_at=now,
        expires_at=now + timedelta(days=settings.CONNECT_LINK_DAYS),
    )
    summary = {"client": link.client_name, "scopes": link.scopes, "language": link.language}
    _record("create", link, after=summary, actor=user)
    return link, token


def link_revoke(*, user, link: ConnectLink) -> bool:
    """Withdraw a pending link; False when it was used or withdrawn already."""
    permissions.require_member(user, link.organization_id, Perm.OPERATE)
    revoked = ConnectLink.objects.filter(pk=link.pk, completed_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    if revoked:
        link.refresh_from_db()
        _record("revoke", link, actor=user)
    return revoked == 1


def link_send(*, link: ConnectLink, url: str) -> None:
    """E-mail the link to the client, in the link's language."""
    if not link.client_email:
        raise LinkError(_("This link has no e-mail address to send it to."))
    with translation.override(link.language):
        context = {"link": link, "url": url, "scopes": scope_words(link.scope_list)}
        subject = _("%(firm)s asks you to connect your SmartBusiness account") % {
            "firm": link.organization.name
        }
        body = render_to_string("connections/email/connect_link.txt", context)
    send_mail(subject, body, None, [link.client_email])


def link_for_token(token: str) -> ConnectLink | None:
    if not token or len(token) > 100:
        return None
    return (
        ConnectLink.objects.select_related("organization", "connection", "created_by")
        .filter(token_hash=token_hash(token))
        .first()
    )


def link_open(*, link: ConnectLink, viewer) -> None:
    """Mark the link opened the first time someone other than the firm's members reads it
    (a member checking the link is not the client)."""
    if permissions.membership_of(viewer, link.organization_id) is not None:
        return
    now = timezone.now()
    if ConnectLink.objects.filter(pk=link.pk, opened_at=None).update(opened_at=now):
        link.opened_at = now
        _record("open", link)


def link_problem(link: ConnectLink | None) -> str:
    """Why the link cannot be used (any more), or "" when it can."""
    if link is None:
        return _("This link is not valid. Check that you copied all of it.")
    state = link.state
    if state == ConnectLink.State.CONNECTED:
        return _("This link was already used: the account is connected.")
    if state == ConnectLink.State.REVOKED:
        return _("This link was withdrawn by %(firm)s. Ask them for a new one.") % {
            "firm": link.organization.name
        }
    if state == ConnectLink.State.EXPIRED:
        return _("This link has expired. Ask %(firm)s for a new one.") % {
            "firm": link.organization.name
        }
    return ""


def link_start(*, link: ConnectLink, session: SessionBase, redirect_uri: str) -> str:
    """Off to the provider's consent page: the provider's URL, the state kept in `session`."""
    problem = link_problem(link)
    if problem:
        raise LinkError(problem)
    return consent.consent_start(
        session=session,
        organization_id=link.organization_id,
        redirect_uri=redirect_uri,
        scopes=link.scope_list,
        reconnect=None,
        link_id=link.pk,
    )


def link_finish(
    *, link: ConnectLink, session: SessionBase, params: dict[str, str]
) -> consent.ConsentResult:
    """The provider's answer to a client's consent: the connection, stored in the link's
    organization and the link spent. Raises consent.ConsentError (ConsentDenied when the
    client said no, ConsentAlreadyFinished for a reloaded callback) with a sentence for
    the client; a denial or error is kept on the link for the members' list."""
    try:
        return consent.consent_finish(
            session=session,
            user=link.created_by,
            params=params,
            store=partial(_store, link=link),
        )
    except consent.ConsentAlreadyFinished:
        raise
    except consent.ConsentDenied:
        _denied(link)
        raise
    except consent.ConsentError as exc:
        if link.is_pending:  # a used or withdrawn link says so; nothing to keep
            ConnectLink.objects.filter(pk=link.pk).update(last_error=str(exc)[:1000])
        raise


def _store(
    *, link: ConnectLink, user, entry: dict, tokens: oauth.TokenSet, owner: dict
) -> consent.ConsentResult:
    now = timezone.now()
    with transaction.atomic():
        # The spend and the connection commit together: the loser of two callbacks waits
        # on the row, then finds it spent; a refused activation leaves the link unspent.
        spent = ConnectLink.objects.filter(
            pk=link.pk, completed_at=None, revoked_at=None, expires_at__gt=now
        ).update(completed_at=now, last_error="")
        if spent != 1:
            link.refresh_from_db()
            raise consent.ConsentError(link_problem(link) or _("This link cannot be used."))
        try:
            connection, created = connection_activate(
                user=user,
                organization_id=link.organization_id,
                base_url=entry["base_url"],
                owner=owner,
                tokens=tokens,
            )
        except ActivationRefused as exc:
            raise consent.ConsentError(str(exc)) from exc
        ConnectLink.objects.filter(pk=link.pk).update(connection=connection)
        link.refresh_from_db()
        _record("complete", link, after={"connection": connection.pk, "account": owner_name(link)})
        from partnerapp.webhooks import events  # lazily: webhooks imports connections

        events.connect_link_completed(link)  # stored with the connection, sent after commit
    _notify_used(link)
    return consent.ConsentResult(connection=connection, created=created)


def _denied(link: ConnectLink) -> None:
    now = timezone.now()
    denied = ConnectLink.objects.filter(pk=link.pk, completed_at=None, revoked_at=None).update(
        denied_at=now, last_error=""
    )
    if denied:
        link.denied_at = now
        _record("deny", link)


def _notify_used(link: ConnectLink) -> None:
    """Tell the members who asked for it (and the link's creator) the account is here."""
    connection = link.connection
    url = site_url(reverse("dashboard:connection", args=[connection.pk]))

    def compose() -> tuple[str, str]:
        subject = _("%(client)s connected their SmartBusiness account") % {
            "client": link.client_name
        }
        body = _(
            "%(client)s used your connect link and connected the SmartBusiness account "
            "%(account)s to %(firm)s.\n\nThe connection:\n%(url)s\n"
        ) % {
            "client": link.client_name,
            "account": connection.owner_name,
            "firm": link.organization.name,
            "url": url,
        }
        return subject, body

    notify(link.organization_id, "connect_link_used", compose=compose, creator=link.created_by)


def owner_name(link: ConnectLink) -> str:
    return link.connection.owner_name if link.connection else ""


def scope_words(scopes: list[str]) -> list[str]:
    return [str(SCOPE_WORDS.get(scope, scope)) for scope in scopes]


def provider_apps_url(base_url: str) -> str:
    """Where the owner revokes partnerapp's access at the provider ("" when unknown)."""
    if settings.SMARTBUSINESS_CONNECTED_APPS_URL:
        return settings.SMARTBUSINESS_CONNECTED_APPS_URL
    if base_url.rstrip("/").endswith("/sandbox/v2"):  # the offline provider's own page
        return base_url.rstrip("/").removesuffix("/v2") + "/connected-apps/"
    return ""


def _record(event: str, link: ConnectLink, *, after: dict | None = None, actor=None) -> None:
    audit.record(
        f"connect_link.{event}",
        organization=link.organization_id,
        obj=link,
        label=link.client_name,
        after=after,
        actor=actor,
    )

"""The OAuth2 consent flow: send the owner to the provider, take the code back.

`state` is single use, bound to the browser session, and expires; PKCE S256
protects the code. Nothing is stored until the provider has given us tokens and
told us whose account they open.

A member's consent stores the connection for that member; a client's consent through
a connect link (links.py) marks its entry with the link and brings its own `store`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from partnerapp.connections.models import Connection
from partnerapp.connections.services import ActivationRefused, api_config, connection_activate
from partnerapp.organizations import permissions
from partnerapp.organizations.current import personal_organization
from partnerapp.organizations.permissions import Perm
from partnerapp.smartbusiness import oauth
from partnerapp.smartbusiness.client import SmartBusinessClient
from partnerapp.smartbusiness.errors import ScopeRefused, SmartBusinessError

SESSION_KEY = "connections_pending_consents"
DONE_KEY = "connections_finished_consents"  # state -> connection id, for a reloaded callback
LINKS_KEY = "connections_link_consents"  # state -> connect link id, pending or ended
MAX_PENDING = 5


class ConsentError(Exception):
    """The flow ended without a connection; the message is for the user."""


class ConsentDenied(ConsentError):
    pass


class ConsentAlreadyFinished(ConsentError):
    """The callback of a consent this browser already finished (a reload, Back): the
    account is connected; nothing more to do."""

    def __init__(self, connection_id: int) -> None:
        super().__init__(_("This account is already connected."))
        self.connection_id = connection_id


@dataclass(frozen=True)
class ConsentResult:
    connection: Connection
    created: bool


def redirect_uri(request: HttpRequest) -> str:
    """The one callback registered at the provider: members' and clients' consents alike."""
    return settings.SMARTBUSINESS_REDIRECT_URI or request.build_absolute_uri(
        reverse("connections:callback")
    )


def consent_start(
    *,
    session: SessionBase,
    organization_id: int,
    redirect_uri: str,
    scopes: list[str],
    reconnect: Connection | None,
    link_id: int | None = None,
) -> str:
    """Remember a fresh state in the session and return the provider's consent URL.

    `link_id`: the consent is a client's through that connect link (see `consent_link`)."""
    base_url = reconnect.base_url if reconnect else settings.SMARTBUSINESS_BASE_URL
    request = oauth.authorization_request(
        api_config(base_url),
        redirect_uri=redirect_uri,
        scope=scopes,
        state=secrets.token_urlsafe(32),
    )
    pending = _live_pending(session)
    pending[request.state] = {
        "code_verifier": request.code_verifier,
        "scopes": scopes,
        "redirect_uri": redirect_uri,
        "base_url": base_url,
        "reconnect": reconnect.pk if reconnect else None,
        "organization": organization_id,
        "link": link_id,
        "created": time.time(),
    }
    session[SESSION_KEY] = dict(list(pending.items())[-MAX_PENDING:])
    if link_id is not None:
        links = session.get(LINKS_KEY, {})
        links[request.state] = link_id
        session[LINKS_KEY] = dict(list(links.items())[-MAX_PENDING:])
    return request.url


def consent_link(session: SessionBase, state: str) -> int | None:
    """The connect link whose consent this browser started with `state` (pending, or
    ended: a reload of its callback), or None for a member's own consent."""
    return session.get(LINKS_KEY, {}).get(state) if state else None


def consent_finish(
    *,
    session: SessionBase,
    user,
    params: dict[str, str],
    store: Callable[..., ConsentResult] | None = None,
) -> ConsentResult:
    """Check the callback, trade the code for tokens, read the owner, store the connection.

    `store` turns the tokens and owner into a connection (default: a member's own
    consent, `_store`); it raises ConsentError to refuse, storing nothing."""
    entry = _take(session, params)
    tokens, owner = _exchange(entry, params)
    result = (store or _store)(user=user, entry=entry, tokens=tokens, owner=owner)
    done = session.get(DONE_KEY, {})
    done[params["state"]] = result.connection.pk
    session[DONE_KEY] = dict(list(done.items())[-MAX_PENDING:])
    return result


def _take(session: SessionBase, params: dict[str, str]) -> dict:
    """The pending entry of the callback's state, spent; raises ConsentError when the
    callback cannot go on (unknown state, denial, provider error, no code)."""
    pending = _live_pending(session)
    entry = pending.pop(params.get("state", ""), None)
    session[SESSION_KEY] = pending  # the state is spent whatever happens next
    if entry is None:
        finished = session.get(DONE_KEY, {}).get(params.get("state", ""))
        if finished is not None:
            raise ConsentAlreadyFinished(finished)
        raise ConsentError(
            _(
                "This authorization response does not belong to a connection you started "
                "here (unknown, expired or already used state). Nothing was stored; please "
                "start the connection again."
            )
        )
    if params.get("error") == "access_denied":
        raise ConsentDenied(_("Access was denied at SmartBusiness, so no account was connected."))
    if params.get("error"):
        raise ConsentError(
            _("SmartBusiness reported an error: %(error)s %(description)s")
            % {"error": params["error"], "description": params.get("error_description", "")}
        )
    if not params.get("code"):
        raise ConsentError(_("SmartBusiness returned no authorization code. Please try again."))
    return entry


def _exchange(entry: dict, params: dict[str, str]) -> tuple[oauth.TokenSet, dict]:
    """Trade the code for tokens and ask the provider whose account they open."""
    config = api_config(entry["base_url"])
    try:
        tokens = oauth.exchange_code(
            config,
            redirect_uri=entry["redirect_uri"],
            code=params["code"],
            code_verifier=entry["code_verifier"],
            scope=entry["scopes"],
        )
        with closing(SmartBusinessClient(config, tokens.access_token)) as client:
            owner = client.owner()
    except SmartBusinessError as exc:
        raise ConsentError(provider_message(exc)) from exc
    return tokens, owner


def _store(*, user, entry: dict, tokens: oauth.TokenSet, owner: dict) -> ConsentResult:
    if entry.get("link"):  # the callback view hands these to links.py; never a member's
        raise ConsentError(_("This consent belongs to a connect link. Nothing was stored."))
    # a consent started before organizations existed goes to the personal one
    entry.setdefault("organization", personal_organization(user).pk)
    try:
        # still a member allowed to connect (a role may have changed at the provider's page)
        permissions.require_member(user, entry["organization"], Perm.CONNECT)
    except (PermissionDenied, Http404) as exc:
        raise ConsentError(
            _("You may no longer connect accounts in this organization. Nothing was stored.")
        ) from exc
    try:
        connection, created = connection_activate(
            user=user,
            organization_id=entry["organization"],
            base_url=entry["base_url"],
            owner=owner,
            tokens=tokens,
            reconnect_id=entry.get("reconnect"),
        )
    except ActivationRefused as exc:
        raise ConsentError(str(exc)) from exc
    return ConsentResult(connection=connection, created=created)


def _live_pending(session: SessionBase) -> dict[str, dict]:
    max_age = settings.CONNECT_STATE_MAX_AGE_SECONDS
    now = time.time()
    pending = session.get(SESSION_KEY) or {}
    return {state: e for state, e in pending.items() if now - e.get("created", 0) < max_age}


def provider_message(exc: SmartBusinessError) -> str:
    reference = _(" (request id %(id)s)") % {"id": exc.request_id} if exc.request_id else ""
    hint = getattr(exc, "hint", "")
    message = f"{exc.message} ({hint})" if hint else exc.message
    if isinstance(exc, ScopeRefused):
        message = _("SmartBusiness does not grant the requested access: %(message)s") % {
            "message": message
        }
    return _("SmartBusiness did not complete the connection: %(message)s%(reference)s") % {
        "message": message,
        "reference": reference,
    }

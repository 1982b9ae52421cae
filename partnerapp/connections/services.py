"""Using a connection: the one place that refreshes tokens and builds API clients.

Refresh tokens work exactly once (DESIGN §2). `connection_refresh` takes the
connection's refresh lock, re-reads the row, and only refreshes when the token
it finds is still the stale one — if a sibling already refreshed, its token is
used. The new pair is committed before the lock is released and before anyone
uses the new access token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerapp.connections.locks import connection_lock
from partnerapp.connections.models import Connection
from partnerapp.connections.signals import connection_needs_reauth
from partnerapp.smartbusiness import oauth
from partnerapp.smartbusiness.client import ApiCall, SmartBusinessClient
from partnerapp.smartbusiness.errors import InvalidGrant, Unauthorized
from partnerapp.smartbusiness.ratelimit import RateLimit
from partnerapp.smartbusiness.session import ApiConfig

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ConnectionUnusable(Exception):
    """The connection cannot call the API until a person acts (reconnect)."""

    def __init__(self, connection: Connection, message: str = "") -> None:
        super().__init__(message or connection.last_error or connection.get_status_display())
        self.connection = connection


def api_config(base_url: str | None = None) -> ApiConfig:
    return ApiConfig(
        base_url=base_url or settings.SMARTBUSINESS_BASE_URL,
        client_id=settings.SMARTBUSINESS_CLIENT_ID,
        client_secret=settings.SMARTBUSINESS_CLIENT_SECRET,
        connect_timeout=settings.SMARTBUSINESS_CONNECT_TIMEOUT,
        read_timeout=settings.SMARTBUSINESS_READ_TIMEOUT,
        allow_http=settings.SMARTBUSINESS_ALLOW_HTTP,
    )


def connection_refresh(*, connection_id: int, rejected_access_ciphertext: str = "") -> Connection:
    """A connection whose access token is fresh, refreshing it if nobody else did.

    `rejected_access_ciphertext` is the (encrypted) token the provider just refused
    with 401: refresh even if it has not expired yet, unless it was already replaced.
    Raises ConnectionUnusable when the provider refuses the refresh token.
    """
    with connection_lock(connection_id):
        connection = Connection.objects.get(pk=connection_id)
        if connection.status != Connection.Status.ACTIVE:
            raise ConnectionUnusable(connection)
        rejected = rejected_access_ciphertext == connection.access_token_ciphertext
        if not (connection.access_token_expires_soon() or rejected):
            return connection  # a sibling refreshed while we waited for the lock
        try:
            tokens = oauth.refresh(
                api_config(connection.base_url),
                refresh_token=connection.refresh_token,
                scope=connection.scope_list,
            )
        except InvalidGrant as exc:
            _mark_needs_reauth(connection, exc)
            dead = connection
        else:
            connection.store_tokens(
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token or connection.refresh_token,
                expires_at=datetime.fromtimestamp(tokens.expires_at, tz=UTC),
            )
            connection.last_refreshed_at = timezone.now()
            connection.last_error = ""
            connection.save()
            return connection
    # Outside the lock: the needs_reauth state is committed; now tell whoever listens.
    connection_needs_reauth.send(sender=Connection, connection=dead)
    raise ConnectionUnusable(dead)


def _mark_needs_reauth(connection: Connection, exc: InvalidGrant) -> None:
    logger.warning(
        "connection %s: refresh refused (invalid_grant, request %s)", connection.pk, exc.request_id
    )
    connection.status = Connection.Status.NEEDS_REAUTH
    connection.last_error = _(
        "The provider refused the stored refresh token (invalid_grant): the grant was revoked "
        "or the token was already used. The account owner must connect the account again."
    )
    connection.save(update_fields=["status", "last_error", "updated_at"])


def connection_client(connection: Connection) -> SmartBusinessClient:
    """An API client with a fresh access token and the connection's bookkeeping hooks."""
    return _client(_fresh(connection))


def connection_call(connection: Connection, call: Callable[[SmartBusinessClient], T]) -> T:
    """Run `call` with a fresh client; after a 401 refresh once and try again.

    A 401 means the provider refused the token before doing anything, so even an
    action is safe to repeat once. Raises ConnectionUnusable when the connection
    needs a person (reconnect), and the client's typed errors otherwise.
    """
    connection = _fresh(connection)
    with closing(_client(connection)) as client:
        try:
            return call(client)
        except Unauthorized:
            pass
    refreshed = connection_refresh(
        connection_id=connection.pk,
        rejected_access_ciphertext=connection.access_token_ciphertext,
    )
    with closing(_client(refreshed)) as client:
        return call(client)


def _fresh(connection: Connection) -> Connection:
    if connection.status != Connection.Status.ACTIVE:
        raise ConnectionUnusable(connection)
    if connection.access_token_expires_soon():
        return connection_refresh(connection_id=connection.pk)
    return connection


def _client(connection: Connection) -> SmartBusinessClient:
    return SmartBusinessClient(
        api_config(connection.base_url),
        connection.access_token,
        after_call=_bookkeeping(connection.pk),
    )


def _bookkeeping(connection_id: int) -> Callable[[ApiCall], None]:
    def after_call(call: ApiCall) -> None:
        if call.rate_limit:
            connection_record_rate_limit(connection_id=connection_id, rate_limit=call.rate_limit)

    return after_call


def connection_record_rate_limit(*, connection_id: int, rate_limit: RateLimit) -> None:
    Connection.objects.filter(pk=connection_id).update(
        rate_limit_limit=rate_limit.limit,
        rate_limit_remaining=rate_limit.remaining,
        rate_limit_reset_at=timezone.now() + timedelta(seconds=rate_limit.reset),
    )


def connection_disconnect(connection: Connection) -> None:
    """Forget the tokens; the connection and its history stay."""
    connection.status = Connection.Status.DISCONNECTED
    connection.access_token_ciphertext = ""
    connection.refresh_token_ciphertext = ""
    connection.access_token_expires_at = None
    connection.save()

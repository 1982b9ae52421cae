"""Using a connection: the one place that refreshes tokens and builds API clients.

Refresh tokens work exactly once (DESIGN §2). `connection_refresh` takes the
connection's refresh lock, re-reads the row, and only refreshes when the token
it finds is still the stale one — if a sibling already refreshed, its token is
used. The new pair is committed before the lock is released and before anyone
uses the new access token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from partnerapp.connections import notifications, pacing, requestlog
from partnerapp.connections.locks import connection_lock
from partnerapp.connections.models import Connection
from partnerapp.connections.signals import connection_needs_reauth
from partnerapp.smartbusiness import oauth
from partnerapp.smartbusiness.client import ApiCall, SmartBusinessClient
from partnerapp.smartbusiness.errors import InvalidGrant, SmartBusinessError, Unauthorized
from partnerapp.smartbusiness.session import ApiConfig

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ConnectionUnusable(Exception):
    """The connection cannot call the API until a person acts (reconnect)."""

    def __init__(self, connection: Connection, message: str = "") -> None:
        super().__init__(message or connection.last_error or connection.get_status_display())
        self.connection = connection


def api_config(
    base_url: str | None = None, *, client_id: str = "", client_secret: str = ""
) -> ApiConfig:
    """partnerapp's registration, or another client's (an own account's) when given."""
    return ApiConfig(
        base_url=base_url or settings.SMARTBUSINESS_BASE_URL,
        client_id=client_id or settings.SMARTBUSINESS_CLIENT_ID,
        client_secret=client_secret or settings.SMARTBUSINESS_CLIENT_SECRET,
        connect_timeout=settings.SMARTBUSINESS_CONNECT_TIMEOUT,
        read_timeout=settings.SMARTBUSINESS_READ_TIMEOUT,
        allow_http=settings.SMARTBUSINESS_ALLOW_HTTP,
    )


@sensitive_variables("tokens")
def connection_refresh(
    *, connection_id: int, rejected_access_ciphertext: str = "", force: bool = False
) -> Connection:
    """A connection whose access token is fresh, refreshing it if nobody else did.

    `rejected_access_ciphertext` is the (encrypted) token the provider just refused
    with 401: refresh even if it has not expired yet, unless it was already replaced.
    `force` refreshes regardless (the daily health check). Raises ConnectionUnusable
    when the provider refuses the refresh token; transient provider errors propagate.
    """
    with connection_lock(connection_id):
        connection = Connection.objects.get(pk=connection_id)
        if connection.status != Connection.Status.ACTIVE:
            raise ConnectionUnusable(connection)
        rejected = rejected_access_ciphertext == connection.access_token_ciphertext
        if not (force or rejected or connection.access_token_expires_soon()):
            return connection  # a sibling refreshed while we waited for the lock
        started = time.monotonic()
        try:
            tokens = _new_tokens(connection)
        except SmartBusinessError as exc:
            _log_token_call(connection, started, status=exc.status, request_id=exc.request_id)
            own_refused = connection.is_own_account and isinstance(exc, Unauthorized)
            if not (isinstance(exc, InvalidGrant) or own_refused):
                raise  # transient: the stored pair is still good, try again later
            _mark_needs_reauth(connection, exc)
            dead = connection
        else:
            _log_token_call(connection, started, status=201, request_id=tokens.request_id)
            connection.store_tokens(
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token or connection.refresh_token,
                expires_at=datetime.fromtimestamp(tokens.expires_at, tz=UTC),
            )
            connection.last_refreshed_at = connection.health_checked_at = timezone.now()
            connection.last_error = ""
            connection.save()
            return connection
    # Outside the lock: the needs_reauth state is committed; now tell whoever listens.
    connection_needs_reauth.send(sender=Connection, connection=dead)
    notifications.needs_reauth_notify(dead)
    raise ConnectionUnusable(dead)


def _log_token_call(connection: Connection, started: float, *, status, request_id: str) -> None:
    """Token calls go in the request log too: support asks for their X-Request-Id."""
    requestlog.entry_record(
        connection.pk,
        ApiCall(
            method="POST",
            path="/auth/access-tokens",
            status=status,
            duration=time.monotonic() - started,
            request_id=request_id,
            rate_limit=None,
        ),
        job_id=None,
        job_item_id=None,
    )


def _new_tokens(connection: Connection) -> oauth.TokenSet:
    """A new pair by the connection's grant: the single-use refresh token, or (own
    accounts) the client credentials again."""
    if connection.is_own_account:
        config = api_config(
            connection.base_url,
            client_id=connection.own_client_id,
            client_secret=connection.own_client_secret,
        )
        return oauth.client_credentials(config, scope=connection.scope_list)
    return oauth.refresh(
        api_config(connection.base_url),
        refresh_token=connection.refresh_token,
        scope=connection.scope_list,
    )


def _mark_needs_reauth(connection: Connection, exc: Unauthorized) -> None:
    logger.warning(
        "connection %s: refresh refused (%s, request %s)",
        connection.pk,
        exc.error_type,
        exc.request_id,
    )
    connection.status = Connection.Status.NEEDS_REAUTH
    connection.health_checked_at = timezone.now()
    if connection.is_own_account:
        connection.last_error = _(
            "The provider refused the stored client credentials (%(error)s). Enter the "
            "account's client id and secret again."
        ) % {"error": exc.error_type or exc.message}
    else:
        connection.last_error = _(
            "The provider refused the stored refresh token (invalid_grant): the grant was "
            "revoked or the token was already used. The account owner must connect the "
            "account again."
        )
    connection.save(update_fields=["status", "last_error", "health_checked_at", "updated_at"])


@dataclass(frozen=True)
class CallContext:
    """What a call is for, recorded in the request log next to it."""

    job_id: int | None = None
    job_item_id: int | None = None
    max_wait: float = 5.0  # seconds a call may wait for a rate-limit permit


INTERACTIVE = CallContext()


def connection_client(
    connection: Connection, context: CallContext = INTERACTIVE
) -> SmartBusinessClient:
    """An API client with a fresh access token, paced and logged for this connection."""
    return _client(_fresh(connection), context)


def connection_call(
    connection: Connection,
    call: Callable[[SmartBusinessClient], T],
    context: CallContext = INTERACTIVE,
) -> T:
    """Run `call` with a fresh client; after a 401 refresh once and try again.

    A 401 means the provider refused the token before doing anything, so even an
    action is safe to repeat once. Raises ConnectionUnusable when the connection
    needs a person (reconnect), PacingWait when the rate budget is spent for longer
    than `context.max_wait`, and the client's typed errors otherwise.
    """
    connection = _fresh(connection)
    try:
        return call(_client(connection, context))
    except Unauthorized:
        pass
    refreshed = connection_refresh(
        connection_id=connection.pk,
        rejected_access_ciphertext=connection.access_token_ciphertext,
    )
    return call(_client(refreshed, context))


def _fresh(connection: Connection) -> Connection:
    if connection.status != Connection.Status.ACTIVE:
        raise ConnectionUnusable(connection)
    if connection.access_token_expires_soon():
        return connection_refresh(connection_id=connection.pk)
    return connection


class _CachedClient:
    """One client per connection and thread, kept while its token is the stored one:
    its HTTP session keeps the connection to the provider alive between calls."""

    def __init__(self, connection: Connection, key: tuple) -> None:
        self.key = key
        self.context = INTERACTIVE
        self.window = pacing.WindowWatch()
        self.sent_at = timezone.now()
        connection_id = connection.pk

        def before_call(method: str, path: str) -> None:
            pacing.pace(connection_id, max_wait=self.context.max_wait)
            self.sent_at = timezone.now()

        def after_call(call: ApiCall) -> None:
            if call.rate_limit and self.window.worth_recording(call.rate_limit):
                pacing.window_record(connection_id, call.rate_limit, sent_at=self.sent_at)
            requestlog.entry_record(
                connection_id,
                call,
                job_id=self.context.job_id,
                job_item_id=self.context.job_item_id,
            )

        self.client = SmartBusinessClient(
            api_config(connection.base_url),
            connection.access_token,
            before_call=before_call,
            after_call=after_call,
        )


_clients = threading.local()


def _client(connection: Connection, context: CallContext) -> SmartBusinessClient:
    cache: dict[int, _CachedClient] = _clients.__dict__.setdefault("by_connection", {})
    key = (connection.base_url, connection.access_token_ciphertext)
    cached = cache.get(connection.pk)
    if cached is None or cached.key != key:
        if cached is not None:
            cached.client.close()
        cached = cache[connection.pk] = _CachedClient(connection, key)
    cached.context = context
    return cached.client


def connection_disconnect(connection: Connection) -> None:
    """Forget the tokens (and an own account's secret); the connection and history stay.

    Its unfinished jobs pause now, as for a lost grant, rather than at their next call;
    connecting the account again resumes them."""
    connection.status = Connection.Status.DISCONNECTED
    connection.access_token_ciphertext = ""
    connection.refresh_token_ciphertext = ""
    connection.own_client_secret_ciphertext = ""
    connection.access_token_expires_at = None
    connection.save()
    connection_needs_reauth.send(sender=Connection, connection=connection)


def connections_refresh_idle(*, idle_hours: int = 24) -> dict[str, int]:
    """Refresh active connections not refreshed for `idle_hours` and record their health.

    Refresh tokens never expire but can be revoked; trying once a day finds a revoked
    grant before a job does, and keeps the chain of single-use tokens short-lived.
    """
    cutoff = timezone.now() - timedelta(hours=idle_hours)
    idle = Connection.objects.filter(status=Connection.Status.ACTIVE).filter(
        Q(last_refreshed_at__lt=cutoff) | Q(last_refreshed_at__isnull=True, created_at__lt=cutoff)
    )
    outcome = {"refreshed": 0, "needs_reauth": 0, "failed": 0}
    for connection_id in idle.values_list("pk", flat=True):
        try:
            connection_refresh(connection_id=connection_id, force=True)
            outcome["refreshed"] += 1
        except ConnectionUnusable:
            outcome["needs_reauth"] += 1
        except SmartBusinessError as exc:  # transient: try again at the next run
            Connection.objects.filter(pk=connection_id).update(
                health_checked_at=timezone.now(), last_error=_("Refresh failed: %s") % exc.message
            )
            outcome["failed"] += 1
    return outcome

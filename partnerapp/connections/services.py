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

from partnerapp.connections import crypto, notifications, pacing, requestlog, states
from partnerapp.connections.locks import connection_lock
from partnerapp.connections.models import ClientRefusal, Connection
from partnerapp.connections.signals import connection_needs_reauth, connection_reauthorized
from partnerapp.organizations import audit
from partnerapp.smartbusiness import oauth
from partnerapp.smartbusiness.client import ApiCall, SmartBusinessClient
from partnerapp.smartbusiness.errors import (
    ClientRefused,
    GrantRefused,
    ScopeRefused,
    SmartBusinessError,
    TokenRefused,
    Unauthorized,
)
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


class ClientCredentialsRefused(SmartBusinessError):
    """The provider refused partnerapp's own client id/secret (`invalid_client`).

    Not the connection's fault and not the owner's: nothing is marked needs_reauth;
    the operator must fix SMARTBUSINESS_CLIENT_ID/SECRET. Callers wait and try again
    (a view shows it like any provider error; the engine puts the item back).
    """

    transient = True
    RETRY_AFTER = 60.0  # seconds


def client_refused_sentence() -> str:
    return _(
        "SmartBusiness refuses partnerapp's client id/secret (invalid_client). The operator "
        "must check SMARTBUSINESS_CLIENT_ID and SMARTBUSINESS_CLIENT_SECRET; jobs wait."
    )


@sensitive_variables("tokens")
def connection_refresh(
    *, connection_id: int, rejected_access_ciphertext: str = "", force: bool = False
) -> Connection:
    """A connection whose access token is fresh, refreshing it if nobody else did.

    `rejected_access_ciphertext` is the (encrypted) token the provider just refused
    with 401: refresh if it is still the stored one, even before it expires; if it
    was already replaced, the stored one is returned (at most one refresh per
    rejected token, across processes). `force` refreshes regardless (the daily health
    check). Raises ConnectionUnusable when the provider refuses the grant,
    ClientCredentialsRefused when it refuses partnerapp itself; transient provider
    errors propagate.
    """
    refused: SmartBusinessError | None = None
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
            if _partner_refused(connection, exc):
                refused = exc  # recorded after the lock: a raise here would roll it back
            elif not _grant_dead(connection, exc):
                raise  # transient: the stored pair is still good, try again later
            else:
                _mark_needs_reauth(connection, exc)
                dead = connection
        else:
            _log_token_call(connection, started, status=201, request_id=tokens.request_id)
            _store_refreshed(connection, tokens)
            return connection
    if refused is not None:
        client_refusal_record(connection.base_url, refused)
        raise ClientCredentialsRefused(
            client_refused_sentence(), status=refused.status, request_id=refused.request_id
        ) from refused
    # Outside the lock: the needs_reauth state is committed; now tell whoever listens.
    connection_needs_reauth.send(sender=Connection, connection=dead)
    notifications.needs_reauth_notify(dead)
    raise ConnectionUnusable(dead)


@sensitive_variables("tokens")
def _store_refreshed(connection: Connection, tokens: oauth.TokenSet) -> None:
    """Write the new pair and nothing else (a concurrent writer of other fields wins)."""
    connection.store_tokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token or connection.refresh_token,
        expires_at=datetime.fromtimestamp(tokens.expires_at, tz=UTC),
        lifetime=tokens.lifetime,
    )
    now = timezone.now()
    fields = {name: getattr(connection, name) for name in Connection.TOKEN_FIELDS}
    # Conditional on still being active: a disconnect meanwhile drops the new pair.
    states.connection_move(
        connection,
        target=Connection.Status.ACTIVE,
        sources={Connection.Status.ACTIVE},
        **fields,
        last_refreshed_at=now,
        health_checked_at=now,
        last_error="",
    )
    if not connection.is_own_account:
        client_refusal_clear(connection.base_url)


def _partner_refused(connection: Connection, exc: SmartBusinessError) -> bool:
    """`invalid_client` for partnerapp's own registration (not an own account's client)."""
    return isinstance(exc, ClientRefused) and not connection.is_own_account


def _grant_dead(connection: Connection, exc: SmartBusinessError) -> bool:
    """Whether the refusal means a person must connect again (DESIGN §2)."""
    if isinstance(exc, GrantRefused | ScopeRefused):
        return True
    own_refused = isinstance(exc, ClientRefused | Unauthorized | TokenRefused)
    return connection.is_own_account and own_refused and not exc.transient


def client_refusal_record(base_url: str, exc: SmartBusinessError) -> None:
    detail = " — ".join(part for part in (exc.message, getattr(exc, "hint", "")) if part)
    logger.error(
        "SmartBusiness at %s refuses partnerapp's client id %s (invalid_client, request %s): "
        "check SMARTBUSINESS_CLIENT_ID and SMARTBUSINESS_CLIENT_SECRET",
        base_url,
        settings.SMARTBUSINESS_CLIENT_ID,
        exc.request_id,
    )
    ClientRefusal.objects.update_or_create(
        base_url=base_url,
        defaults={
            "client_id": settings.SMARTBUSINESS_CLIENT_ID,
            "refused_at": timezone.now(),
            "request_id": exc.request_id,
            "detail": detail[:300],
        },
    )


def client_refusal_clear(base_url: str) -> None:
    """Our credentials just worked at `base_url`: the operator alert goes."""
    ClientRefusal.objects.filter(base_url=base_url).delete()


def client_refusals() -> list[ClientRefusal]:
    return list(ClientRefusal.objects.order_by("base_url"))


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


def _mark_needs_reauth(connection: Connection, exc: SmartBusinessError) -> None:
    error_type = getattr(exc, "error_type", "") or exc.message
    hint = getattr(exc, "hint", "")
    logger.warning(
        "connection %s: refresh refused (%s: %s, request %s)",
        connection.pk,
        error_type,
        hint or "-",
        exc.request_id,
    )
    moved = states.connection_move(
        connection,
        target=Connection.Status.NEEDS_REAUTH,
        sources={Connection.Status.ACTIVE},
        last_error=refusal_sentence(connection, exc),
        health_checked_at=timezone.now(),
    )
    if moved:
        with audit.by_system():
            audit.record(
                "connection.needs_reauth",
                organization=connection.organization_id,
                obj=connection,
                before={"status": Connection.Status.ACTIVE},
                after={"status": Connection.Status.NEEDS_REAUTH, "error": error_type},
            )


def refusal_sentence(connection: Connection, exc: SmartBusinessError) -> str:
    """What a person reads on the connection: what the provider said, what to do."""
    said = " — ".join(part for part in (exc.message, getattr(exc, "hint", "")) if part)
    values = {"said": said, "error": getattr(exc, "error_type", "") or exc.status}
    if connection.is_own_account:
        return (
            _(
                "The provider refused the stored client credentials (%(error)s: %(said)s). Enter "
                "the account's client id and secret again."
            )
            % values
        )
    if isinstance(exc, ScopeRefused):
        return (
            _(
                "The provider refused the scopes of this connection (%(error)s: %(said)s). The "
                "account owner must connect the account again and grant them."
            )
            % values
        )
    return (
        _(
            "The provider refused the stored refresh token (%(said)s): the grant was revoked, "
            "has expired or the token was already used. The account owner must connect the "
            "account again."
        )
        % values
    )


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
    """Run `call` with a fresh client; after a 401 take the stored token (refreshing it
    if it is the one refused) and try again.

    A 401 means the provider refused the token before doing anything, so even an
    action is safe to repeat. The stored token may have been replaced by a sibling's
    refresh (which also revokes the old one) or may have died too: each refused token
    is refreshed at most once, across processes. `connection` is updated in place to
    the stored token, so a caller holding it for long never works with a stale one.

    Raises ConnectionUnusable when the connection needs a person (reconnect),
    ClientCredentialsRefused when the provider refuses partnerapp itself, PacingWait
    when the rate budget is spent for longer than `context.max_wait`, Unauthorized
    when even fresh tokens are refused, and the client's typed errors otherwise.
    """
    current = _fresh(connection)
    for _retry in range(UNAUTHORIZED_RETRIES):
        try:
            return call(_client(current, context))
        except Unauthorized:
            current = connection_refresh(
                connection_id=current.pk,
                rejected_access_ciphertext=current.access_token_ciphertext,
            )
            _adopt(connection, current)
    return call(_client(current, context))


UNAUTHORIZED_RETRIES = 2  # the stored token, then one refreshed for it


def _fresh(connection: Connection) -> Connection:
    if connection.status != Connection.Status.ACTIVE:
        raise ConnectionUnusable(connection)
    if connection.access_token_expires_soon():
        _adopt(connection, connection_refresh(connection_id=connection.pk))
    return connection


def _adopt(target: Connection, source: Connection) -> None:
    """Bring a long-held instance up to the stored token (and status)."""
    if target is source:
        return
    for name in (*Connection.TOKEN_FIELDS, "status", "last_error", "last_refreshed_at"):
        setattr(target, name, getattr(source, name))


class _CachedClient:
    """One client per connection and thread, kept while its token is the stored one:
    its HTTP session keeps the connection to the provider alive between calls."""

    def __init__(self, connection: Connection, key: tuple) -> None:
        self.key = key
        self.context = INTERACTIVE
        self.window = pacing.window_watch(connection.pk)
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
    with connection_lock(connection.pk):  # a refresh in flight cannot write tokens back
        previous = connection.status
        moved = states.connection_move(
            connection,
            target=Connection.Status.DISCONNECTED,
            sources={Connection.Status.ACTIVE, Connection.Status.NEEDS_REAUTH},
            access_token_ciphertext="",
            refresh_token_ciphertext="",
            own_client_secret_ciphertext="",
            access_token_expires_at=None,
            access_token_lifetime=None,
        )
    if moved:
        audit.record(
            "connection.disconnect",
            organization=connection.organization_id,
            obj=connection,
            before={"status": previous},
            after={"status": Connection.Status.DISCONNECTED},
        )
        connection_needs_reauth.send(sender=Connection, connection=connection)


class ActivationRefused(Exception):
    """The tokens were not stored; the message says why, for the user."""


@dataclass(frozen=True)
class OwnClient:
    """An own account's API client (the client-credentials grant)."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"OwnClient(client_id={self.client_id!r})"


@sensitive_variables("tokens", "own_client")
def connection_activate(
    *,
    user,
    organization_id: int,
    base_url: str,
    owner: dict,
    tokens: oauth.TokenSet,
    reconnect_id: int | None = None,
    own_client: OwnClient | None = None,
) -> tuple[Connection, bool]:
    """Store a new token set for the owner's account and make the connection active.

    The one way into `active`: consent, reconnect and own accounts. Returns the
    connection and whether it was created. Jobs paused for it resume (the
    `connection_reauthorized` signal) when it was not active before or is reconnected.
    """
    account_id = str(owner.get("id", ""))
    name = " ".join(part for part in (owner.get("name"), owner.get("surname")) if part)
    connection, created = _connection_for(
        user=user,
        organization_id=organization_id,
        base_url=base_url,
        account_id=account_id,
        name=name,
        reconnect_id=reconnect_id,
    )
    if own_client is None and connection.is_own_account and not created:
        raise ActivationRefused(_("This account is connected with its own client credentials."))
    if own_client is not None and not created and not connection.is_own_account:
        raise ActivationRefused(_("This account is already connected through the owner's consent."))
    with connection_lock(connection.pk):
        connection.refresh_from_db()
        previous = connection.status
        connection.store_tokens(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=datetime.fromtimestamp(tokens.expires_at, tz=UTC),
            lifetime=tokens.lifetime,
        )
        changes = {name: getattr(connection, name) for name in Connection.TOKEN_FIELDS}
        if own_client is not None:
            changes.update(
                grant=Connection.Grant.OWN_ACCOUNT,
                own_client_id=own_client.client_id,
                own_client_secret_ciphertext=crypto.encrypt(own_client.client_secret),
            )
        states.connection_move(
            connection,
            target=Connection.Status.ACTIVE,
            **changes,
            owner_name=name or connection.owner_name,
            scopes=" ".join(tokens.scope),
            last_error="",
            last_refreshed_at=timezone.now(),
        )
    _record_activation(connection, user=user, created=created, previous=previous, own=own_client)
    if previous == Connection.Status.NEEDS_REAUTH:
        from partnerapp.webhooks import events  # lazily: webhooks imports connections

        events.connection_recovered(connection)
    if own_client is None:
        client_refusal_clear(base_url)
    if previous != Connection.Status.ACTIVE or reconnect_id:
        connection_reauthorized.send(sender=Connection, connection=connection)
    return connection, created


def _record_activation(
    connection: Connection, *, user, created: bool, previous: str, own: OwnClient | None
) -> None:
    """connect (a new account), reconnect (an existing one) or own_account_add."""
    action = "connection.reconnect"
    if created:
        action = "connection.own_account_add" if own is not None else "connection.connect"
    audit.record(
        action,
        organization=connection.organization_id,
        obj=connection,
        before={} if created else {"status": previous},
        after={"status": connection.status, "grant": connection.grant, "scopes": connection.scopes},
        actor=user,
    )


def _connection_for(
    *,
    user,
    organization_id: int,
    base_url: str,
    account_id: str,
    name: str,
    reconnect_id: int | None,
) -> tuple[Connection, bool]:
    if reconnect_id is None:
        return Connection.objects.get_or_create(
            organization_id=organization_id,
            base_url=base_url,
            account_id=account_id,
            defaults={"owner_name": name, "user": user},
        )
    connection = Connection.objects.filter(pk=reconnect_id, organization_id=organization_id).first()
    if connection is None:
        raise ActivationRefused(_("The connection to reconnect no longer exists."))
    if connection.account_id != account_id:
        raise ActivationRefused(
            _(
                "You signed in to a different SmartBusiness account (%(name)s) than the one "
                "to reconnect (%(expected)s). Nothing was changed."
            )
            % {"name": name, "expected": connection.owner_name}
        )
    return connection, False


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
        except ClientCredentialsRefused:  # ours, not the connection's: the others fare alike
            outcome["failed"] += 1
            break
        except SmartBusinessError as exc:  # transient: try again at the next run
            Connection.objects.filter(pk=connection_id).update(
                health_checked_at=timezone.now(), last_error=_("Refresh failed: %s") % exc.message
            )
            outcome["failed"] += 1
    return outcome

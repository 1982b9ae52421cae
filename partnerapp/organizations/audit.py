"""The audit log: who did what, when, from where, on which object, and what changed.

Services call `record()` right after a state change; the request's actor, IP, user
agent and request id come from `AuditContextMiddleware` (a context variable), so no
service needs the request. Outside a request (Celery tasks, schedules, commands) the
actor is the system, "partnerapp", unless the caller names one.

Events are append-only from the application (see `AuditEvent`); `audit_purge()` is
the only way rows leave, after each organization's `audit_retention_days`.

`redact()` runs on every summary before it is stored: no key that names a token,
secret, password, ciphertext or PKCE verifier reaches the table, at any depth.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import ipaddress
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerapp.organizations.models import AuditEvent, Organization

SYSTEM = "partnerapp"  # actor_label of what the application did on its own
ANONYMOUS = "anonymous"  # a visitor without an account (e.g. a client opening a connect link)
SECRET_WORDS = ("token", "secret", "password", "ciphertext", "code_verifier")
MAX_TEXT = 200  # longer strings (an e-mail body) are cut: the log is a summary
MAX_USER_AGENT = 300

# Every action code with what the log page calls it. A code missing here still records
# and shows as the code itself; add it here to give it a name and a place in the filter.
ACTIONS = {
    "auth.login": _("Signed in"),
    "auth.login_failed": _("Sign-in failed"),
    "auth.logout": _("Signed out"),
    "organization.create": _("Organization created"),
    "organization.settings": _("Settings changed"),
    "organization.delete": _("Organization deleted"),
    "invitation.create": _("Invitation sent"),
    "invitation.revoke": _("Invitation withdrawn"),
    "invitation.accept": _("Invitation accepted"),
    "member.role_change": _("Role changed"),
    "member.remove": _("Member removed"),
    "member.leave": _("Member left"),
    "member.notify": _("E-mail choices changed"),
    "connection.connect": _("Account connected"),
    "connection.reconnect": _("Account reconnected"),
    "connection.own_account_add": _("Own account added"),
    "connection.disconnect": _("Account disconnected"),
    "connection.needs_reauth": _("Account needs re-authorization"),
    "connection.key_rotation": _("Token encryption key rotated"),
    "connect_link.create": _("Connect link created"),
    "connect_link.revoke": _("Connect link withdrawn"),
    "connect_link.open": _("Connect link opened"),
    "connect_link.complete": _("Account connected through a link"),
    "connect_link.deny": _("Connect link declined at the provider"),
    "job.create": _("Job created"),
    "job.confirm": _("Job confirmed"),
    "job.pause": _("Job paused"),
    "job.resume": _("Job resumed"),
    "job.cancel": _("Job cancelled"),
    "job.expire": _("Unconfirmed draft expired"),
    "job.rename": _("Job renamed"),
    "job.retry": _("Failed items retried"),
    "job.resend": _("Items sent again"),
    "job.recipient": _("Recipient corrected and item sent again"),
    "job.export": _("Job results downloaded"),
    "schedule.create": _("Schedule created"),
    "schedule.update": _("Schedule changed"),
    "schedule.toggle": _("Schedule switched on or off"),
    "schedule.delete": _("Schedule deleted"),
    "import.upload": _("Bank file uploaded"),
    "import.confirm": _("Payments confirmed"),
    "import.release": _("Bank entry handed back"),
    "import.rematch": _("Bank file matched again"),
    "api_key.create": _("API key created"),
    "api_key.revoke": _("API key revoked"),
    "api.call": _("API call"),
    "webhook.create": _("Webhook endpoint added"),
    "webhook.update": _("Webhook endpoint changed"),
    "webhook.rotate": _("Webhook secret rotated"),
    "webhook.delete": _("Webhook endpoint deleted"),
    "webhook.redeliver": _("Webhook event sent again"),
    "webhook.disable": _("Webhook endpoint switched off after failures"),
}

_request: ContextVar[Any] = ContextVar("partnerapp_audit_request", default=None)


class AuditContextMiddleware:
    """Makes the current request (its user, IP, user agent, id) known to `record()`.

    The request itself is kept rather than its user, because sign-in and sign-out
    change `request.user` halfway through the request.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with acting_in(request):
            return self.get_response(request)


@contextmanager
def acting_in(request) -> Iterator[None]:
    """Record everything inside the block as done through `request` (None: by the system)."""
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


def by_system() -> contextlib.AbstractContextManager[None]:
    """Record the block as done by partnerapp itself, even inside a person's request
    (a refused refresh found while someone browses is not that person's doing)."""
    return acting_in(None)


def record(
    action: str,
    *,
    organization: Organization | int,
    obj: models.Model | None = None,
    label: str = "",
    before: dict | None = None,
    after: dict | None = None,
    actor=None,
) -> AuditEvent | None:
    """Append one event to `organization`'s log and return it.

    `action` is a dotted code ("job.create"); `obj` the object acted on (its type,
    id and `label` or `str()` are kept, so the row outlives it); `before`/`after`
    hold only the fields that changed and are redacted. Returns None, recording
    nothing, when both summaries were given and are equal: nothing changed.
    """
    before, after = redact(before or {}), redact(after or {})
    if before and before == after:
        return None
    request = _request.get()
    if actor is None or not actor.is_authenticated:  # an AnonymousUser is nobody
        actor = _request_user(request)
    return AuditEvent.objects.create(
        organization_id=getattr(organization, "pk", organization),
        actor=actor,
        actor_label=_actor_label(actor, request),
        ip=_client_ip(request),
        user_agent=_user_agent(request),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_label=_cut(label or (str(obj) if obj is not None else "")),
        before=before,
        after=after,
        request_id=getattr(request, "request_id", "") or "",
    )


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """The (before, after) pair reduced to the keys whose values differ."""
    keys = [key for key in {*before, *after} if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields of `instance` as plain values (a foreign key as its id)."""
    return {name: _plain(getattr(instance, _attname(instance, name))) for name in fields}


def redact(value: Any) -> Any:
    """`value` without any key naming a secret, at any depth, as JSON-ready values.

    Texts longer than MAX_TEXT characters are cut: a summary never holds an e-mail body.
    """
    if isinstance(value, Mapping):
        return {str(k): redact(v) for k, v in value.items() if not _is_secret(str(k))}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    return _plain(value)


def audit_purge(*, now: datetime.datetime | None = None) -> int:
    """Remove each organization's events older than its `audit_retention_days`.

    The one way rows leave the log (the QuerySet refuses `delete()`); run daily by
    celery beat. Returns how many rows were removed.
    """
    now = now or timezone.now()
    removed = 0
    for organization_id, days in Organization.objects.values_list("pk", "audit_retention_days"):
        old = AuditEvent.objects.filter(
            organization_id=organization_id, created_at__lt=now - datetime.timedelta(days=days)
        )
        removed += old._raw_delete(old.db)
    return removed


# -- reading ---------------------------------------------------------------------------------


def action_label(code: str) -> str:
    return str(ACTIONS.get(code, code))


def events_for(
    organization: Organization | int,
    *,
    action: str = "",
    actor: str = "",
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    search: str = "",
) -> QuerySet[AuditEvent]:
    """The organization's events, newest first, filtered. `actor` is a user id or SYSTEM;
    `search` finds the text in the object, the actor or the action (its code or name)."""
    events = AuditEvent.objects.filter(organization_id=getattr(organization, "pk", organization))
    if action:
        events = events.filter(action=action)
    if actor == SYSTEM:
        events = events.filter(actor=None, actor_label=SYSTEM)
    elif actor:
        events = events.filter(actor_id=actor)
    if since:
        events = events.filter(created_at__gte=since)
    if until:
        events = events.filter(created_at__lt=until)
    if search:
        events = events.filter(_matching(search))
    return events.order_by("-created_at", "-pk")


def _matching(search: str) -> Q:
    named = [code for code, label in ACTIONS.items() if search.lower() in str(label).lower()]
    return (
        Q(object_label__icontains=search)
        | Q(actor_label__icontains=search)
        | Q(action__icontains=search)
        | Q(action__in=named)
    )


def change_rows(event: AuditEvent) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each field the event's summaries name, in order."""
    before, after = event.before or {}, event.after or {}
    keys = [*before, *(key for key in after if key not in before)]
    return [(key, before.get(key), after.get(key)) for key in keys]


# -- helpers ---------------------------------------------------------------------------------


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SECRET_WORDS)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return redact(value)
    return _cut(str(value))  # a model instance, an enum member, ...


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _attname(instance: models.Model, name: str) -> str:
    field = instance._meta.get_field(name)
    return getattr(field, "attname", name)


def _request_user(request):
    if getattr(request, "api_key", None) is not None:  # the partner API: a key acts, no person
        return None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _actor_label(actor, request) -> str:
    if actor is not None:
        return actor.email or actor.get_username()
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return api_key.label  # "pa_live_<prefix>": the key, never its secret
    return ANONYMOUS if request is not None else SYSTEM


def _client_ip(request) -> str | None:
    # REMOTE_ADDR: behind the production proxy it is the proxy's job to set it
    # (a forwarded-for header is the client's word and could be forged). Anything that
    # is no address (a unix socket's name) is left out rather than failing the action.
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _user_agent(request) -> str:
    if request is None:
        return ""
    return request.META.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT]

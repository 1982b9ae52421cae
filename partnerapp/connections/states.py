"""The connection's state machine. Every status change of a connection goes through here.

    active ──refresh refused──▶ needs_reauth ──consent again──▶ active
      │  ▲                          │
      └──┼──── disconnect ──────────┴──▶ disconnected ──connect again──▶ active
         └── consent again while active (new tokens, maybe new scopes)

Each move is one conditional UPDATE (`WHERE status IN <sources>`) that writes the
status and only the fields the caller names: a token refresh never writes back a
stale copy of anything else.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from partnerapp.connections.models import Connection

Status = Connection.Status

TRANSITIONS: dict[str, set[str]] = {
    Status.ACTIVE: {Status.ACTIVE, Status.NEEDS_REAUTH, Status.DISCONNECTED},
    Status.NEEDS_REAUTH: {Status.ACTIVE, Status.DISCONNECTED},
    Status.DISCONNECTED: {Status.ACTIVE},
}


class InvalidTransition(Exception):
    pass


def connection_move(
    connection: Connection, *, target: str, sources: set[str] | None = None, **changes: Any
) -> bool:
    """Move `connection` to `target` if it is still in one of `sources` (default: its
    current status), writing `changes` with it. Returns False, changing nothing, when
    another process moved it first; on success the instance is updated too."""
    sources = sources or {connection.status}
    for source in sources:
        if target not in TRANSITIONS[source]:
            raise InvalidTransition(f"connection {source} → {target}")
    changes["updated_at"] = timezone.now()
    moved = Connection.objects.filter(pk=connection.pk, status__in=sources).update(
        status=target, **changes
    )
    if moved:
        connection.status = target
        for field, value in changes.items():
            setattr(connection, field, value)
    return bool(moved)


def connection_write(connection: Connection, **changes: Any) -> None:
    """Write only `changes` (no status change) to the row and the instance."""
    changes["updated_at"] = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(**changes)
    for field, value in changes.items():
        setattr(connection, field, value)

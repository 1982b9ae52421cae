"""What /health/ reports: the database, the broker, and a recent worker heartbeat.

Each check returns a `Check`; none raises. Details never include a URL, host name
or exception text (the endpoint is public), only what an operator needs to act.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from partnerapp.health.models import WorkerHeartbeat


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, **self.data}


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return Check(ok=False, detail=f"database unreachable ({type(exc).__name__})")
    return Check(ok=True, detail=connection.vendor)


def check_broker() -> Check:
    """Open (and close) a connection to the configured broker, with a short timeout."""
    from partnerapp.celery import app

    timeout = settings.HEALTH_BROKER_TIMEOUT_SECONDS
    try:
        with app.connection_for_write(
            url=settings.CELERY_BROKER_URL, connect_timeout=timeout
        ) as broker:
            broker.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
            transport = broker.transport.driver_type
    except Exception as exc:  # any failure to connect is the answer
        return Check(ok=False, detail=f"broker unreachable ({type(exc).__name__})")
    return Check(ok=True, detail=transport)


def check_worker() -> Check:
    """At least one worker wrote its heartbeat within HEALTH_WORKER_STALE_SECONDS."""
    stale_after = settings.HEALTH_WORKER_STALE_SECONDS
    now = timezone.now()
    try:
        latest = WorkerHeartbeat.objects.order_by("-last_seen_at").first()
        fresh = WorkerHeartbeat.objects.filter(
            last_seen_at__gte=now - timedelta(seconds=stale_after)
        ).count()
    except DatabaseError as exc:
        return Check(ok=False, detail=f"cannot read heartbeats ({type(exc).__name__})")
    if latest is None:
        return Check(ok=False, detail="stale: no worker has reported", data={"workers": 0})
    age = round((now - latest.last_seen_at).total_seconds(), 1)
    data = {"workers": fresh, "last_seen_seconds_ago": age}
    if not fresh:
        return Check(ok=False, detail=f"stale: last heartbeat {age:.0f} s ago", data=data)
    return Check(ok=True, detail=f"{fresh} worker(s) alive", data=data)


CHECKS = {"database": check_database, "broker": check_broker, "worker": check_worker}


def health_report(names: list[str]) -> tuple[bool, dict[str, Any]]:
    """Run the named checks; (all passed, the JSON body)."""
    results = {name: CHECKS[name]() for name in names}
    healthy = all(result.ok for result in results.values())
    body = {
        "status": "ok" if healthy else "fail",
        "checks": {name: result.as_dict() for name, result in results.items()},
    }
    return healthy, body

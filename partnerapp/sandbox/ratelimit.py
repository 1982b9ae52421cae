"""The provider's rate limit: a fixed window of calls per (owner, client).

The budget comes from the fault profile in force (default SANDBOX_RATE_LIMIT calls
per SANDBOX_RATE_LIMIT_PERIOD seconds), so it can change while the sandbox runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from partnerapp.sandbox.models import Client, Owner, RateWindow


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    exceeded: bool = False

    @classmethod
    def untouched(cls) -> RateState:
        """For answers given before we know whose budget it is (e.g. a 401)."""
        limit = settings.SANDBOX_RATE_LIMIT
        return cls(limit=limit, remaining=limit, reset=settings.SANDBOX_RATE_LIMIT_PERIOD)


# One statement per call: the window's row is locked only while it is updated, so
# concurrent calls of one account do not queue behind a transaction (RETURNING: PG, SQLite).
COUNT_CALL = """
    UPDATE sandbox_ratewindow
    SET window_start = CASE WHEN window_start <= %s THEN %s ELSE window_start END,
        count = CASE WHEN window_start <= %s THEN 1 ELSE count + 1 END
    WHERE owner_id = %s AND client_id = %s
    RETURNING window_start, count
"""


def take_permit(owner: Owner, client: Client, *, limit: int, period: int) -> RateState:
    """Count one call; `exceeded` when the window's budget was already spent.

    Calls over the budget are counted too (the count may pass the limit): that keeps
    the update a single statement, and "remaining" is never below zero.
    """
    now = timezone.now()
    window_start, count = _count_call(owner, client, now=now, period=period)
    ends = window_start + timedelta(seconds=period)
    return RateState(
        limit=limit,
        remaining=max(0, limit - count),
        reset=max(0, int((ends - now).total_seconds() + 0.999)),
        exceeded=count > limit,
    )


def _count_call(owner: Owner, client: Client, *, now, period: int) -> tuple:
    expired_before = now - timedelta(seconds=period)
    params = [expired_before, now, expired_before, owner.pk, client.pk]
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(COUNT_CALL, params)
            row = cursor.fetchone()
        if row is not None:
            return _aware(row[0]), row[1]
        RateWindow.objects.bulk_create(  # the first call of this (owner, client)
            [RateWindow(owner=owner, client=client, window_start=now, count=0)],
            ignore_conflicts=True,
        )
    raise RuntimeError("the rate window row vanished")


def _aware(value) -> datetime:
    """SQLite hands back text; PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)

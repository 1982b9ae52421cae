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

from partnerapp.sandbox.models import Client, Owner


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


# One statement per call, the first of an (owner, client) included (INSERT … ON CONFLICT
# … RETURNING: PostgreSQL, SQLite >= 3.35): the window's row is locked only while it is
# updated, so concurrent calls of one account do not queue behind a transaction. In the
# SET, the existing row's columns are the values before this update.
COUNT_CALL = """
    INSERT INTO sandbox_ratewindow (owner_id, client_id, window_start, count)
    VALUES (%(owner)s, %(client)s, %(now)s, 1)
    ON CONFLICT (owner_id, client_id) DO UPDATE SET
        window_start = CASE WHEN sandbox_ratewindow.window_start <= %(expired_before)s
                            THEN %(now)s ELSE sandbox_ratewindow.window_start END,
        count = CASE WHEN sandbox_ratewindow.window_start <= %(expired_before)s
                     THEN 1 ELSE sandbox_ratewindow.count + 1 END
    RETURNING window_start, count
"""


def take_permit(owner: Owner, client: Client, *, limit: int, period: int) -> RateState:
    """Count one call; `exceeded` when the window's budget was already spent.

    Calls over the budget are counted too (the count may pass the limit): that keeps
    the update a single statement, and "remaining" is never below zero.
    """
    now = timezone.now()
    params = {
        "owner": owner.pk,
        "client": client.pk,
        "now": now,
        "expired_before": now - timedelta(seconds=period),
    }
    with connection.cursor() as cursor:
        cursor.execute(COUNT_CALL, params)
        window_start, count = cursor.fetchone()
    ends = _aware(window_start) + timedelta(seconds=period)
    return RateState(
        limit=limit,
        remaining=max(0, limit - count),
        reset=max(0, int((ends - now).total_seconds() + 0.999)),
        exceeded=count > limit,
    )


def _aware(value) -> datetime:
    """SQLite hands back text; PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)

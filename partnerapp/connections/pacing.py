"""The one limiter: a per-connection permit count shared by every worker, in the database.

The provider limits calls per account in fixed windows and reports the window in
`X-Rate-Limit-Limit/Remaining/Reset`. We mirror that window in the connection's
RateWindow row (its own row: nothing else writes it, so no lock on the connection
ever waits for pacing):

- taking a permit is one conditional UPDATE (remaining - 1 where remaining > 0 or
  unknown), so concurrent workers on any host never spend more than the window has;
- when our copy of the window has ended, the next permit opens a new one with the
  full limit; the first response of that window tells us when it ends;
- every response lowers our count to what the provider reports (never raises it:
  calls we have permitted may still be in flight and not yet counted there);
- an answer to a call sent before our window opened belongs to the provider's
  previous window and is ignored (its "1 s left" would end our new window early);
- an answer saying the budget is spent moves our reset to the provider's if that is
  later, so our window never reopens before the provider's does.

While the known remaining budget is 0, no call is made until the reset.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import connection as db_connection
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerapp import statements
from partnerapp.connections.models import RateWindow
from partnerapp.smartbusiness.ratelimit import RateLimit

UNKNOWN_WINDOW_POLL = 1.0  # seconds to wait when the budget is spent and the reset unknown


class PacingWait(Exception):
    """The connection's rate budget is spent; try again in `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    def __str__(self) -> str:
        """Said when shown (a page, an API answer), in the reader's language."""
        seconds = max(1, math.ceil(self.retry_after))
        return _(
            "The SmartBusiness rate limit is used up for now; the next call can go in %(s)d s."
        ) % {"s": seconds}


# The permit as one statement, written out: it runs before every call to the provider, and
# building it from ORM expressions (Case/When/F) cost more CPU than the call itself. Every
# SET reads the row as it was, so "ended" means the same in all three.
PERMIT = """
    UPDATE {table} SET
        remaining = CASE WHEN reset_at <= %(now)s THEN {limit} - 1 ELSE remaining - 1 END,
        reset_at = CASE WHEN reset_at <= %(now)s THEN NULL ELSE reset_at END,
        opened_at = CASE WHEN reset_at <= %(now)s THEN %(now)s ELSE opened_at END
    WHERE connection_id = %(connection)s
      AND (reset_at <= %(now)s OR remaining IS NULL OR remaining > 0)
"""


def permit_take(connection_id: int) -> float:
    """Take one permit. Returns 0 when granted, else the seconds until one may be.

    One UPDATE: a window we saw has ended starts again with the full limit; otherwise
    the count goes down by one where there is budget left (or it is unknown; NULL - 1
    stays NULL).
    """
    now = timezone.now()
    if _permit_update(connection_id, now):
        return 0.0
    window = RateWindow.objects.filter(connection_id=connection_id).values("reset_at").first()
    if window is None:  # the connection's first call: the window is unknown, so go
        RateWindow.objects.get_or_create(connection_id=connection_id)
        return 0.0
    if window["reset_at"] is None:
        return UNKNOWN_WINDOW_POLL
    return max(0.05, (window["reset_at"] - now).total_seconds())


def _permit_update(connection_id: int, now: datetime) -> int:
    quote = db_connection.ops.quote_name
    sql = PERMIT.format(table=quote(RateWindow._meta.db_table), limit=quote("limit"))
    params = {"now": db_connection.ops.adapt_datetimefield_value(now), "connection": connection_id}
    with statements.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# Several permits in one statement, all or none, for a work slice that will make several
# calls (`batched`). Only while the window has plenty left (`floor`): near its end the
# permits go one by one, so no slice holds what another could use.
PERMITS = """
    UPDATE {table} SET
        remaining = CASE WHEN reset_at <= %(now)s THEN {limit} - %(n)s ELSE remaining - %(n)s END,
        reset_at = CASE WHEN reset_at <= %(now)s THEN NULL ELSE reset_at END,
        opened_at = CASE WHEN reset_at <= %(now)s THEN %(now)s ELSE opened_at END
    WHERE connection_id = %(connection)s
      AND ((reset_at <= %(now)s AND COALESCE({limit}, %(floor)s) >= %(floor)s)
           OR remaining IS NULL OR remaining >= %(floor)s)
"""
BATCH_FLOOR = 50  # calls left in the window below which permits go one at a time
BATCH_LIFETIME = 1.0  # seconds a slice may hold permits it took together


def permits_take(connection_id: int, n: int) -> bool:
    """Take `n` permits in one UPDATE if the window has at least BATCH_FLOOR (and `n`)
    left; False, taking none, otherwise."""
    quote = db_connection.ops.quote_name
    sql = PERMITS.format(table=quote(RateWindow._meta.db_table), limit=quote("limit"))
    now = db_connection.ops.adapt_datetimefield_value(timezone.now())
    params = {"now": now, "connection": connection_id, "n": n, "floor": max(n, BATCH_FLOOR)}
    with statements.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


class _Batch:
    """The permits a slice took together and has not used yet."""

    def __init__(self, size: int) -> None:
        self.size, self.left, self.until = size, 0, 0.0

    def take(self, connection_id: int) -> bool:
        """One of the batch's permits, taking `size` more when none is left; False when
        the window has too little left for a batch (then permits go one at a time)."""
        now = time.monotonic()
        if self.left and now < self.until:
            self.left -= 1
            return True
        if self.size > 1 and permits_take(connection_id, self.size):
            # Held for a moment only: a permit must be spent in the provider's window it
            # was counted in, and a window may end while a slice runs.
            self.left, self.until = self.size - 1, now + BATCH_LIFETIME
            return True
        self.left = 0
        return False


_batches = threading.local()  # .by_connection: connection id → _Batch of this thread's slice


@contextmanager
def batched(connection_id: int, *, size: int) -> Iterator[None]:
    """Within the block, this thread takes the connection's permits `size` at a time
    (a work slice that will make about `size` calls). Permits left at its end are not
    given back: at most size - 1 per slice, and only while the window has plenty."""
    by_connection = _batches.__dict__.setdefault("by_connection", {})
    by_connection[connection_id] = _Batch(size)
    try:
        yield
    finally:
        by_connection.pop(connection_id, None)


def pace(connection_id: int, *, max_wait: float) -> None:
    """Block until a permit is granted, waiting at most `max_wait` seconds in total.

    Raises PacingWait (nothing was sent) when the wait would be longer: a batch job
    then yields its worker and comes back at the reset instead of sleeping in it.
    """
    batch = _batches.__dict__.get("by_connection", {}).get(connection_id)
    if batch is not None and batch.take(connection_id):
        return
    deadline = time.monotonic() + max_wait
    while True:
        wait = permit_take(connection_id)
        if wait == 0:
            return
        if time.monotonic() + wait > deadline:
            raise PacingWait(wait)
        time.sleep(wait)


class WindowWatch:
    """Which answers are worth folding into the shared window (a write to a hot row).

    Our count already goes down before each call, so an answer only matters when the
    provider may know something we do not: a new window, a budget running low (other
    callers may share it), or a second passed since we last looked. One watch per
    connection and process (`window_watch`), shared by its threads: sixteen threads
    sending for one account write the row once a second, not sixteen times.
    """

    LOW = 50  # calls left from which every answer is recorded
    EVERY = 1.0  # seconds

    def __init__(self) -> None:
        self.recorded_at = float("-inf")
        self.reset = None
        self._lock = threading.Lock()

    def worth_recording(self, rate_limit: RateLimit) -> bool:
        with self._lock:
            now = time.monotonic()
            new_window = self.reset is None or rate_limit.reset > self.reset
            self.reset = rate_limit.reset
            low = rate_limit.remaining <= self.LOW
            if new_window or low or now - self.recorded_at >= self.EVERY:
                self.recorded_at = now
                return True
            return False


_watches: dict[int, WindowWatch] = {}
_watches_lock = threading.Lock()


def window_watch(connection_id: int) -> WindowWatch:
    """The process's watch of the connection's window."""
    with _watches_lock:
        return _watches.setdefault(connection_id, WindowWatch())


# The provider's answer folded into our window, written out like PERMIT: under a small
# budget (60 calls a minute) nearly every answer is recorded (`WindowWatch.LOW`), and the
# ORM's compiling this conditional UPDATE cost more CPU than the call's own statements.
# Every SET and the WHERE read the row as it was. {greatest}/{least}: the vendor's
# two-argument maximum and minimum.
RECORD = """
    UPDATE {table} SET
        {limit} = %(limit)s,
        remaining = {least}(COALESCE(remaining, %(remaining)s), %(remaining)s),
        reset_at = {reset}
    WHERE connection_id = %(connection)s
      AND (opened_at IS NULL OR opened_at <= %(sent_at)s)
      AND (remaining IS NULL OR remaining > %(remaining)s OR reset_at IS NULL
           OR {limit} IS NULL OR {limit} <> %(limit)s{later})
"""


def window_record(connection_id: int, rate_limit: RateLimit, *, sent_at: datetime) -> None:
    """Fold the provider's headers (of a call sent at `sent_at`) into our copy of the window.

    Most answers change nothing (we counted the call down before making it), so the
    row is only written when the provider knows better: fewer writes to the one row
    every worker of the account shares. An answer that says the budget is spent moves
    our reset to the provider's if that is later.
    """
    ops = db_connection.ops
    reset_at = timezone.now() + timedelta(seconds=rate_limit.reset)
    params = {
        "connection": connection_id,
        "limit": rate_limit.limit,
        "remaining": rate_limit.remaining,
        "reset_at": ops.adapt_datetimefield_value(reset_at),
        "sent_at": ops.adapt_datetimefield_value(sent_at),
    }
    with statements.cursor() as cursor:
        cursor.execute(_record_sql(spent=rate_limit.remaining == 0), params)


@functools.cache
def _record_sql(*, spent: bool) -> str:
    postgresql = db_connection.vendor == "postgresql"
    greatest, least = ("GREATEST", "LEAST") if postgresql else ("MAX", "MIN")
    keep = "COALESCE(reset_at, %(reset_at)s)"
    return RECORD.format(
        table=db_connection.ops.quote_name(RateWindow._meta.db_table),
        limit=db_connection.ops.quote_name("limit"),
        least=least,
        reset=f"{greatest}({keep}, %(reset_at)s)" if spent else keep,
        later=" OR reset_at < %(reset_at)s" if spent else "",
    )

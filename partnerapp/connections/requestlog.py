"""The request log: every call to the provider, kept for REQUEST_LOG_RETENTION_DAYS.

A call is logged as it finishes. Inside `batched()` (a job's work slice) the rows are
gathered and written together — every FLUSH_SIZE rows, when the oldest waited
FLUSH_SECONDS, and when the process's last open block ends — rather than one INSERT
per call, which was a fifth of a job's database work, or one per slice. Each row keeps
the time of its call. What a worker killed mid-slice had not written yet (at most about
FLUSH_SECONDS of its calls) is lost to the log only: each item keeps its provider's
X-Request-Id, and an unclear outcome is settled by asking the provider, never from this
log.

How many calls a connection made per hour is kept by the database as the log is
written and purged (triggers of migration 0010 append the change per statement into
RequestLogCount, as jobs/counts.py does for items): the rate charts read a row or a
few per hour shown, never the calls. An hour that gathered many rows is folded into
one when read (`_fold`), and the purge folds the hours it emptied away.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection as database
from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from partnerapp import statements
from partnerapp.connections.models import Connection, RequestLogCount, RequestLogEntry
from partnerapp.smartbusiness.client import ApiCall

STATUS_CLASSES = {"2xx": (200, 299), "4xx": (400, 499), "5xx": (500, 599)}
FLUSH_SIZE = 100  # rows
FLUSH_SECONDS = 1.0
FOLD_AFTER = 20  # rows of one (connection, hour) summed on every read before they are folded
FOLD = "DELETE FROM connections_requestlogcount"
FOLD_RETURNING = "RETURNING connection_id, hour, calls, throttled"
FOLD_INSERT = (
    "INSERT INTO connections_requestlogcount (connection_id, hour, calls, throttled) "
    "VALUES (%s, %s, %s, %s)"
)


# The rows of a batch as one statement of nine arrays (PostgreSQL): the same text for any
# number of rows, bound and prepared on the server (partnerapp/statements.py); Django's
# bulk_create quoted every value of every row into the SQL text in Python.
COLUMNS = (
    "connection_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "request_id",
    "job_id",
    "job_item_id",
    "created_at",
)
INSERT_ROWS = """
    INSERT INTO connections_requestlogentry (connection_id, method, path, status,
        duration_ms, request_id, job_id, job_item_id, created_at)
    SELECT * FROM unnest(
        %s::bigint[], %s::varchar[], %s::varchar[], %s::smallint[], %s::integer[],
        %s::varchar[], %s::bigint[], %s::bigint[], %s::timestamptz[]
    )
"""


class _Pending:
    """The rows of this process's batched calls not written yet (all threads share it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[tuple] = []  # values in the order of COLUMNS
        self.since = 0.0  # monotonic time of the oldest row
        self.local = threading.local()  # .depth: how many `batched()` blocks this thread is in
        self.blocks = 0  # `batched()` blocks open in this process, of every thread

    def add(self, row: tuple) -> bool:
        """Keep `row`; True when the rows are due to be written."""
        with self.lock:
            if not self.rows:
                self.since = time.monotonic()
            self.rows.append(row)
            return self._due()

    def _due(self) -> bool:
        return len(self.rows) >= FLUSH_SIZE or time.monotonic() - self.since >= FLUSH_SECONDS

    def enter(self) -> None:
        with self.lock:
            self.blocks += 1

    def leave(self) -> bool:
        """One block ended; True when the rows are due to be written: the process's
        last open block ended (nobody is left to write them), or they are due anyway."""
        with self.lock:
            self.blocks -= 1
            return bool(self.rows) and (self.blocks == 0 or self._due())

    def take(self) -> list[tuple]:
        with self.lock:
            rows, self.rows = self.rows, []
            return rows


_pending = _Pending()


def entry_record(
    connection_id: int, call: ApiCall, *, job_id: int | None, job_item_id: int | None
) -> None:
    row = (
        connection_id,
        call.method,
        call.path[:300],
        call.status,
        round(call.duration * 1000),
        call.request_id,
        job_id,
        job_item_id,
        timezone.now(),
    )
    if not getattr(_pending.local, "depth", 0):
        RequestLogEntry(**dict(zip(COLUMNS, row, strict=True))).save()
    elif _pending.add(row):
        entries_flush()


@contextmanager
def batched() -> Iterator[None]:
    """Calls logged inside the block are written in batches: every FLUSH_SIZE rows or
    FLUSH_SECONDS, and when the last block open in the process ends. A block that ends
    while others go on (sixteen slices in one worker, each a few items long) leaves its
    rows to them: one INSERT a second per process, not one per slice."""
    _pending.local.depth = getattr(_pending.local, "depth", 0) + 1
    _pending.enter()
    try:
        yield
    finally:
        _pending.local.depth -= 1
        if _pending.leave():
            entries_flush()


def entries_flush() -> int:
    """Write the rows this process gathered (of every thread); returns how many."""
    rows = _pending.take()
    if rows and database.vendor == "postgresql":
        with statements.cursor() as cursor:
            cursor.execute(INSERT_ROWS, [list(values) for values in zip(*rows, strict=True)])
    elif rows:
        RequestLogEntry.objects.bulk_create(
            [RequestLogEntry(**dict(zip(COLUMNS, row, strict=True))) for row in rows]
        )
    return len(rows)


def entries_for(
    connection: Connection, *, status: str = "", request_id: str = ""
) -> QuerySet[RequestLogEntry]:
    """A connection's calls, newest first; `status` is 2xx/4xx/5xx, 'none' or a code."""
    entries = connection.calls.all()
    if status in STATUS_CLASSES:
        low, high = STATUS_CLASSES[status]
        entries = entries.filter(status__gte=low, status__lte=high)
    elif status == "none":
        entries = entries.filter(status__isnull=True)
    elif status.isdigit():
        entries = entries.filter(status=int(status))
    if request_id.strip():
        entries = entries.filter(request_id__icontains=request_id.strip())
    return entries


def entries_purge() -> int:
    """Delete entries older than the retention period; returns how many. The triggers
    take the deleted calls off the hourly counts; the hours left empty are folded away."""
    cutoff = timezone.now() - timedelta(days=settings.REQUEST_LOG_RETENTION_DAYS)
    deleted, _ = RequestLogEntry.objects.filter(created_at__lt=cutoff).delete()
    _fold("hour < %s", [_hour(cutoff)])
    return deleted


def calls_per_hour(connection_ids: list[int], *, since: datetime) -> dict[tuple, dict[str, int]]:
    """{(connection id, hour start in UTC): {"calls": n, "throttled": n}} of these
    connections' calls from the hour `since` (a whole hour) on; hours without calls are
    missing. One query over the kept counts, whatever the number of calls."""
    rows = (
        RequestLogCount.objects.filter(connection_id__in=connection_ids, hour__gte=since)
        .values("connection_id", "hour")
        .annotate(calls=Sum("calls"), throttled=Sum("throttled"), rows=Count("pk"))
        .order_by()
    )
    result, crowded = {}, []
    for row in rows:
        key = (row["connection_id"], row["hour"])
        result[key] = {"calls": row["calls"], "throttled": row["throttled"]}
        if row["rows"] > FOLD_AFTER:
            crowded.append(key)
    for connection_id, hour in sorted(crowded):
        _fold("connection_id = %s AND hour = %s", [connection_id, _hour(hour)])
    return result


def connections_busiest_first(
    connections: QuerySet[Connection], *, since: datetime
) -> QuerySet[Connection]:
    """`connections` by their calls from `since` on, most first, then by name (each sum
    read from the kept counts of its hours)."""
    calls = (
        RequestLogCount.objects.filter(connection_id=OuterRef("pk"), hour__gte=since)
        .order_by()
        .values("connection_id")
        .annotate(n=Sum("calls"))
        .values("n")
    )
    recent = Coalesce(Subquery(calls), 0)
    return connections.annotate(recent_calls=recent).order_by("-recent_calls", "owner_name", "pk")


def _hour(moment: datetime):
    """The start of `moment`'s hour as the database keeps it (UTC text on SQLite)."""
    hour = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return database.ops.adapt_datetimefield_value(hour)


def _fold(where: str, params: list) -> None:
    """One row per (connection, hour) of the rows `where` picks instead of many, and none
    for a sum of zero. The DELETE takes the rows committed so far; rows appended meanwhile
    stay and are added to the sums as before, and a concurrent fold finds the rows gone."""
    sums: dict[tuple, list[int]] = {}
    with transaction.atomic(), database.cursor() as cursor:
        cursor.execute(f"{FOLD} WHERE {where} {FOLD_RETURNING}", params)
        for connection_id, hour, calls, throttled in cursor.fetchall():
            total = sums.setdefault((connection_id, hour), [0, 0])
            total[0] += calls
            total[1] += throttled
        folded = [(*key, *total) for key, total in sorted(sums.items()) if any(total)]
        if folded:
            cursor.executemany(FOLD_INSERT, folded)

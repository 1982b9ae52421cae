"""The request log: every call to the provider, kept for REQUEST_LOG_RETENTION_DAYS.

A call is logged as it finishes. Inside `batched()` (a job's work slice) the rows are
gathered and written together — every FLUSH_SIZE rows, when the oldest waited
FLUSH_SECONDS, and when the block ends — rather than one INSERT per call, which was a
fifth of a job's database work. Each row keeps the time of its call. What a worker
killed mid-slice had not written yet (at most about FLUSH_SECONDS of its calls) is lost
to the log only: each item keeps its provider's X-Request-Id, and an unclear outcome is
settled by asking the provider, never from this log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from partnerapp.connections.models import Connection, RequestLogEntry
from partnerapp.smartbusiness.client import ApiCall

STATUS_CLASSES = {"2xx": (200, 299), "4xx": (400, 499), "5xx": (500, 599)}
FLUSH_SIZE = 100  # rows
FLUSH_SECONDS = 1.0


class _Pending:
    """The rows of this process's batched calls not written yet (all threads share it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[RequestLogEntry] = []
        self.since = 0.0  # monotonic time of the oldest row
        self.local = threading.local()  # .depth: how many `batched()` blocks this thread is in

    def add(self, row: RequestLogEntry) -> bool:
        """Keep `row`; True when the rows are due to be written."""
        with self.lock:
            if not self.rows:
                self.since = time.monotonic()
            self.rows.append(row)
            return len(self.rows) >= FLUSH_SIZE or time.monotonic() - self.since >= FLUSH_SECONDS

    def take(self) -> list[RequestLogEntry]:
        with self.lock:
            rows, self.rows = self.rows, []
            return rows


_pending = _Pending()


def entry_record(
    connection_id: int, call: ApiCall, *, job_id: int | None, job_item_id: int | None
) -> None:
    row = RequestLogEntry(
        connection_id=connection_id,
        method=call.method,
        path=call.path[:300],
        status=call.status,
        duration_ms=round(call.duration * 1000),
        request_id=call.request_id,
        job_id=job_id,
        job_item_id=job_item_id,
    )
    if not getattr(_pending.local, "depth", 0):
        row.save()
    elif _pending.add(row):
        entries_flush()


@contextmanager
def batched() -> Iterator[None]:
    """Calls logged inside the block are written in batches, the last when it ends."""
    _pending.local.depth = getattr(_pending.local, "depth", 0) + 1
    try:
        yield
    finally:
        _pending.local.depth -= 1
        entries_flush()


def entries_flush() -> int:
    """Write the rows this process gathered (of every thread); returns how many."""
    rows = _pending.take()
    if rows:
        RequestLogEntry.objects.bulk_create(rows)
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
    """Delete entries older than the retention period; returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.REQUEST_LOG_RETENTION_DAYS)
    deleted, _ = RequestLogEntry.objects.filter(created_at__lt=cutoff).delete()
    return deleted

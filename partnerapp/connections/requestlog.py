"""The request log: every call to the provider, kept for REQUEST_LOG_RETENTION_DAYS."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from partnerapp.connections.models import Connection, RequestLogEntry
from partnerapp.smartbusiness.client import ApiCall

STATUS_CLASSES = {"2xx": (200, 299), "4xx": (400, 499), "5xx": (500, 599)}


def entry_record(
    connection_id: int, call: ApiCall, *, job_id: int | None, job_item_id: int | None
) -> None:
    RequestLogEntry.objects.create(
        connection_id=connection_id,
        method=call.method,
        path=call.path[:300],
        status=call.status,
        duration_ms=round(call.duration * 1000),
        request_id=call.request_id,
        job_id=job_id,
        job_item_id=job_item_id,
    )


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

"""At most JOB_CONCURRENCY_PER_CONNECTION work slices per account at a time, on any host.

A slice leases one of the connection's slots (one conditional UPDATE) for a bounded
time and releases it when done; a worker killed mid-slice loses its lease when the
lease runs out.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from partnerapp.jobs.models import SendSlot


def slot_take(connection_id: int, *, holder: str, seconds: float) -> bool:
    size = settings.JOB_CONCURRENCY_PER_CONNECTION
    SendSlot.objects.bulk_create(
        [SendSlot(connection_id=connection_id, number=n) for n in range(size)],
        ignore_conflicts=True,
    )
    now = timezone.now()
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    slots = SendSlot.objects.filter(free, connection_id=connection_id, number__lt=size)
    for slot_id in slots.values_list("pk", flat=True):
        leased = SendSlot.objects.filter(free, pk=slot_id).update(
            holder=holder, leased_until=now + timedelta(seconds=seconds)
        )
        if leased:
            return True
    return False


def slot_release(connection_id: int, *, holder: str) -> None:
    SendSlot.objects.filter(connection_id=connection_id, holder=holder).update(
        holder="", leased_until=None
    )

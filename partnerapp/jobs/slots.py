"""At most JOB_CONCURRENCY_PER_CONNECTION work slices per account at a time, on any host.

A slice leases one of the connection's slots (one conditional UPDATE) and releases it
when done. The lease is short (JOB_SLOT_LEASE_SECONDS) and a thread of the slice renews
it every JOB_SLOT_RENEW_SECONDS while the slice works — also while one call blocks for
its whole read timeout — so a live slice never loses its slot, and a worker killed
mid-slice stops renewing and its slot is free again within one lease (seconds, not the
length of the longest possible slice).

Lease times are the database's clock (`Now()`), so hosts whose clocks differ agree on
when a lease ran out. Slots only cap concurrency: losing one never risks a double send
(the item claim does that), at worst one more slice runs for a moment.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from partnerapp.jobs.models import BatchJob, SendSlot

logger = logging.getLogger(__name__)


def _lease_end():
    return Now() + timedelta(seconds=settings.JOB_SLOT_LEASE_SECONDS)


def slot_take(connection_id: int, *, holder: str) -> bool:
    """Lease a free slot of the connection for `holder`; False when all are taken."""
    size = settings.JOB_CONCURRENCY_PER_CONNECTION
    SendSlot.objects.bulk_create(
        [SendSlot(connection_id=connection_id, number=n) for n in range(size)],
        ignore_conflicts=True,
    )
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=Now())
    slots = SendSlot.objects.filter(free, connection_id=connection_id, number__lt=size)
    for slot_id in slots.values_list("pk", flat=True):
        leased = SendSlot.objects.filter(free, pk=slot_id).update(
            holder=holder, leased_until=_lease_end()
        )
        if leased:
            return True
    return False


def slot_renew(connection_id: int, *, holder: str) -> bool:
    """Extend the holder's lease by one lease length. False: the slot is no longer theirs
    (it ran out and another slice took it)."""
    slots = SendSlot.objects.filter(connection_id=connection_id, holder=holder)
    return bool(slots.update(leased_until=_lease_end()))


def slot_release(connection_id: int, *, holder: str) -> None:
    SendSlot.objects.filter(connection_id=connection_id, holder=holder).update(
        holder="", leased_until=None
    )


class SlotLease:
    """A leased slot, renewed in the background until `release()`.

    Each renewal is also the job's heartbeat, so a slice blocked in one long call still
    shows it is alive and the stalled-job sweeper leaves its job alone. `lost` is set
    when a renewal finds the slot gone; the slice should then end at its next item.
    """

    def __init__(self, *, job_id: int, connection_id: int, holder: str) -> None:
        self.job_id, self.connection_id, self.holder = job_id, connection_id, holder
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"slot-{holder[:8]}", daemon=True)

    @classmethod
    def take(cls, *, job_id: int, connection_id: int, holder: str) -> SlotLease | None:
        if not slot_take(connection_id, holder=holder):
            return None
        lease = cls(job_id=job_id, connection_id=connection_id, holder=holder)
        lease._thread.start()
        return lease

    def release(self) -> None:
        self._stop.set()
        self._thread.join()
        slot_release(self.connection_id, holder=self.holder)

    def _renew(self) -> None:
        try:
            while not self._stop.wait(settings.JOB_SLOT_RENEW_SECONDS):
                if not self._renew_once():
                    self.lost.set()
                    return
        finally:
            connection.close()  # this thread's own database connection

    def _renew_once(self) -> bool:
        """One renewal; a database hiccup is not a lost lease (the next one may work)."""
        try:
            if not slot_renew(self.connection_id, holder=self.holder):
                return False
            running = BatchJob.objects.filter(pk=self.job_id, status=BatchJob.Status.RUNNING)
            running.update(heartbeat_at=timezone.now())
        except DatabaseError:
            logger.warning("slot %s: lease renewal failed", self.holder, exc_info=True)
        return True

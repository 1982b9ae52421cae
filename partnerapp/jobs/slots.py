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

from partnerapp.jobs import heartbeat
from partnerapp.jobs.models import SendSlot

logger = logging.getLogger(__name__)


def _lease_end():
    return Now() + timedelta(seconds=settings.JOB_SLOT_LEASE_SECONDS)


# A slice takes and gives back a slot every few items: the three statements are written
# out (the ORM's compiling them cost more CPU than running them). PostgreSQL skips a slot
# another taker is leasing at this moment instead of waiting for it.
TAKE = """
    UPDATE jobs_sendslot SET holder = %(holder)s, leased_until = {lease_end}
    WHERE id = (
        SELECT id FROM jobs_sendslot
        WHERE connection_id = %(connection)s AND number < %(size)s
          AND (leased_until IS NULL OR leased_until < {now})
        ORDER BY number LIMIT 1 {skip_locked}
    ) AND (leased_until IS NULL OR leased_until < {now})
"""
RENEW = """
    UPDATE jobs_sendslot SET leased_until = {lease_end}
    WHERE connection_id = %(connection)s AND holder = %(holder)s
"""
RELEASE = """
    UPDATE jobs_sendslot SET holder = '', leased_until = NULL
    WHERE connection_id = %(connection)s AND holder = %(holder)s
"""


def _execute(sql: str, **params) -> int:
    """Run one of the statements above on the database's clock; returns the rows changed."""
    if connection.vendor == "postgresql":
        now, lease_end = "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP + make_interval(secs => %(lease)s)"
        skip_locked = "FOR UPDATE SKIP LOCKED"
    else:  # SQLite keeps UTC text, as Django writes it
        now = "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW')"
        lease_end = "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW', %(lease_modifier)s)"
        skip_locked = ""
    lease = settings.JOB_SLOT_LEASE_SECONDS
    params.update(lease=lease, lease_modifier=f"+{lease} seconds")
    with connection.cursor() as cursor:
        cursor.execute(sql.format(now=now, lease_end=lease_end, skip_locked=skip_locked), params)
        return cursor.rowcount


def slot_take(connection_id: int, *, holder: str) -> bool:
    """Lease a free slot of the connection for `holder`; False when all are taken.

    Usually one UPDATE (a slice starts every few items, so this is a statement per
    handful of invoices); the connection's first slice creates its slots, and a take
    that lost a race for the slot it aimed at tries every free one in turn.
    """
    size = settings.JOB_CONCURRENCY_PER_CONNECTION
    taken = _execute(TAKE, holder=holder, connection=connection_id, size=size)
    return bool(taken) or _take_any_free(connection_id, holder)


def _free(connection_id: int):
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=Now())
    size = settings.JOB_CONCURRENCY_PER_CONNECTION
    return SendSlot.objects.filter(free, connection_id=connection_id, number__lt=size)


def _take_any_free(connection_id: int, holder: str) -> bool:
    size = settings.JOB_CONCURRENCY_PER_CONNECTION
    SendSlot.objects.bulk_create(
        [SendSlot(connection_id=connection_id, number=n) for n in range(size)],
        ignore_conflicts=True,
    )
    for slot_id in _free(connection_id).values_list("pk", flat=True):
        leased = (
            _free(connection_id).filter(pk=slot_id).update(holder=holder, leased_until=_lease_end())
        )
        if leased:
            return True
    return False


def slot_renew(connection_id: int, *, holder: str) -> bool:
    """Extend the holder's lease by one lease length. False: the slot is no longer theirs
    (it ran out and another slice took it)."""
    return bool(_execute(RENEW, connection=connection_id, holder=holder))


def slot_release(connection_id: int, *, holder: str) -> None:
    _execute(RELEASE, connection=connection_id, holder=holder)


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
            heartbeat.job_beat(self.job_id)  # no write when a slice of the job just did
        except DatabaseError:
            logger.warning("slot %s: lease renewal failed", self.holder, exc_info=True)
        return True

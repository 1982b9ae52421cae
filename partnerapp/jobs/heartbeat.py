"""A running job's heartbeat: one UPDATE that also says whether the job still runs.

Every work slice of a job looks twice a second whether the job still runs (a pause or
a cancel must stop it within 2 s) and shows that it is alive (`BatchJob.heartbeat_at`,
which the stalled-job sweeper reads) — both in one conditional UPDATE. The slices of
one job in one process share that UPDATE and its answer: sixteen threads sending for
one job write the row twice a second, not thirty-two times (a statement per invoice
and a half at 60 invoices/s).

`others_active` answers, with the same sharing, whether any other job waits for turns:
a slice cut into few items only pays off when someone does (engine._slice_full).
"""

from __future__ import annotations

import threading
import time

from django.utils import timezone

from partnerapp.jobs.models import BatchJob

INTERVAL = 0.5  # seconds
_lock = threading.Lock()
_seen: dict[int, tuple[float, bool]] = {}  # job id → (monotonic time of the UPDATE, running)


def job_beat(job_id: int, *, interval: float = INTERVAL) -> bool:
    """Whether the job is running, as this process saw it at most `interval` s ago;
    when that was longer ago, look again and write the heartbeat in the same UPDATE."""
    now = time.monotonic()
    with _lock:
        seen = _seen.get(job_id)
    if seen is not None and now - seen[0] < interval:
        return seen[1]
    running = BatchJob.objects.filter(pk=job_id, status=BatchJob.Status.RUNNING)
    alive = bool(running.update(heartbeat_at=timezone.now()))
    with _lock:
        if len(_seen) > 1000:  # jobs long finished
            _seen.clear()
        _seen[job_id] = (now, alive)
    return alive


_others: dict[int, tuple[float, bool]] = {}  # job id → (monotonic time of the look, answer)


def others_active(job_id: int, *, interval: float = INTERVAL) -> bool:
    """Whether a job other than `job_id` is queued or running (on any account), as this
    process saw it at most `interval` s ago: one EXISTS per interval, not per slice."""
    now = time.monotonic()
    with _lock:
        seen = _others.get(job_id)
    if seen is not None and now - seen[0] < interval:
        return seen[1]
    active = BatchJob.objects.filter(status__in=[BatchJob.Status.QUEUED, BatchJob.Status.RUNNING])
    answer = active.exclude(pk=job_id).exists()
    with _lock:
        if len(_others) > 1000:  # jobs long finished
            _others.clear()
        _others[job_id] = (now, answer)
    return answer

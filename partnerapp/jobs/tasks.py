"""Celery tasks: thin — take ids, call one service, enqueue what comes next.

Item work is idempotent by the claim (pending → sending is one conditional
UPDATE), so the tasks run with acks_late and are re-queued when a worker dies.
"""

import time

from celery import shared_task
from django.conf import settings

from partnerapp.jobs import archives, engine, schedules, services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def job_prepare(job_id: int) -> None:
    later = services.job_prepare(job_id=job_id)
    if later is not None:
        job_prepare.apply_async((job_id,), countdown=later.delay)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def job_run(job_id: int, restart_mark: str = "", due: float | None = None) -> None:
    """One slice of work; the chain re-enqueues itself so other jobs get turns too.

    Exactly one task per slice or wait: a chain that must wait is enqueued once, with
    the wait as its countdown. `due` (epoch seconds) is when the slice was meant to
    start; how late it started is the time other jobs' slices took before it.
    """
    queued_for = max(0.0, time.time() - due) if due else 0.0
    outcome = engine.job_work(
        job_id=job_id,
        seconds=settings.JOB_SLICE_SECONDS,
        restart_mark=restart_mark,
        queued_for=queued_for,
    )
    if outcome.more:  # behind every new job's first slice (JOB_CONTINUE_PRIORITY)
        _job_run_enqueue(
            job_id,
            priority=settings.JOB_CONTINUE_PRIORITY,
            delay=outcome.delay,
            restart_mark=outcome.mark,
        )


def job_chains_start(job_id: int, chains: int) -> None:
    """A job's work chains at its start (confirm, resume, retry): one chain's first slice
    goes before every chain's later slices, so the job's first send comes soon however
    many accounts are busy; its other chains queue with those later slices. (Were all of
    them first in line, 200 jobs confirmed together would put 800 slices ahead of the next
    newcomer.) Each slice carries its due time: its wait in the queue is measured."""
    _job_run_enqueue(job_id, priority=None)
    for _chain in range(chains - 1):
        _job_run_enqueue(job_id, priority=settings.JOB_CONTINUE_PRIORITY)


def _job_run_enqueue(
    job_id: int, *, priority: int | None, delay: float = 0, restart_mark: str = ""
) -> None:
    """One slice of a chain, due in `delay` seconds, at a broker priority (None: the default,
    the first in line); see JOB_CONTINUE_PRIORITY in settings."""
    kwargs = {"due": time.time() + delay}
    if restart_mark:
        kwargs["restart_mark"] = restart_mark
    job_run.apply_async((job_id,), kwargs, countdown=delay or None, priority=priority)


@shared_task
def sweep() -> None:
    """Periodic (celery beat): reconcile stuck items, restart stuck preparations."""
    engine.sweep_stale_sending()
    for job_id in services.jobs_awaiting_preparation():
        job_prepare.delay(job_id)


@shared_task
def restart_stalled() -> None:
    """Periodic (celery beat, every JOB_STALLED_CHECK_INTERVAL): one chain per stalled job."""
    for job_id, mark in engine.sweep_stalled_jobs().items():
        # Behind the later slices queued so far, those of the job's own chains too: a job
        # that only waited in a long queue shows life first, and its new chain steps aside.
        _job_run_enqueue(job_id, priority=settings.JOB_CONTINUE_PRIORITY, restart_mark=mark)


@shared_task
def expire_drafts() -> int:
    """Periodic (celery beat): drafts nobody confirmed in JOB_DRAFT_EXPIRY_HOURS are cancelled."""
    return services.jobs_expire_drafts()


@shared_task
def schedules_tick() -> list[int]:
    return schedules.schedules_tick()


@shared_task
def archives_tend() -> dict[str, int]:
    """Periodic (celery beat): expired PDF archives go, leftover PDFs are packed."""
    return archives.archives_tend()

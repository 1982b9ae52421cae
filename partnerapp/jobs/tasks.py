"""Celery tasks: thin — take ids, call one service, enqueue what comes next.

Item work is idempotent by the claim (pending → sending is one conditional
UPDATE), so the tasks run with acks_late and are re-queued when a worker dies.
"""

from celery import shared_task
from django.conf import settings

from partnerapp.jobs import archives, engine, schedules, services
from partnerapp.jobs.models import BatchJob


@shared_task(acks_late=True, reject_on_worker_lost=True)
def job_prepare(job_id: int) -> None:
    later = services.job_prepare(job_id=job_id)
    if later is not None:
        job_prepare.apply_async((job_id,), countdown=later.delay)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def job_run(job_id: int) -> None:
    """One slice of work; the chain re-enqueues itself so other jobs get turns too."""
    outcome = engine.job_work(job_id=job_id, seconds=settings.JOB_SLICE_SECONDS)
    if outcome.more:
        job_run.apply_async((job_id,), countdown=outcome.delay)


@shared_task
def sweep() -> None:
    """Periodic (celery beat): reconcile stuck items, restart stalled jobs and preparations."""
    engine.sweep_stale_sending()
    for job_id in engine.sweep_stalled_jobs():
        services.job_kick(job=BatchJob.objects.get(pk=job_id))
    for job_id in services.jobs_awaiting_preparation():
        job_prepare.delay(job_id)


@shared_task
def schedules_tick() -> list[int]:
    return schedules.schedules_tick()


@shared_task
def archives_tend() -> dict[str, int]:
    """Periodic (celery beat): expired PDF archives go, leftover PDFs are packed."""
    return archives.archives_tend()

"""The order in which the broker hands out slices: a new job's first send comes soon.

With hundreds of accounts busy, the queue holds hundreds of slices. A starting job puts
one chain's first slice before all of them; its other chains, and a stalled job's new
chain, queue as later slices (the job's own chains, queued before, show life first).
The real broker's queue, taken off in the order a worker would get it; priorities need
Redis (kombu's Redis transport serves priority 0 first, then 3, 6, 9).
"""

from __future__ import annotations

from django.conf import settings

from partnerapp.jobs import services, tasks
from tests.conftest import require
from tests.jobs.test_recovery import JOB_RUN, broker, queued_tasks, running_job

__all__ = ["broker"]  # the fixture


def require_redis() -> None:
    require(
        settings.CELERY_BROKER_URL.startswith("redis://"),
        "this test needs the Redis broker (CELERY_BROKER_URL=redis://…): priorities",
    )


def slices() -> list[tuple[int, bool]]:
    """The queued job_run tasks in the order a worker takes them: (job id, a restart?)."""
    queued = queued_tasks()
    assert {name for name, _args, _kwargs, _eta in queued} == {JOB_RUN}
    return [(args[0], bool(kwargs.get("restart_mark"))) for _name, args, kwargs, _eta in queued]


def test_a_starting_job_puts_one_first_slice_before_every_busy_chain(broker):
    require_redis()
    busy = running_job(items=10, heartbeat_age=0)
    services.job_kick(job=busy)  # 4 chains of an account that is already busy
    newcomer = running_job(items=10, heartbeat_age=0)
    services.job_kick(job=newcomer)
    order = [job_id for job_id, _restart in slices()]
    chains = settings.JOB_CONCURRENCY_PER_CONNECTION
    assert order == [busy.pk, newcomer.pk] + [busy.pk] * (chains - 1) + [newcomer.pk] * (chains - 1)


def test_a_restart_queues_behind_the_later_slices_already_queued(broker):
    require_redis()
    busy = running_job(items=10, heartbeat_age=0)
    tasks._job_run_enqueue(busy.pk, priority=settings.JOB_CONTINUE_PRIORITY)  # a later slice
    stalled = running_job(items=3)  # silent for an hour
    tasks.restart_stalled()
    newcomer = running_job(items=1, heartbeat_age=0)
    services.job_kick(job=newcomer)  # one item: one chain
    assert slices() == [(newcomer.pk, False), (busy.pk, False), (stalled.pk, True)]

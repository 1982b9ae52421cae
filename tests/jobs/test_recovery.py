"""A job whose worker died moves again within seconds, and waiting costs one task per wait.

Work slots are short leases a live slice keeps renewing (`jobs/slots.py`); a killed
worker's slots run out within one lease. The stalled-job sweeper starts one chain per
stall, however often it sweeps; a chain that waits is enqueued once, with the wait as
its countdown. Real PostgreSQL, the real broker and, where a worker dies, real workers.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from partnerapp.jobs import engine, slots, tasks
from partnerapp.jobs.models import BatchJob, JobItem, SendSlot
from partnerapp.sandbox import faults
from partnerapp.sandbox.seeding import seed_owner
from tests.conftest import purge_test_queue, require_real_broker
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory
from tests.jobs.test_crash_safety import all_drafts_job, assert_at_most_once_and_nothing_lost
from tests.jobs.test_send_job import email_job, finished
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

Item = JobItem.State
Job = BatchJob.Status
JOB_RUN = "partnerapp.jobs.tasks.job_run"
# Short leases and a quick sweeper for the worker subprocesses (the defaults are 3 s
# renewals, a 15 s silence and a check every 5 s; the benchmark measures those).
QUICK_RECOVERY = {
    "JOB_SLOT_RENEW_SECONDS": "0.5",
    "JOB_STALLED_SECONDS": "4",
    "JOB_STALLED_CHECK_INTERVAL": "1",
    "JOB_STALE_SENDING_SECONDS": "3",
    "JOB_SWEEP_INTERVAL": "1",
}


def db_now():
    with db.cursor() as cursor:
        cursor.execute("SELECT now()")  # the clock the leases are written in
        return cursor.fetchone()[0]


def queued_tasks() -> list[tuple[str, list, dict, str | None]]:
    """Take every message off the test queue: (task name, args, kwargs, eta)."""
    from partnerapp.celery import app

    found = []
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        while (
            message := channel.basic_get(settings.CELERY_TASK_DEFAULT_QUEUE, no_ack=True)
        ) is not None:
            args, kwargs, _embed = message.decode()
            found.append((message.headers["task"], args, kwargs, message.headers.get("eta")))
    return found


@pytest.fixture
def broker(transactional_db):
    """The real broker's test queue, empty before and after the test."""
    require_real_broker()
    purge_test_queue()
    yield
    purge_test_queue()


def running_job(*, items: int = 3, heartbeat_age: float = 3600, **job_fields) -> BatchJob:
    job = JobFactory(status=Job.RUNNING, **job_fields)
    for _ in range(items):
        JobItemFactory(job=job)
    beat = timezone.now() - timedelta(seconds=heartbeat_age)
    BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=beat)
    return job


# -- slot leases ------------------------------------------------------------------------------


def test_a_live_holder_keeps_its_slot_for_many_lease_lengths(transactional_db, settings):
    settings.JOB_SLOT_RENEW_SECONDS, settings.JOB_SLOT_LEASE_SECONDS = 0.5, 1.5
    settings.JOB_CONCURRENCY_PER_CONNECTION = 1
    job = running_job(items=0)
    lease = slots.SlotLease.take(job_id=job.pk, connection_id=job.connection_id, holder="live")
    first_end = SendSlot.objects.get(connection=job.connection).leased_until
    wait_for(
        lambda: db_now() > first_end + timedelta(seconds=3 * settings.JOB_SLOT_LEASE_SECONDS),
        timeout=30,
        message="three lease lengths past the first lease",
    )
    assert not slots.slot_take(job.connection_id, holder="other")
    assert not lease.lost.is_set()
    job.refresh_from_db()
    assert job.heartbeat_at > timezone.now() - timedelta(seconds=5)  # renewals are heartbeats
    lease.release()
    assert slots.slot_take(job.connection_id, holder="other")


def test_a_holder_that_stops_renewing_loses_its_slot_within_one_lease(transactional_db, settings):
    settings.JOB_SLOT_RENEW_SECONDS, settings.JOB_SLOT_LEASE_SECONDS = 0.5, 1.5
    settings.JOB_CONCURRENCY_PER_CONNECTION = 1
    connection = ConnectionFactory()
    assert slots.slot_take(connection.pk, holder="killed")  # taken, then never renewed
    assert not slots.slot_take(connection.pk, holder="next")
    wait_for(lambda: slots.slot_take(connection.pk, holder="next"), timeout=30, message="slot free")
    assert not slots.slot_renew(connection.pk, holder="killed")
    assert SendSlot.objects.get(connection=connection).holder == "next"


def test_a_slice_whose_slot_went_to_another_notices_the_loss(transactional_db, settings):
    settings.JOB_SLOT_RENEW_SECONDS, settings.JOB_SLOT_LEASE_SECONDS = 0.3, 0.9
    settings.JOB_CONCURRENCY_PER_CONNECTION = 1
    job = running_job(items=0)
    lease = slots.SlotLease.take(job_id=job.pk, connection_id=job.connection_id, holder="a")
    SendSlot.objects.filter(holder="a").update(holder="b")  # as after a frozen process
    wait_for(lease.lost.is_set, timeout=30, message="the loss is noticed")
    lease.release()
    assert SendSlot.objects.get(connection=job.connection).holder == "b"


# -- one chain per stall, one task per wait -------------------------------------------------


def test_a_stalled_job_gets_one_chain_however_often_it_is_swept(broker):
    job = running_job()
    quiet = running_job(heartbeat_age=1)  # a live chain wrote a heartbeat a second ago
    for _sweep in range(5):
        tasks.restart_stalled()
    queued = queued_tasks()
    assert [(name, args) for name, args, _kwargs, _eta in queued] == [(JOB_RUN, [job.pk])]
    assert queued[0][2]["restart_mark"]
    assert quiet.pk not in engine.sweep_stalled_jobs()


def test_a_restarted_chain_steps_aside_when_another_chain_showed_life(broker):
    job = running_job()
    mark = engine.sweep_stalled_jobs()[job.pk]
    slow_chains_item = job.items.first()
    JobItem.objects.filter(pk=slow_chains_item.pk).update(
        state=Item.SENT, claimed_at=timezone.now(), finished_at=timezone.now()
    )
    outcome = engine.job_work(job_id=job.pk, seconds=1, restart_mark=mark)
    assert outcome == engine.STOP
    assert Counter(job.items.values_list("state", flat=True)) == {Item.PENDING: 2, Item.SENT: 1}
    assert not SendSlot.objects.filter(connection=job.connection).exclude(holder="").exists()


def test_a_restarted_chain_that_waited_past_later_sweeps_still_goes_on(broker):
    """In a long queue the sweeper finds the job silent again before its new chain's turn
    and writes another mark: that is no sign of life, the chain must not step aside."""
    job = running_job(items=0)
    JobItemFactory(job=job, not_before=timezone.now() + timedelta(minutes=5))  # no call yet
    mark = engine.sweep_stalled_jobs()[job.pk]
    BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert engine.sweep_stalled_jobs()[job.pk] != mark  # a later sweep, a later mark
    outcome = engine.job_work(job_id=job.pk, seconds=1, restart_mark=mark)
    assert outcome.more and outcome.mark


@pytest.mark.parametrize("state", [Item.SENT, Item.SENDING])
def test_a_restarted_chain_steps_aside_at_any_later_slice_once_another_chain_showed_life(
    broker, state
):
    """A job whose chains only waited long in the queue looked stalled: the restarted
    chain ends when they show up (an item they claimed is sending, or finished), so the
    job does not keep one chain more than others."""
    job = running_job(items=0)
    JobItemFactory(job=job, not_before=timezone.now() + timedelta(minutes=5))  # no call yet
    tasks.restart_stalled()
    for _slice in range(2):  # alone, the restarted chain goes on, slice after slice
        ((_name, args, kwargs, _eta),) = queued_tasks()
        tasks.job_run(*args, **kwargs)
    ((_name, args, kwargs, _eta),) = queued_tasks()
    assert kwargs["restart_mark"]
    now = timezone.now()
    finished = now if state == Item.SENT else None
    JobItemFactory(job=job, state=state, claimed_at=now, finished_at=finished)  # another chain's
    tasks.job_run(*args, **kwargs)
    assert queued_tasks() == []


def test_a_chain_whose_job_another_chain_started_a_moment_before_goes_on(broker):
    """A job's chains start together on idle workers: each first slice sees the job
    queued, one moves it to running, and the others must go on too (they used to end:
    the job ran on one chain)."""
    job = running_job(items=0)
    JobItemFactory(job=job, not_before=timezone.now() + timedelta(minutes=5))  # no call yet
    BatchJob.objects.filter(pk=job.pk).update(status=Job.QUEUED)
    seen = BatchJob.objects.get(pk=job.pk)  # as this slice read it: queued
    BatchJob.objects.filter(pk=job.pk).update(status=Job.RUNNING)  # the other slice
    assert engine._slice(seen, seconds=1).more


def test_a_chain_waiting_for_a_busy_slot_is_enqueued_once_with_a_countdown(broker, settings):
    settings.JOB_CONCURRENCY_PER_CONNECTION = 1
    job = running_job(heartbeat_age=0)
    other = JobFactory(connection=job.connection, status=Job.RUNNING)
    holder = slots.SlotLease.take(job_id=other.pk, connection_id=job.connection_id, holder="x")
    try:
        tasks.job_run(job.pk)
    finally:
        holder.release()
    queued = queued_tasks()
    assert [(name, args) for name, args, _kwargs, _eta in queued] == [(JOB_RUN, [job.pk])]
    assert queued[0][3] is not None  # a countdown, not an immediate retry
    job.refresh_from_db()
    assert job.heartbeat_at > timezone.now()  # due back: not taken for stalled meanwhile
    assert job.pk not in engine.sweep_stalled_jobs(older_than=0)
    assert Counter(job.items.values_list("state", flat=True)) == {Item.PENDING: 3}


# -- real workers -----------------------------------------------------------------------------


@pytest.fixture
def owner_with_drafts(sandbox):
    owner, _ = seed_owner(
        email="recovery@sandbox.example",
        password=OWNER_PASSWORD,
        name="Rita",
        surname="Roth",
        company="Roth GmbH",
        invoices=200,
        seed=14,
        today=timezone.localdate(),
    )
    return owner


def job_run_tasks_received(worker) -> int:
    text = worker.log.read_bytes()[worker.log_offset :].decode(errors="replace")
    return text.count(f"Task {JOB_RUN}[")


def sent_count(job: BatchJob) -> int:
    return job.items.filter(state=Item.SENT).count()


@pytest.mark.worker
def test_a_killed_workers_job_is_finished_by_a_second_worker_sending_each_invoice_once(
    connect, sandbox, partner, owner_with_drafts, start_worker
):
    # Two slots, so the dead worker (two processes) held every one of them.
    env = {**QUICK_RECOVERY, "JOB_CONCURRENCY_PER_CONNECTION": "2"}
    start_worker("beat", env=env, beat=True)
    first = start_worker("w1", env=env)
    job = all_drafts_job(partner, connect(owner=owner_with_drafts))
    wait_for(lambda: sent_count(job) >= 40, timeout=120, message="the job is under way")
    first.kill()
    sent_by_first = sent_count(job)
    second = start_worker("w2", env=env)
    assert wait_for(lambda: finished(job), timeout=240, message="job finished") == "done"
    assert_at_most_once_and_nothing_lost(job, sandbox, owner_with_drafts)
    sent_by_second = sent_count(job) - sent_by_first
    assert sent_by_second > 0
    # one restarted chain and one task per slice or wait: no busy re-enqueueing
    assert job_run_tasks_received(second) <= 1.1 * sent_by_second


@pytest.mark.worker
def test_a_live_slice_in_a_call_longer_than_its_lease_keeps_its_slot(
    connect, sandbox, partner, start_worker, settings
):
    # One slot; leases of 1.5 s; every provider call takes 4 s. A slice that lost its
    # slot mid-call would let the other job's chain in: two items sending at once.
    settings.JOB_CONCURRENCY_PER_CONNECTION = 1
    env = {**QUICK_RECOVERY, "JOB_CONCURRENCY_PER_CONNECTION": "1"}
    start_worker("w1", env=env)
    connection = connect()
    ids = sandbox.drafts_with_email(4)
    faults.profile_update(owner=None, changes={"latency_ms": 4000})
    jobs = [email_job(partner, connection, ids[:2]), email_job(partner, connection, ids[2:])]
    most_at_once, seen_sending = 0, 0
    give_up = time.monotonic() + 240  # a generous wait, not a measurement
    while not all(finished(job) for job in jobs) and time.monotonic() < give_up:
        sending = JobItem.objects.filter(job__in=jobs, state=Item.SENDING).count()
        most_at_once, seen_sending = max(most_at_once, sending), seen_sending + bool(sending)
        time.sleep(0.1)
    assert [job.status for job in jobs] == [Job.DONE, Job.DONE]
    assert JobItem.objects.filter(job__in=jobs, state=Item.SENT).count() == 4
    assert seen_sending > 0 and most_at_once == 1

"""Pause, resume and cancel take effect within two seconds; a call in flight is recorded."""

import time

import pytest

from partnerapp.jobs import services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.sandbox import faults
from tests.jobs.test_send_job import EMAIL, finished
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
Item = JobItem.State
SLOW_PROVIDER = {"latency_ms": 300}


def slow_job(partner, connection, ids) -> BatchJob:
    faults.profile_update(owner=None, changes=SLOW_PROVIDER)
    return services.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": ids},
        parameters=EMAIL,
        auto_start=True,
    )


def settled(job: BatchJob) -> dict[str, int]:
    return services.job_counts(job)


def test_pause_stops_sending_within_two_seconds_and_resume_finishes(
    connect, sandbox, partner, worker
):
    ids = sandbox.drafts_with_email(12)
    job = slow_job(partner, connect(), ids)
    wait_for(lambda: settled(job)[Item.SENT] >= 2, message="the job is sending")
    assert services.job_pause(job=job)
    time.sleep(2)
    after_two_seconds = settled(job)
    assert after_two_seconds[Item.SENDING] == 0, "the call in flight finished and was recorded"
    time.sleep(2)
    assert settled(job) == after_two_seconds, "nothing was sent while paused"
    assert after_two_seconds[Item.PENDING] > 0

    job.refresh_from_db()
    assert services.job_resume(job=job)
    assert wait_for(lambda: finished(job), timeout=90, message="resumed job done") == "done"
    assert set(sandbox.outbox()["sends_per_document"].values()) == {1}
    assert settled(job)[Item.SENT] == len(ids)


def test_cancel_stops_sending_and_marks_the_rest_skipped(connect, sandbox, partner, worker):
    job = slow_job(partner, connect(), sandbox.drafts_with_email(12))
    wait_for(lambda: settled(job)[Item.SENT] >= 2, message="the job is sending")
    assert services.job_cancel(job=job)
    time.sleep(2)
    counts = settled(job)
    assert counts[Item.PENDING] == counts[Item.SENDING] == 0
    assert counts[Item.SKIPPED] > 0
    assert sandbox.outbox()["count"] == counts[Item.SENT]
    skipped = job.items.filter(state=Item.SKIPPED).first()
    assert "cancelled" in skipped.outcome

"""How long a work slice runs: JOB_SLICE_ITEMS items while other jobs wait for turns,
JOB_SLICE_SECONDS for a job alone (nobody waits for its turns)."""

from partnerapp.jobs import engine, heartbeat
from partnerapp.jobs.models import BatchJob
from tests.jobs.factories import ConnectionFactory, JobFactory

Job = BatchJob.Status


def test_a_job_alone_is_not_cut_into_item_slices(db, settings):
    settings.JOB_SLICE_ITEMS = 4
    job = JobFactory(status=Job.RUNNING)
    JobFactory(status=Job.DONE)  # finished and draft jobs wait for nothing
    JobFactory(status=Job.DRAFT)
    assert not engine._slice_full(job, 4)
    assert not engine._slice_full(job, 400)


def test_with_another_job_queued_a_slice_ends_after_its_items(db, settings):
    settings.JOB_SLICE_ITEMS = 4
    job = JobFactory(status=Job.RUNNING)
    JobFactory(connection=ConnectionFactory(), status=Job.QUEUED)  # any account's
    assert not engine._slice_full(job, 3)
    assert engine._slice_full(job, 4)


def test_a_job_arriving_is_seen_within_the_interval(db, monkeypatch):
    job = JobFactory(status=Job.RUNNING)
    assert not heartbeat.others_active(job.pk, interval=60)
    JobFactory(status=Job.RUNNING)
    assert not heartbeat.others_active(job.pk, interval=60)  # one look per interval
    assert heartbeat.others_active(job.pk, interval=0)


def test_no_item_bound_means_time_bounded_slices(db, settings):
    settings.JOB_SLICE_ITEMS = 0
    job = JobFactory(status=Job.RUNNING)
    JobFactory(status=Job.QUEUED)
    assert not engine._slice_full(job, 1000)

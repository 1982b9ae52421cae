import threading
from datetime import timedelta

import pytest
from django.db import connections as db_connections
from django.utils import timezone

from partnerapp.jobs import states
from partnerapp.jobs.models import BatchJob, JobItem
from tests.conftest import require_postgresql
from tests.jobs.factories import JobFactory, JobItemFactory

Item, Job = JobItem.State, BatchJob.Status


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (Item.SENT, Item.PENDING),
        (Item.SKIPPED, Item.SENDING),
        (Item.PENDING, Item.SENT),
        (Item.UNCERTAIN, Item.SENDING),
    ],
)
def test_invalid_item_transitions_are_refused(db, source, target):
    item = JobItemFactory(state=source)
    with pytest.raises(states.InvalidTransition):
        states.item_move(JobItem.objects.filter(pk=item.pk), source=source, target=target)


def test_only_one_of_two_claims_wins(db):
    item = JobItemFactory()
    claims = [
        states.item_move(
            JobItem.objects.filter(pk=item.pk), source=Item.PENDING, target=Item.SENDING
        )
        for _ in range(2)
    ]
    assert claims == [1, 0]


def test_a_job_move_from_a_stale_status_changes_nothing(db):
    job = JobFactory(status=Job.RUNNING)
    BatchJob.objects.filter(pk=job.pk).update(status=Job.CANCELLED)
    assert states.job_move(job, target=Job.DONE) is False
    job.refresh_from_db()
    assert job.status == Job.CANCELLED


@pytest.mark.parametrize(
    ("source", "target"),
    [(Job.DONE, Job.RUNNING), (Job.CANCELLED, Job.QUEUED), (Job.FAILED, Job.QUEUED)],
)
def test_invalid_job_transitions_are_refused(db, source, target):
    with pytest.raises(states.InvalidTransition):
        states.job_move(JobFactory(status=source), target=target)


def test_the_claim_takes_the_first_due_pending_item_of_its_job(db):
    job = JobFactory(status=Job.RUNNING)
    later = timezone.now() + timedelta(minutes=5)
    backed_off = JobItemFactory(job=job, not_before=later)
    JobItemFactory(job=job, state=Item.SENT)
    first, second = JobItemFactory(job=job), JobItemFactory(job=job)
    JobItemFactory(job=JobFactory(status=Job.RUNNING))  # another job's item stays put

    claimed = [states.item_claim_due(job_id=job.pk, now=timezone.now()) for _ in range(3)]

    assert [item and item.pk for item in claimed] == [first.pk, second.pk, None]
    assert [(item.state, item.attempts) for item in claimed[:2]] == [(Item.SENDING, 1)] * 2
    assert JobItem.objects.get(pk=backed_off.pk).state == Item.PENDING
    assert states.item_claim_due(job_id=job.pk, now=later).pk == backed_off.pk


def test_an_item_backed_off_goes_before_fresh_ones_once_it_is_due(db):
    job = JobFactory(status=Job.RUNNING)
    fresh = JobItemFactory(job=job)
    due = timezone.now() - timedelta(seconds=1)
    retried = JobItemFactory(job=job, not_before=due)  # a transient error, its pause over

    claimed = [states.item_claim_due(job_id=job.pk, now=timezone.now()) for _ in range(2)]

    assert [item.pk for item in claimed] == [retried.pk, fresh.pk]


def test_concurrent_claims_never_share_an_item(transactional_db):
    require_postgresql()
    job = JobFactory(status=Job.RUNNING)
    JobItemFactory.create_batch(60, job=job)
    claimed: list[int] = []

    def claim_all() -> None:
        while (item := states.item_claim_due(job_id=job.pk, now=timezone.now())) is not None:
            claimed.append(item.pk)
        db_connections.close_all()

    threads = [threading.Thread(target=claim_all) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(job.items.values_list("pk", flat=True))
    assert set(job.items.values_list("state", flat=True)) == {Item.SENDING}

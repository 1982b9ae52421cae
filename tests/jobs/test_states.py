import pytest

from partnerapp.jobs import states
from partnerapp.jobs.models import BatchJob, JobItem
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

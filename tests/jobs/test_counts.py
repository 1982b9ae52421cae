from django.db.models import Count
from django.utils import timezone

from partnerapp.jobs import counts, states
from partnerapp.jobs.models import BatchJob, JobItem, JobItemCount
from partnerapp.jobs.services import job_counts, job_counts_many
from tests.jobs.factories import JobFactory, JobItemFactory

Item, Job = JobItem.State, BatchJob.Status


def counted(job: BatchJob) -> dict[str, int]:
    """The counts the slow way: every item counted."""
    found = dict.fromkeys(Item.values, 0)
    for row in job.items.values("state").annotate(n=Count("pk")):
        found[row["state"]] = row["n"]
    found["total"] = sum(found.values())
    found["finished"] = found["total"] - found[Item.PENDING] - found[Item.SENDING]
    return found


def test_the_counts_follow_every_insert_move_and_delete(db):
    job, other = JobFactory(status=Job.RUNNING), JobFactory(status=Job.RUNNING)
    JobItem.objects.bulk_create(JobItemFactory.build_batch(6, job=job))
    JobItemFactory.create_batch(2, job=other)
    first = states.item_claim_due(job_id=job.pk, now=timezone.now())
    states.item_move(JobItem.objects.filter(pk=first.pk), source=Item.SENDING, target=Item.SENT)
    second = states.item_claim_due(job_id=job.pk, now=timezone.now())
    states.item_move(job.items.filter(pk=second.pk), source=Item.SENDING, target=Item.FAILED)
    states.item_move(job.items.all(), source=Item.PENDING, target=Item.SKIPPED)
    job.items.filter(state=Item.SKIPPED).order_by("pk").first().delete()
    JobItem.objects.filter(pk=second.pk).update(outcome="no change of state")

    assert job_counts(job) == counted(job)
    assert job_counts(job)[Item.SKIPPED] == 3
    assert job_counts_many([job.pk, other.pk]) == {job.pk: counted(job), other.pk: counted(other)}


def test_a_deleted_jobs_counts_come_to_nothing(db):
    job = JobFactory(status=Job.DONE)
    JobItemFactory.create_batch(3, job=job, state=Item.SENT)
    job_id = job.pk

    job.delete()

    assert counts.counts_for([job_id])[job_id]["total"] == 0


def test_many_changes_are_folded_into_one_row_per_state(db):
    job = JobFactory(status=Job.RUNNING)
    for _n in range(counts.FOLD_AFTER + 1):
        JobItemFactory(job=job)
    states.item_move(job.items.all(), source=Item.PENDING, target=Item.SKIPPED)

    first = job_counts(job)  # reads the sums, then folds the crowded job's rows

    assert first == counted(job) == job_counts(job)
    rows = JobItemCount.objects.filter(job_id=job.pk)
    assert [(row.state, row.count) for row in rows] == [(Item.SKIPPED, counts.FOLD_AFTER + 1)]

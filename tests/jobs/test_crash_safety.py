"""Workers die; invoices are still emailed at most once, and none is lost.

A real worker on the real broker is killed with SIGKILL in the middle of a job;
another one starts; celery beat's sweeper (running for real, on a short interval)
reconciles what the dead worker left in `sending` and restarts the job's chains.
"""

from collections import Counter

import pytest
from django.utils import timezone

from partnerapp.jobs import services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.sandbox import faults
from partnerapp.sandbox.seeding import seed_owner
from tests.jobs.test_send_job import EMAIL, finished
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
Item = JobItem.State
FAST_SWEEP = {"JOB_STALE_SENDING_SECONDS": "3", "JOB_SWEEP_INTERVAL": "1"}


@pytest.fixture
def bulk_owner(sandbox):
    owner, _ = seed_owner(
        email="bulk@sandbox.example",
        password=OWNER_PASSWORD,
        name="Beat",
        surname="Brunner",
        company="Brunner AG",
        invoices=400,
        seed=11,
        today=timezone.localdate(),
    )
    return owner


def all_drafts_job(partner, connection) -> BatchJob:
    return services.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"filter": {"status": "DR"}},
        parameters=EMAIL,
        auto_start=True,
    )


def sent_count(job: BatchJob) -> int:
    return job.items.filter(state=Item.SENT).count()


def assert_at_most_once_and_nothing_lost(job: BatchJob, sandbox, owner) -> None:
    items = list(job.items.all())
    states = Counter(item.state for item in items)
    assert states[Item.PENDING] == states[Item.SENDING] == 0, states
    sends = sandbox.outbox(owner)["sends_per_document"]
    assert set(sends.values()) <= {1}, "an invoice was emailed twice"
    for item in items:
        emailed = sends.get(f"invoice:{item.document_id}", 0)
        if item.state == Item.SENT:
            assert emailed == 1, item
        elif item.state != Item.UNCERTAIN:
            assert emailed == 0, item
    assert states[Item.SENT] > 0


FAULTS = {"p500": 0.10, "p_lost": 0.05, "p429": 0.05, "lost_mode": "504", "seed": 42}


@pytest.fixture(params=["calm", "faulty"])
def provider_mood(request, sandbox):
    """The same invariants with a calm provider and with 10 % 500, 5 % lost, 5 % 429."""
    if request.param == "faulty":
        faults.profile_update(owner=None, changes=FAULTS)
    return request.param


def test_a_killed_worker_is_replaced_and_every_invoice_is_emailed_at_most_once(
    connect, sandbox, partner, bulk_owner, start_worker, provider_mood
):
    start_worker("beat", env=FAST_SWEEP, beat=True)
    first = start_worker("w1", env=FAST_SWEEP)
    job = all_drafts_job(partner, connect(owner=bulk_owner))
    wait_for(lambda: sent_count(job) >= 20, timeout=90, message="the job is under way")
    first.kill()
    killed_at = sent_count(job)
    start_worker("w2", env=FAST_SWEEP)
    assert wait_for(lambda: finished(job), timeout=180, message="job finished") == "done"
    assert sent_count(job) > killed_at
    assert_at_most_once_and_nothing_lost(job, sandbox, bulk_owner)


def test_two_workers_on_one_job_send_every_invoice_at_most_once(
    connect, sandbox, partner, bulk_owner, start_worker, provider_mood
):
    start_worker("w1")
    start_worker("w2")
    job = all_drafts_job(partner, connect(owner=bulk_owner))
    assert wait_for(lambda: finished(job), timeout=180, message="job finished") == "done"
    assert_at_most_once_and_nothing_lost(job, sandbox, bulk_owner)
    if provider_mood == "calm":
        assert not job.items.filter(state=Item.UNCERTAIN).exists()
    else:  # injected 500s leave items unclear; lost responses are proven sent by a re-read
        assert job.items.filter(state=Item.UNCERTAIN).exists()
        assert job.items.filter(outcome__startswith="Confirmed done").exists()

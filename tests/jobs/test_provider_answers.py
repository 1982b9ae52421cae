"""What the provider really answers during a job: tokens that die, a scope that is missing.

With real workers and the sandbox over HTTP. A 401 means the provider did nothing, so
it is never an item's failure: the item goes back to pending and runs with the stored
(or a freshly refreshed) token. A missing scope fails the item with what to do.
"""

from collections import Counter

import pytest
from django.utils import timezone

from partnerapp.connections.models import Connection
from partnerapp.jobs import engine
from partnerapp.jobs.models import ActionClaim, BatchJob, JobItem
from partnerapp.sandbox import faults
from partnerapp.sandbox.models import RefreshToken
from partnerapp.sandbox.seeding import seed_owner
from tests.jobs.factories import JobFactory, JobItemFactory
from tests.jobs.test_send_job import EMAIL, email_job, finished
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
Item, Job = JobItem.State, BatchJob.Status


@pytest.fixture
def many_drafts_owner(sandbox):
    owner, _ = seed_owner(
        email="drafts@sandbox.example",
        password=OWNER_PASSWORD,
        name="Lea",
        surname="Bianchi",
        company="Bianchi & Co.",
        invoices=400,
        seed=31,
        today=timezone.localdate(),
    )
    return owner


def test_tokens_dying_three_times_mid_job_fail_no_item(
    connect, sandbox, partner, many_drafts_owner, worker
):
    owner = many_drafts_owner
    connection = connect(owner=owner)
    faults.profile_update(owner=owner, changes={"latency_ms": 40})  # a job long enough
    ids = sandbox.drafts_with_email(120, owner=owner)
    job = email_job(partner, connection, ids)
    for round_ in range(1, 4):
        wait_for(
            lambda n=round_: job.items.filter(state=Item.SENT).count() >= 30 * n,
            timeout=120,
            message=f"{30 * round_} sent",
        )
        faults.profile_update(owner=owner, changes={"expire_next_tokens": 6})
    assert wait_for(lambda: finished(job), timeout=180, message="job done") == Job.DONE
    states = Counter(job.items.values_list("state", flat=True))
    assert states == {Item.SENT: 120}, states
    sends = sandbox.outbox(owner)["sends_per_document"]
    assert {document: sends.get(f"invoice:{document}") for document in ids} == dict.fromkeys(ids, 1)
    assert RefreshToken.objects.filter(used_at__isnull=False).count() >= 3  # it did refresh
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.ACTIVE


def lying_about_invoices(connect) -> Connection:
    """A connection whose record says `invoice` while the owner granted none."""
    connection = connect(scopes=("profile", "contact"))
    Connection.objects.filter(pk=connection.pk).update(scopes="profile contact invoice")
    connection.refresh_from_db()
    return connection


MISSING = "This connection lacks the scope invoice — reconnect and grant it."


def test_a_job_whose_token_lacks_the_scope_says_what_to_do(connect, sandbox, partner, worker):
    connection = lying_about_invoices(connect)
    job = email_job(partner, connection, sandbox.drafts_with_email(1))
    assert wait_for(lambda: finished(job), timeout=90) == Job.FAILED
    assert job.error == MISSING  # reading the documents was refused: 400, code 11


@pytest.mark.django_db(transaction=True)
def test_an_item_whose_token_lacks_the_scope_fails_with_what_to_do(connect, sandbox):
    connection = lying_about_invoices(connect)
    [draft] = sandbox.drafts_with_email(1)
    job = JobFactory(connection=connection, status=Job.RUNNING, parameters=EMAIL)
    JobItemFactory(job=job, document_id=draft)
    engine.job_work(job_id=job.pk, seconds=5)  # in this process, the sandbox over HTTP
    item = job.items.get()
    assert (item.state, item.outcome, item.error_status) == (Item.FAILED, MISSING, 400)
    assert item.error_detail["code"] == 11
    assert not ActionClaim.objects.filter(active=True).exists()  # nothing happened: free
    assert sandbox.outbox()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_refused_partner_credentials_put_the_item_back_and_the_job_waits(
    connect, sandbox, settings
):
    connection = connect()
    Connection.objects.filter(pk=connection.pk).update(access_token_expires_at=timezone.now())
    [draft] = sandbox.drafts_with_email(1)
    job = JobFactory(connection=connection, status=Job.RUNNING, parameters=EMAIL)
    JobItemFactory(job=job, document_id=draft)
    settings.SMARTBUSINESS_CLIENT_SECRET = "not-ours"
    outcome = engine.job_work(job_id=job.pk, seconds=5)
    assert outcome.more and outcome.delay == 60  # come back later, the job keeps its place
    item = job.items.get()
    assert (item.state, item.attempts) == (Item.PENDING, 0)
    assert "SMARTBUSINESS_CLIENT_SECRET" in item.outcome
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.ACTIVE
    assert BatchJob.objects.get(pk=job.pk).status == Job.RUNNING
    assert sandbox.outbox()["count"] == 0

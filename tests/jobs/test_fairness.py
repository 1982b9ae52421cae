"""A 10,000-item job of one account delays a 10-item job of another by seconds."""

import time

import pytest
from django.utils import timezone

from partnerapp.jobs import services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.sandbox.seeding import seed_owner
from tests.jobs.test_send_job import EMAIL, email_job, finished
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
SMALL_JOB_BOUND = 30  # seconds; "seconds, not minutes"


def test_a_huge_job_does_not_starve_a_small_job_of_another_account(
    connect, sandbox, partner, start_worker
):
    big_owner, _ = seed_owner(
        email="big@sandbox.example",
        password=OWNER_PASSWORD,
        name="Urs",
        surname="Gerber",
        company="Gerber Holding AG",
        invoices=10_000,
        seed=5,
        today=timezone.localdate(),
    )
    start_worker("w1")
    big = services.job_create(
        user=partner,
        connection=connect(owner=big_owner),
        action="invoice.send_by_email",
        selection_spec={"filter": {}},
        parameters={**EMAIL, "resend": True},
        auto_start=True,
    )
    wait_for(
        lambda: big.items.filter(state=JobItem.State.SENT).count() >= 20,
        timeout=180,
        message="the big job is sending",
    )
    assert big.items.count() > 8_000

    started = time.monotonic()
    small = email_job(partner, connect(), sandbox.drafts_with_email(10))
    assert wait_for(lambda: finished(small), timeout=120, message="small job") == "done"
    waited = time.monotonic() - started

    big.refresh_from_db()
    assert big.status == BatchJob.Status.RUNNING, "the big job was still running meanwhile"
    assert small.items.filter(state=JobItem.State.SENT).count() == 10
    assert waited < SMALL_JOB_BOUND, f"the small job took {waited:.1f} s"
    services.job_cancel(job=big)

"""A reminder run whose worker is killed (SIGKILL) mid-run, on a real worker and broker:
no invoice's status is changed twice, no reminder is emailed twice, none is lost.

Each item has two irreversible steps (change-status, then send-by-email). Whatever
the dead worker left in `sending` — before step 1, between the steps, inside step 2 —
the sweeper decides: a step proven done is never repeated, the item resumes at the
next one, and what cannot be proven is `uncertain` for a person.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from partnerapp.jobs import services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.sandbox import faults
from partnerapp.sandbox.models import Invoice
from partnerapp.sandbox.seeding import seed_owner
from tests.jobs.test_crash_safety import FAST_SWEEP
from tests.jobs.test_send_job import finished
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
Item = JobItem.State


@pytest.fixture
def bulk_owner(sandbox):
    owner, _ = seed_owner(
        email="reminders@sandbox.example",
        password=OWNER_PASSWORD,
        name="Rita",
        surname="Rossi",
        company="Rossi SA",
        invoices=300,
        seed=12,
        today=timezone.localdate(),
    )
    return owner


def overdue_invoices(owner) -> list[int]:
    invoices = owner.invoices.filter(contact__email__contains="@").exclude(
        contact__email__contains="(at)"
    )
    ids = list(invoices.order_by("pk").values_list("pk", flat=True)[:120])
    Invoice.objects.filter(pk__in=ids).update(
        status="S", due=timezone.localdate() - timedelta(days=30), total_paid=0
    )
    return ids


def steps_done(job: BatchJob) -> int:
    return sum(item.step for item in job.items.all())


def test_a_killed_worker_never_repeats_a_step_of_a_reminder(
    connect, sandbox, partner, bulk_owner, start_worker
):
    ids = overdue_invoices(bulk_owner)
    # 40 ms per call: the run lasts long enough to be killed in the middle of it.
    faults.profile_update(owner=bulk_owner, changes={"latency_ms": 40})
    start_worker("beat", env=FAST_SWEEP, beat=True)
    first = start_worker("w1", env=FAST_SWEEP)
    job = services.job_create(
        user=partner,
        connection=connect(owner=bulk_owner),
        action="invoice.send_reminders",
        selection_spec={"ids": ids},
        parameters={},
        auto_start=True,
    )
    wait_for(lambda: steps_done(job) >= 41, timeout=120, message="the run is under way")
    first.kill()
    killed_at = steps_done(job)
    start_worker("w2", env=FAST_SWEEP)
    assert wait_for(lambda: finished(job), timeout=240, message="job finished") == "done"
    assert steps_done(job) > killed_at

    items = list(job.items.all())
    states = Counter(item.state for item in items)
    assert states[Item.PENDING] == states[Item.SENDING] == 0, states
    assert states[Item.SENT] > 0
    sends = sandbox.outbox(bulk_owner)["sends_per_document"]
    assert set(sends.values()) <= {1}, "a reminder was emailed twice"
    status = dict(Invoice.objects.filter(pk__in=ids).values_list("pk", "status"))
    calls = Counter(
        int(path.split("/")[-2])
        for path in job.connection.calls.filter(
            method="PATCH", path__endswith="/change-status"
        ).values_list("path", flat=True)
    )
    assert set(calls.values()) <= {1}, "a status was changed twice"
    for item in items:
        emailed = sends.get(f"invoice:{item.document_id}", 0)
        if item.state == Item.SENT:
            assert emailed == 1 and status[item.document_id] == "R1", item
            assert item.step == 2
        elif item.state == Item.UNCERTAIN:
            assert emailed <= 1
        else:
            assert emailed == 0, item
        if item.step >= 1:  # the status change is recorded as done: it happened
            assert status[item.document_id] == "R1", item

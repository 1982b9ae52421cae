"""A payment job whose worker is killed (SIGKILL) mid-run, on a real worker and broker: no
bank entry is recorded twice, none is lost.

Whatever the dead worker left in `sending` — before its POST, or after the provider
recorded the payment but before partnerapp did — the sweeper decides by listing the
invoice's payments: found, the item is `sent`; not found, it is `uncertain` for a person.
Nothing is posted again.
"""

from collections import Counter

import pytest
from django.utils import timezone

from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.receivables import services as receivables
from partnerapp.sandbox import faults
from partnerapp.sandbox.models import Invoice, Payment
from partnerapp.sandbox.seeding import seed_owner
from tests.jobs.test_crash_safety import FAST_SWEEP
from tests.jobs.test_send_job import finished
from tests.journeys import OWNER_PASSWORD
from tests.receivables.test_payments import bank_file
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
Item = JobItem.State


@pytest.fixture
def bulk_owner(sandbox):
    owner, _ = seed_owner(
        email="payments@sandbox.example",
        password=OWNER_PASSWORD,
        name="Paolo",
        surname="Bernasconi",
        company="Bernasconi SA",
        invoices=200,
        seed=21,
        today=timezone.localdate(),
    )
    Payment.objects.filter(invoice__owner=owner).delete()
    owner.invoices.update(status="S", total_paid=0, paid_date=None, currency="CHF")
    return owner


def recorded(job: BatchJob) -> int:
    return job.items.filter(state=Item.SENT).count()


def test_a_killed_worker_never_records_a_payment_twice(
    connect, sandbox, partner, bulk_owner, start_worker, tmp_path
):
    connection = connect(owner=bulk_owner)
    upload = receivables.upload_receive(
        user=partner,
        connection=connection,
        data=bank_file(tmp_path, bulk_owner, paid=100, partial=20),
        filename="camt054.xml",
    )
    receivables.upload_match(upload_id=upload.pk)
    upload.refresh_from_db()
    review = receivables.review(upload)
    picks = {row.transaction.pk: row.invoice["id"] for row in review.ready}
    assert len(picks) == 120
    # 40 ms per call: the run lasts long enough to be killed in the middle of it.
    faults.profile_update(owner=bulk_owner, changes={"latency_ms": 40})
    start_worker("beat", env=FAST_SWEEP, beat=True)
    first = start_worker("w1", env=FAST_SWEEP)
    job = receivables.payments_confirm(upload=upload, user=partner, picks=picks)
    wait_for(lambda: recorded(job) >= 30, timeout=120, message="the job is under way")
    first.kill()
    killed_at = recorded(job)
    start_worker("w2", env=FAST_SWEEP)
    assert wait_for(lambda: finished(job), timeout=240, message="job finished") == "done"
    assert recorded(job) > killed_at

    items = list(job.items.all())
    states = Counter(item.state for item in items)
    assert states[Item.PENDING] == states[Item.SENDING] == 0, states
    payments = Counter(
        (invoice, notes.split("]")[0])
        for invoice, notes in Payment.objects.filter(invoice__owner=bulk_owner).values_list(
            "invoice_id", "notes"
        )
    )
    assert set(payments.values()) == {1}, "a bank entry was recorded twice"
    posts = Counter(
        path
        for path in job.connection.calls.filter(
            method="POST", path__endswith="/payments"
        ).values_list("path", flat=True)
    )
    assert set(posts.values()) == {1}, "a payment was posted twice"
    for item in items:
        reference = f"[{item.snapshot['payment']['reference']}"
        found = payments.get((item.document_id, reference), 0)
        if item.state == Item.SENT:
            assert found == 1, item
        elif item.state == Item.UNCERTAIN:
            assert found == 0, item  # the sweeper looked, found nothing: a person decides
        else:
            pytest.fail(f"{item}: {item.outcome}")
    paid = dict(Invoice.objects.filter(pk__in=picks.values()).values_list("pk", "status"))
    for item in items:
        if item.state == Item.SENT:
            assert paid[item.document_id] in {"P", "PP"}

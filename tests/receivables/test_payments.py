"""Payments from a bank file, against the sandbox over HTTP: upload → match → review →
confirm → each payment recorded once; the invoices become P or PP at the provider.

The engine runs in the test process here (`engine.job_work`), so faults can be placed
exactly; `test_payment_worker.py` runs the same path on a real worker.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import close_old_connections
from django.utils import timezone

from partnerapp.jobs import engine, services
from partnerapp.jobs.models import ActionClaim, BatchJob, JobItem
from partnerapp.jobs.operations import JobInputError
from partnerapp.organizations.models import Membership
from partnerapp.organizations.permissions import NotMember
from partnerapp.receivables import services as receivables
from partnerapp.receivables.models import BankTransaction, BankUpload
from partnerapp.sandbox import faults
from partnerapp.sandbox.models import Invoice, Payment
from tests.conftest import require_postgresql
from tests.factories import UserFactory

Item = JobItem.State
Tx = BankTransaction.State


def open_invoices(owner, count: int) -> list[Invoice]:
    """`count` of the owner's invoices, made open (sent, nothing paid yet)."""
    invoices = list(owner.invoices.filter(currency="CHF").order_by("pk")[:count])
    Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(
        status="S", total_paid=0, paid_date=None
    )
    return invoices


def bank_file(tmp_path: Path, owner, *, fmt="camt054", **counts) -> bytes:
    path = tmp_path / f"bank-{fmt}-{sorted(counts.items())}.xml"
    call_command("sandbox_bank_file", owner=owner.email, format=fmt, output=str(path), **counts)
    return path.read_bytes()


def upload(partner, connection, data: bytes, name="camt054.xml") -> BankUpload:
    received = receivables.upload_receive(
        user=partner, connection=connection, data=data, filename=name
    )
    assert receivables.upload_match(upload_id=received.pk) is None
    received.refresh_from_db()
    assert received.state == BankUpload.State.READY, received.error
    return received


def picks_of(review: receivables.Review) -> dict[int, int]:
    """What the review page ticks by default: every ready payment, on its invoice."""
    return {row.transaction.pk: row.invoice["id"] for row in review.ready}


def run(job: BatchJob) -> BatchJob:
    services.job_prepare(job_id=job.pk)
    job.refresh_from_db()
    if job.status == BatchJob.Status.DRAFT:
        services.job_start(job=job)
    while engine.job_work(job_id=job.pk, seconds=5).more:
        pass
    job.refresh_from_db()
    return job


@pytest.fixture
def owner(sandbox):
    """The sandbox owner with 12 open invoices more, and no payment recorded yet (the
    seeding records some: counts below are of what partnerapp recorded)."""
    Payment.objects.filter(invoice__owner=sandbox.owner).delete()
    open_invoices(sandbox.owner, 12)
    return sandbox.owner


def test_a_camt054_records_each_payment_once_and_the_invoices_become_paid_or_partly(
    connect, partner, owner, tmp_path
):
    connection = connect()
    data = bank_file(tmp_path, owner, paid=3, partial=2, unknown=1)
    received = upload(partner, connection, data)
    review = receivables.review(received)
    assert len(review.ready) == 5 and len(review.unmatched) == 1
    assert {row.transaction.classification for row in review.ready} == {"full", "partial"}

    job = receivables.payments_confirm(upload=received, user=partner, picks=picks_of(review))
    job = run(job)
    assert job.status == BatchJob.Status.DONE
    assert [item.state for item in job.items.all()] == [Item.SENT] * 5
    paid = {row.invoice["id"]: row.transaction for row in review.ready}
    for invoice in Invoice.objects.filter(pk__in=paid):
        tx = paid[invoice.pk]
        expected = "P" if tx.classification == "full" else "PP"
        assert invoice.status == expected
        payments = list(Payment.objects.filter(invoice=invoice))
        assert len(payments) == 1
        assert payments[0].amount == tx.amount and payments[0].type == "N"
        assert payments[0].channel == "T"
        assert f"[{tx.bank_reference}]" in payments[0].notes

    # The same file again: every payment is known, none is offered, nothing is recorded.
    again = upload(partner, connection, data, name="camt054 (1).xml")
    second = receivables.review(again)
    assert len(second.submitted) == 5 and not second.ready
    assert [row.item.state for row in second.submitted] == [Item.SENT] * 5
    stale = picks_of(review)  # the first page's ticks, posted again (Back, then Confirm)
    assert receivables.payments_confirm(upload=received, user=partner, picks=stale) is None
    assert Payment.objects.filter(invoice_id__in=paid).count() == 5


def test_an_overlapping_camt053_and_a_csv_of_the_same_money_record_nothing_twice(
    connect, partner, owner, tmp_path
):
    connection = connect()
    first = upload(partner, connection, bank_file(tmp_path, owner, paid=2))
    run(
        receivables.payments_confirm(
            upload=first, user=partner, picks=picks_of(receivables.review(first))
        )
    )
    # camt.053 of the same day carries the same bank ids (AcctSvcrRef): known already.
    statement = upload(partner, connection, bank_file(tmp_path, owner, fmt="camt053", paid=2))
    review = receivables.review(statement)
    assert len(review.submitted) == 2 and not review.ready
    assert BankTransaction.objects.count() == 2


def test_a_lost_answer_is_proven_by_the_invoices_payments_and_never_posted_again(
    connect, partner, owner, tmp_path
):
    connection = connect()
    received = upload(partner, connection, bank_file(tmp_path, owner, paid=2, partial=1))
    job = receivables.payments_confirm(
        upload=received, user=partner, picks=picks_of(receivables.review(received))
    )
    # Every POST is done by the sandbox, then its answer is lost (504).
    faults.profile_update(owner=owner, changes={"p_lost": 1.0, "lost_mode": "504"})
    job = run(job)
    faults.profile_reset(owner=owner)
    for item in job.items.all():
        assert item.state == Item.SENT, item.outcome
        assert "Confirmed done" in item.outcome
    posts = connection.calls.filter(method="POST", path__endswith="/payments")
    assert posts.count() == 3
    assert Payment.objects.count() == 3
    # Nothing a person can press brings them back: they were done.
    assert services.job_retry_failed(job=job) == 0


def test_an_answer_lost_before_the_provider_acted_leaves_the_payment_uncertain(
    connect, partner, owner, tmp_path
):
    connection = connect()
    received = upload(partner, connection, bank_file(tmp_path, owner, paid=1))
    job = receivables.payments_confirm(
        upload=received, user=partner, picks=picks_of(receivables.review(received))
    )
    faults.profile_update(owner=owner, changes={"p500": 1.0})  # refused before acting
    services.job_prepare(job_id=job.pk)
    job.refresh_from_db()
    while engine.job_work(job_id=job.pk, seconds=5).more:
        break
    faults.profile_reset(owner=owner)
    item = job.items.get()
    # A 500 might have been recorded: the payments list says it was not, but a lost
    # request could still land; the item waits for a person, it is not posted again.
    assert item.state == Item.UNCERTAIN, item.outcome
    assert Payment.objects.count() == 0
    assert ActionClaim.objects.filter(item=item, active=True).exists()


def test_an_ambiguous_entry_is_recorded_on_the_invoice_a_person_picks_and_no_other(
    connect, partner, owner, tmp_path
):
    connection = connect()
    first, second = open_invoices(owner, 2)
    Invoice.objects.filter(pk__in=[first.pk, second.pk]).update(total=Decimal("100.00"))
    csv = (
        "date;amount;currency;reference;payer;text\n"
        f"{timezone.localdate().isoformat()};100.00;CHF;;Muster AG;"
        f"Rechnungen {first.number} {second.number}\n"
    ).encode()
    received = upload(partner, connection, csv, name="bank.csv")
    review = receivables.review(received)
    assert len(review.ambiguous) == 1
    tx = review.ambiguous[0].transaction
    stranger = owner.invoices.exclude(pk__in=[first.pk, second.pk]).first()
    with pytest.raises(JobInputError, match="choose one of the invoices"):
        receivables.payments_confirm(upload=received, user=partner, picks={tx.pk: stranger.pk})
    job = run(receivables.payments_confirm(upload=received, user=partner, picks={tx.pk: second.pk}))
    assert job.items.get().state == Item.SENT
    assert list(Payment.objects.values_list("invoice_id", "amount")) == [
        (second.pk, Decimal("100.00"))
    ]
    assert Invoice.objects.get(pk=second.pk).status == "P"


def test_files_that_are_no_bank_files_are_refused_with_the_reason_and_nothing_is_kept(
    connect, partner, owner
):
    connection = connect()
    cases = {
        b"%PDF-1.7 ...": "PDF",
        b"": "empty",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>': "",
        b"<Document><nonsense/></Document>": "",
    }
    for data, words in cases.items():
        with pytest.raises(JobInputError) as refused:
            receivables.upload_receive(user=partner, connection=connection, data=data, filename="x")
        assert str(refused.value) and words in str(refused.value)
    assert not BankUpload.objects.exists() and not BankTransaction.objects.exists()


def test_only_members_who_may_operate_upload_or_confirm(
    connect, partner, outsider, owner, tmp_path
):
    connection = connect()
    viewer = UserFactory(email="viewer@firm.example")
    Membership.objects.create(organization=connection.organization, user=viewer, role="viewer")
    data = bank_file(tmp_path, owner, paid=1)
    with pytest.raises(NotMember):
        receivables.upload_receive(user=outsider, connection=connection, data=data, filename="x")
    with pytest.raises(PermissionDenied):
        receivables.upload_receive(user=viewer, connection=connection, data=data, filename="x")
    received = upload(partner, connection, data)
    picks = picks_of(receivables.review(received))
    with pytest.raises(NotMember):
        receivables.payments_confirm(upload=received, user=outsider, picks=picks)
    with pytest.raises(PermissionDenied):
        receivables.payments_confirm(upload=received, user=viewer, picks=picks)
    assert not BatchJob.objects.exists()


def test_a_refused_payment_can_be_handed_back_and_is_then_recorded_once(
    connect, partner, owner, tmp_path
):
    connection = connect()
    received = upload(partner, connection, bank_file(tmp_path, owner, paid=1))
    review = receivables.review(received)
    tx = review.ready[0].transaction
    # Meanwhile someone cancelled the invoice at the provider: the POST is refused (422).
    Invoice.objects.filter(pk=review.ready[0].invoice["id"]).update(status="C")
    job = run(receivables.payments_confirm(upload=received, user=partner, picks=picks_of(review)))
    item = job.items.get()
    assert item.state == Item.FAILED
    assert receivables.transaction_release(upload=received, user=partner, transaction_id=tx.pk)
    item.refresh_from_db()
    assert item.state == Item.SKIPPED
    assert services.job_retry_failed(job=job) == 0  # out of reach of "retry failed"
    Invoice.objects.filter(pk=review.ready[0].invoice["id"]).update(status="S")
    receivables.upload_rematch(upload=received)
    assert receivables.upload_match(upload_id=received.pk) is None
    received.refresh_from_db()
    review = receivables.review(received)
    run(receivables.payments_confirm(upload=received, user=partner, picks=picks_of(review)))
    assert Payment.objects.count() == 1


def test_two_people_confirming_the_same_file_at_once_record_each_payment_once(
    connect, partner, owner, tmp_path
):
    require_postgresql()
    connection = connect()
    received = upload(partner, connection, bank_file(tmp_path, owner, paid=4))
    picks = picks_of(receivables.review(received))
    jobs, errors = [], []
    barrier = threading.Barrier(2)

    def confirm():
        try:
            barrier.wait()
            jobs.append(receivables.payments_confirm(upload=received, user=partner, picks=picks))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    made = [job for job in jobs if job is not None]
    assert len(made) == 1 and jobs.count(None) == 1
    run(made[0])
    assert Payment.objects.count() == 4


def test_a_second_job_given_the_same_entries_directly_is_stopped_by_the_ledger(
    connect, partner, owner, tmp_path
):
    """The partner API (or anyone) may create a payment job without a bank file: the
    ledger still records each bank entry once per invoice."""
    connection = connect()
    received = upload(partner, connection, bank_file(tmp_path, owner, paid=2))
    job = run(
        receivables.payments_confirm(
            upload=received, user=partner, picks=picks_of(receivables.review(received))
        )
    )
    copy = services.job_create(
        user=partner,
        connection=connection,
        action="invoice.record_payments",
        selection_spec={},
        parameters=job.parameters,
        auto_start=True,
    )
    copy = run(copy)
    assert [item.state for item in copy.items.all()] == [Item.SKIPPED] * 2
    assert all(f"#{job.pk}" in item.outcome for item in copy.items.all())
    assert Payment.objects.count() == 2
    with pytest.raises(JobInputError):
        services.item_resend(job=copy, item_pk=copy.items.first().pk, confirmed=True)

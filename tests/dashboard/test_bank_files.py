"""The bank file pages: upload, review, confirm — over the real views, with the sandbox over
HTTP and (for the whole path) a real Celery worker matching the file and recording the
payments."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.receivables import services as receivables
from partnerapp.receivables.models import BankTransaction, BankUpload
from partnerapp.sandbox.models import Invoice, Payment
from tests.jobs.factories import ConnectionFactory
from tests.receivables.test_payments import bank_file, open_invoices
from tests.waiting import wait_for


def post_file(client, connection, data: bytes, name="camt054.xml"):
    return client.post(
        reverse("dashboard:bank_files", args=[connection.pk]),
        {"file": SimpleUploadedFile(name, data, content_type="application/xml")},
    )


def test_a_file_that_is_no_bank_file_is_refused_on_the_page_with_the_reason(
    client, connect, partner, sandbox
):
    connection = connect()
    client.force_login(partner)
    response = post_file(client, connection, b"%PDF-1.7 not a bank file", name="invoice.pdf")
    assert response.status_code == 400
    assert "This is a PDF document, not a bank file." in response.content.decode()
    response = post_file(client, connection, b"<?xml version='1.0'?><Document/>")
    assert response.status_code == 400
    assert 'data-testid="upload-error"' in response.content.decode()
    assert not BankUpload.objects.exists()


def test_the_review_page_sorts_the_payments_and_is_the_owners_alone(
    client, connect, partner, outsider, sandbox, tmp_path
):
    Payment.objects.filter(invoice__owner=sandbox.owner).delete()
    open_invoices(sandbox.owner, 10)
    connection = connect()
    client.force_login(partner)
    response = post_file(
        client, connection, bank_file(tmp_path, sandbox.owner, paid=2, partial=1, unknown=2)
    )
    upload = BankUpload.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "dashboard:bank_file", args=[upload.pk]
    )
    page = client.get(response.url).content.decode()
    assert 'data-testid="bank-matching"' in page  # the worker has not matched it yet
    receivables.upload_match(upload_id=upload.pk)
    page = client.get(response.url).content.decode()
    assert page.count('type="checkbox" name="pay_') == 3
    assert 'data-testid="bank-unmatched"' in page
    client.force_login(outsider)
    assert client.get(response.url).status_code == 404
    confirm = reverse("dashboard:bank_file_confirm", args=[upload.pk])
    picks = {f"pay_{tx.pk}": "1" for tx in BankTransaction.objects.all()}
    assert client.post(confirm, picks).status_code == 404
    assert client.get(reverse("dashboard:bank_files", args=[connection.pk])).status_code == 404
    assert not BatchJob.objects.exists()


def test_upload_review_confirm_on_a_real_worker_records_each_payment_once(
    client, connect, partner, sandbox, worker, tmp_path
):
    Payment.objects.filter(invoice__owner=sandbox.owner).delete()
    open_invoices(sandbox.owner, 10)
    connection = connect()
    client.force_login(partner)
    data = bank_file(tmp_path, sandbox.owner, paid=3, partial=1, unknown=1)
    review_url = post_file(client, connection, data).url
    upload = BankUpload.objects.get()
    wait_for(
        lambda: BankUpload.objects.get(pk=upload.pk).state == BankUpload.State.READY,
        message="the worker matches the file",
    )
    page = client.get(review_url).content.decode()
    picks = dict(
        (f"pay_{row.transaction.pk}", str(row.invoice["id"]))
        for row in receivables.review(BankUpload.objects.get(pk=upload.pk)).ready
    )
    assert len(picks) == 4 and all(name in page for name in picks)
    response = client.post(reverse("dashboard:bank_file_confirm", args=[upload.pk]), picks)
    assert response.status_code == 302
    job = BatchJob.objects.get(action="invoice.record_payments")
    wait_for(
        lambda: BatchJob.objects.get(pk=job.pk).status == BatchJob.Status.DONE,
        message="the worker records the payments",
    )
    assert set(job.items.values_list("state", flat=True)) == {JobItem.State.SENT}
    invoices = [int(value) for value in picks.values()]
    assert Payment.objects.filter(invoice_id__in=invoices).count() == 4
    assert set(Invoice.objects.filter(pk__in=invoices).values_list("status", flat=True)) == {
        "P",
        "PP",
    }
    page = client.get(review_url).content.decode()
    assert page.count("recorded</span>") == 4
    # The same form posted again (Back, then Confirm) records nothing.
    again = client.post(reverse("dashboard:bank_file_confirm", args=[upload.pk]), picks)
    assert again.status_code == 302
    assert BatchJob.objects.filter(action="invoice.record_payments").count() == 1
    # The same file uploaded again offers nothing to record.
    second = post_file(client, connection, data, name="camt054-again.xml").url
    wait_for(
        lambda: BankUpload.objects.filter(state=BankUpload.State.READY).count() == 2,
        message="the worker matches the second upload",
    )
    page = client.get(second).content.decode()
    assert 'type="checkbox" name="pay_' not in page
    assert page.count("recorded</span>") == 4
    assert Payment.objects.filter(invoice_id__in=invoices).count() == 4


def test_a_month_of_bank_entries_several_mb_is_accepted_not_refused_as_too_large(
    client, partner, db
):
    """The site refuses form data over 1 MB; a bank file is an upload, and a busy
    account's month is several MB: it must get through to the parser."""
    connection = ConnectionFactory(user=partner)
    rows = ["date;amount;currency;reference;payer;text"]
    rows += [
        f"2026-11-{1 + n % 28:02d};{10 + n % 900}.{n % 100:02d};CHF;;Payer {n} AG;"
        f"Invoice RE-2026-{n:05d} thank you for the good work, kind regards from the team"
        for n in range(40_000)
    ]
    data = "\n".join(rows).encode()
    assert len(data) > 3 * 1024 * 1024
    client.force_login(partner)
    response = post_file(client, connection, data, name="november.csv")
    assert response.status_code == 302, response.content[:500]
    upload = BankUpload.objects.get()
    assert upload.transactions.count() == 40_000 and upload.size == len(data)

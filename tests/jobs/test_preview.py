"""The dry run before a job is queued: nothing is sent; every skip has its reason."""

import pytest

from partnerapp.jobs import services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.preview import job_preview
from tests.jobs.test_send_job import EMAIL, email_job, finished
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
Item = JobItem.State


def prepared(job: BatchJob) -> BatchJob:
    wait_for(lambda: BatchJob.objects.get(pk=job.pk).prepared_at, message="prepared")
    job.refresh_from_db()
    return job


def draft_job(partner, connection, ids, **parameters) -> BatchJob:
    return services.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": ids},
        parameters={**EMAIL, **parameters},
    )


def test_the_preview_renders_emails_and_sends_nothing(connect, sandbox, partner, worker):
    ids = sandbox.drafts_with_email(3)
    job = prepared(draft_job(partner, connect(), ids))
    preview = job_preview(job)
    assert job.status == BatchJob.Status.DRAFT and preview.counts[Item.PENDING] == 3
    numbers = sorted(e.item.document_number for e in preview.emails)
    assert sorted(e.subject for e in preview.emails) == [f"Invoice {n}" for n in numbers]
    assert all("{" not in e.body for e in preview.emails)
    assert sandbox.outbox()["count"] == 0


def test_the_preview_explains_every_skip(connect, sandbox, partner, worker):
    owner = sandbox.owner
    no_email = owner.invoices.filter(status="DR").first()
    no_email.contact.email = ""
    no_email.contact.save()
    paid = owner.invoices.filter(status="P").first()
    connection = connect()
    sent_before = sandbox.drafts_with_email(1, exclude_contact=no_email.contact)[0]
    first = email_job(partner, connection, [sent_before])
    assert wait_for(lambda: finished(first), message="first send") == BatchJob.Status.DONE
    assert first.items.get().state == Item.SENT
    job = prepared(draft_job(partner, connection, [no_email.pk, paid.pk, sent_before, 999999]))
    reasons = {item.document_id: item.outcome for item in job_preview(job).skipped}
    assert "no email" in reasons[no_email.pk]
    assert "Not a draft (status Paid)" in reasons[paid.pk]
    assert f"Already sent by job #{first.pk} on " in reasons[sent_before]
    assert "no longer exists" in reasons[999999]


def test_resend_sends_an_already_sent_invoice_again(connect, sandbox, partner, worker):
    connection = connect()
    invoice = sandbox.drafts_with_email(1)[0]
    first = email_job(partner, connection, [invoice])
    wait_for(lambda: finished(first), message="first send")
    again = email_job(partner, connection, [invoice], resend=True)
    wait_for(lambda: finished(again), message="resend")
    assert list(again.items.values_list("state", "outcome")) == [(Item.SENT, "")]
    assert sandbox.outbox()["sends_per_document"][f"invoice:{invoice}"] == 2


def test_a_filter_selects_by_status_and_date(connect, sandbox, partner, worker):
    owner = sandbox.owner
    day = owner.invoices.filter(status="DR").order_by("date").first().date
    job = prepared(
        services.job_create(
            user=partner,
            connection=connect(),
            action="invoice.send_by_email",
            parameters=EMAIL,
            selection_spec={
                "filter": {"status": "DR", "date_from": day.isoformat(), "date_to": day.isoformat()}
            },
        )
    )
    expected = set(owner.invoices.filter(status="DR", date=day).values_list("pk", flat=True))
    assert set(job.items.values_list("document_id", flat=True)) == expected


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"subject": "", "body": "x"}, "Subject: This field is required"),
        ({"subject": "Invoice {INVOICENR}", "body": "x"}, "Unknown placeholder {INVOICENR}"),
    ],
)
def test_bad_templates_are_refused_before_anything_is_stored(partner, parameters, message):
    from tests.jobs.factories import ConnectionFactory

    with pytest.raises(services.JobInputError, match=message):
        services.job_create(
            user=partner,
            connection=ConnectionFactory(user=partner),
            action="invoice.send_by_email",
            selection_spec={"ids": [1]},
            parameters=parameters,
        )
    assert not BatchJob.objects.exists()


def test_preparing_takes_nul_out_of_the_providers_text_and_leaves_the_rest():
    """PostgreSQL text cannot hold NUL; a provider might send it anywhere in a document."""
    document = {"number": "RE-\x001", "contact": {"name": "A\x00G"}, "positions": [{"t": "\x00"}]}
    assert services._without_nul(document) == {
        "number": "RE-1",
        "contact": {"name": "AG"},
        "positions": [{"t": ""}],
    }
    clean = {"number": "RE-1", "contact": {"name": "Müller AG"}, "total": 10.5, "due": None}
    assert services._without_nul(clean) is clean  # nothing to take out: not even copied
    escaped = {"note": "C:\\u0000 is text, not NUL"}  # looks like NUL in JSON: walked, kept
    assert services._without_nul(escaped) == escaped

"""Unclear outcomes are settled by reading the document back, never by sending again."""

from datetime import timedelta

from django.utils import timezone

from partnerapp.connections.services import connection_call
from partnerapp.jobs import engine, services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.smartbusiness.client import DocumentKind, Recipient
from tests.jobs.test_send_job import EMAIL

Item = JobItem.State


def stuck_job(partner, connection, invoice_ids) -> BatchJob:
    """A running job whose items were claimed by a worker that then died."""
    job = services.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": invoice_ids},
        parameters=EMAIL,
    )
    services.job_prepare(job_id=job.pk)
    BatchJob.objects.filter(pk=job.pk).update(status=BatchJob.Status.RUNNING)
    job.items.update(
        state=Item.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(minutes=10)
    )
    return job


def test_a_stuck_item_whose_invoice_was_sent_is_confirmed_sent(connect, sandbox, partner):
    connection = connect()
    invoice = sandbox.drafts_with_email(1)[0]
    job = stuck_job(partner, connection, [invoice])
    connection_call(
        connection,
        lambda api: api.send_by_email(  # the dead worker's call
            DocumentKind.INVOICE,
            invoice,
            subject="s",
            body="b",
            recipients=[Recipient(email="a@example.com", name="A")],
        ),
    )
    assert engine.sweep_stale_sending() == 1
    item = job.items.get()
    assert item.state == Item.SENT and "Confirmed done" in item.outcome
    assert sandbox.outbox()["count"] == 1


def test_a_stuck_item_whose_invoice_is_still_a_draft_is_uncertain(connect, sandbox, partner):
    job = stuck_job(partner, connect(), sandbox.drafts_with_email(1))
    engine.sweep_stale_sending()
    item = job.items.get()
    assert item.state == Item.UNCERTAIN and "not repeated automatically" in item.outcome
    assert sandbox.outbox()["count"] == 0


def test_uncertain_items_are_resent_only_after_confirmation(connect, sandbox, partner):
    job = stuck_job(partner, connect(), sandbox.drafts_with_email(1))
    engine.sweep_stale_sending()
    job.refresh_from_db()
    try:
        services.job_resend_uncertain(job=job, confirmed=False)
        raise AssertionError("resending without confirmation must be refused")
    except services.JobInputError:
        pass
    assert job.items.get().state == Item.UNCERTAIN
    assert services.job_resend_uncertain(job=job, confirmed=True) == 1
    engine.job_work(job_id=job.pk, seconds=5)
    assert job.items.get().state == Item.SENT and sandbox.outbox()["count"] == 1


def test_a_stalled_job_is_found_by_the_sweeper(connect, sandbox, partner):
    job = stuck_job(partner, connect(), sandbox.drafts_with_email(1))
    BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert list(engine.sweep_stalled_jobs()) == [job.pk]

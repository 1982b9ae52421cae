"""Send-by-email jobs end to end: real worker subprocess, real broker, sandbox over HTTP."""

from collections import Counter

import pytest

from partnerapp.jobs import services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.sandbox.models import Grant, Invoice
from partnerapp.sandbox.services import grant_revoke
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
Item, Job = JobItem.State, BatchJob.Status
EMAIL = {"subject": "Invoice {INVOICENO}", "body": "{SALUTATION}\n{TOTAL}"}


def email_job(user, connection, ids, **parameters) -> BatchJob:
    """A send-by-email job that starts by itself once prepared (no preview step)."""
    return services.job_create(
        user=user,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": ids},
        parameters={**EMAIL, **parameters},
        auto_start=True,
    )


def finished(job: BatchJob):
    job.refresh_from_db()
    return job.status if job.is_finished else None


def test_five_drafts_are_each_sent_exactly_once(connect, sandbox, partner, worker):
    connection = connect()
    ids = sandbox.drafts_with_email(5)
    job = email_job(partner, connection, ids)
    assert wait_for(lambda: finished(job), timeout=90, message="job finished") == Job.DONE
    items = list(job.items.all())
    assert [item.state for item in items] == [Item.SENT] * 5
    outbox = sandbox.outbox()
    assert Counter(e["document_id"] for e in outbox["items"]) == dict.fromkeys(ids, 1)
    assert {e["request_id"] for e in outbox["items"]} == {item.request_id for item in items}
    assert set(Invoice.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"S"}


def test_each_invoice_gets_its_own_outcome(connect, sandbox, partner, worker):
    owner = sandbox.owner
    no_email = owner.invoices.filter(status="DR").first()
    no_email.contact.email = ""
    no_email.contact.save()
    bad_email = owner.invoices.filter(status="DR").exclude(contact=no_email.contact).first()
    bad_email.contact.email = "anna(at)example.ch"
    bad_email.contact.save()
    already_sent = owner.invoices.filter(status="S").first()
    good = sandbox.drafts_with_email(1)[0]
    job = email_job(partner, connect(), [no_email.pk, bad_email.pk, already_sent.pk, good, 999999])
    wait_for(lambda: finished(job), timeout=90, message="job finished")
    by_id = {item.document_id: item for item in job.items.all()}
    assert by_id[no_email.pk].state == Item.SKIPPED
    assert "no email" in by_id[no_email.pk].outcome
    assert by_id[already_sent.pk].state == Item.SKIPPED
    assert by_id[999999].state == Item.SKIPPED
    assert by_id[good].state == Item.SENT
    # A malformed address is skipped when the job is prepared (the preview says why),
    # not refused by the provider at send time.
    malformed = by_id[bad_email.pk]
    assert malformed.state == Item.SKIPPED and malformed.attempts == 0
    assert "“anna(at)example.ch” is not a valid email address" in malformed.outcome
    assert sandbox.outbox()["count"] == 1


def test_a_revoked_grant_pauses_the_job_until_the_owner_reconnects(
    connect, sandbox, partner, worker
):
    connection = connect()
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    job = email_job(partner, connection, sandbox.drafts_with_email(3))
    wait_for(lambda: BatchJob.objects.get(pk=job.pk).status == Job.PAUSED, message="paused")
    job.refresh_from_db()
    assert job.pause_reason == BatchJob.PauseReason.NEEDS_REAUTH
    connect()  # the owner consents again
    assert wait_for(lambda: finished(job), timeout=90, message="job finished") == Job.DONE
    assert sandbox.outbox()["count"] == 3
    assert job.items.filter(state=Item.SENT).count() == 3

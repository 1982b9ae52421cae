"""An email the provider refused for its address (422): no blind retry, a corrected address
sends it once. Real worker, real broker, the sandbox over HTTP."""

import threading

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from partnerapp.jobs import outcomes, services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.organizations.models import AuditEvent
from tests.jobs.test_send_job import EMAIL, finished
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
Item, Job = JobItem.State, BatchJob.Status
REFUSED = "anna@example..ch"  # the sandbox, like the provider, refuses it with a 422
CORRECTED = "anna@example.ch"


def refused_job(partner, connection, draft: int) -> BatchJob:
    """A job whose one email the provider refuses for its address. Our own check at
    preparation skips addresses it knows to be bad; a provider may refuse more (a stricter
    validator, a domain it knows is dead), so the prepared item's address is set here."""
    job = services.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": [draft]},
        parameters=EMAIL,
    )
    wait_for(lambda: BatchJob.objects.get(pk=job.pk).prepared_at, timeout=90, message="prepared")
    job.items.update(recipient_email=REFUSED)
    job.refresh_from_db()
    services.job_start(job=job)
    assert wait_for(lambda: finished(job), timeout=90, message="job done") == Job.DONE
    return job


def test_a_refused_address_is_not_retried_and_a_corrected_one_is_sent_once(
    connect, sandbox, partner, worker
):
    connection = connect()
    [draft] = sandbox.drafts_with_email(1)
    job = refused_job(partner, connection, draft)
    item = job.items.get()
    assert (item.state, item.error_status, item.outcome_code) == (
        Item.FAILED,
        422,
        "provider.invalid_data",
    )
    assert item.outcome_params["retryable"] is False
    assert "recipients[0].email" in item.outcome  # the provider's words, verbatim
    assert services.job_retry_failed(job=job) == 0  # the same request would be refused again

    client = Client()
    client.force_login(partner)
    job_page = client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert reverse("dashboard:job_control", args=[job.pk, "retry-failed"]) not in job_page
    item_url = reverse("dashboard:job_item", args=[job.pk, item.pk])
    assert 'data-testid="item-recipient"' in client.get(item_url).content.decode()

    # The refusal, written by the worker in English, reads in German on the invoice's page.
    client.cookies["django_language"] = "de"
    with translation.override("de"):
        german = outcomes.render(item, job)
    assert german != item.outcome
    invoice_url = reverse("dashboard:invoice", args=[connection.pk, draft])
    assert german in client.get(invoice_url).content.decode()

    bad = client.post(
        reverse("dashboard:job_item_recipient", args=[job.pk, item.pk]),
        {"recipients": "anna(at)example.ch"},
    )
    assert bad.status_code == 400 and "anna(at)example.ch" in bad.content.decode()
    assert JobItem.objects.get(pk=item.pk).state == Item.FAILED  # nothing lost, nothing sent

    answers = post_twice_at_once(partner, job, item)
    assert sorted(answers) == [302, 302]
    assert wait_for(lambda: finished(job), timeout=90, message="job done again") == Job.DONE
    item.refresh_from_db()
    assert (item.state, item.recipient_email, item.outcome_code) == (Item.SENT, CORRECTED, "")
    outbox = sandbox.outbox()
    assert outbox["sends_per_document"] == {f"invoice:{draft}": 1}
    assert [r["email"] for r in outbox["items"][0]["recipients"]] == [CORRECTED]
    assert AuditEvent.objects.filter(action="job.recipient").count() == 1


def post_twice_at_once(partner, job, item) -> list[int]:
    """Two people (or a double click) correct the address at the same moment."""
    barrier, answers = threading.Barrier(2), []

    def post():
        try:
            client = Client()
            client.force_login(partner)
            barrier.wait()
            url = reverse("dashboard:job_item_recipient", args=[job.pk, item.pk])
            answers.append(client.post(url, {"recipients": CORRECTED}).status_code)
        finally:
            db_connection.close()  # this thread's own connection

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers

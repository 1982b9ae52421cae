"""A send-by-email job may send every document to override addresses instead of the
contact's: validated as emails at creation, used for every item, sent to each address."""

import pytest

from partnerapp.jobs import engine, services
from partnerapp.jobs.models import BatchJob, JobItem

EMAIL = {"subject": "Rechnung {INVOICENO}", "body": "{SALUTATION}"}


def create(user, connection, ids, override):
    return services.job_create(
        user=user,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": ids},
        parameters={**EMAIL, "recipient_override": override},
    )


@pytest.mark.parametrize(
    "override", [["ok@example.com", "not an address"], "ok@example.com, x@", ["@example.com"]]
)
def test_override_addresses_must_be_emails(connect, partner, sandbox, override):
    with pytest.raises(services.JobInputError, match="Not an email address"):
        create(partner, connect(), sandbox.drafts_with_email(1), override)
    assert not BatchJob.objects.exists()


def test_too_many_override_addresses_are_refused(connect, partner, sandbox):
    many = [f"person{n}@example.com" for n in range(20)]
    with pytest.raises(services.JobInputError, match="at most 254"):
        create(partner, connect(), sandbox.drafts_with_email(1), many)


def test_every_item_goes_to_every_override_address(connect, partner, sandbox):
    ids = sandbox.drafts_with_email(2)
    job = create(partner, connect(), ids, ["a@example.com", "b@example.org"])
    services.job_prepare(job_id=job.pk)  # in this process: no worker needed to read two ids
    items = list(job.items.order_by("pk"))
    assert [item.recipient_email for item in items] == ["a@example.com, b@example.org"] * 2
    assert all(item.state == JobItem.State.PENDING for item in items)
    job.refresh_from_db()
    services.job_start(job=job)
    while engine.job_work(job_id=job.pk, seconds=5).more:
        pass
    outbox = sandbox.outbox()
    assert outbox["count"] == 2
    for email in outbox["items"]:
        assert sorted(r["email"] for r in email["recipients"]) == ["a@example.com", "b@example.org"]
    contact_emails = {sandbox.owner.invoices.get(pk=i).contact.email for i in ids}
    sent_to = {r["email"] for e in outbox["items"] for r in e["recipients"]}
    assert not contact_emails & sent_to


def test_one_override_address_keeps_the_contacts_name(connect, partner, sandbox):
    ids = sandbox.drafts_with_email(1)
    job = create(partner, connect(), ids, "accounting@example.com")
    services.job_prepare(job_id=job.pk)
    item = job.items.get()
    assert item.recipient_email == "accounting@example.com"
    assert item.recipient_name == sandbox.owner.invoices.get(pk=ids[0]).contact.name

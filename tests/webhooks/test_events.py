"""Which events are stored for which endpoints, and where in the app they are emitted."""

from __future__ import annotations

import pytest

from partnerapp.jobs import outcomes, states
from partnerapp.jobs.models import JobItem
from partnerapp.jobs.operations import operation_for
from partnerapp.organizations.current import personal_organization
from partnerapp.organizations.models import Organization
from partnerapp.receivables.models import BankUpload
from partnerapp.webhooks import events, services
from partnerapp.webhooks.models import WebhookDelivery, WebhookEvent
from tests.connections.test_connect_links import client_consents, make_link
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory

Item = JobItem.State


def test_an_event_goes_to_each_enabled_endpoint_that_subscribes(db, partner, subscribe):
    wants = subscribe(["job.finished", "job.paused"])
    also = subscribe(["job.finished"])
    subscribe(["job.paused"])  # not this event
    off = subscribe(["job.finished"])
    services.endpoint_set_enabled(user=partner, endpoint=off, enabled=False)

    event = events.emit(personal_organization(partner).pk, "job.finished", {"job": {"id": 1}})

    assert set(event.deliveries.values_list("endpoint", flat=True)) == {wants.pk, also.pk}
    assert event.pk.startswith("msg_")
    assert set(event.deliveries.values_list("state", "attempt")) == {("pending", 1)}


def test_no_endpoint_no_event(db, partner):
    assert events.emit(personal_organization(partner).pk, "job.finished", {}) is None
    assert not WebhookEvent.objects.exists()


def test_another_organizations_endpoints_hear_nothing(db, partner, outsider, subscribe):
    subscribe()
    events.emit(personal_organization(outsider).pk, "job.finished", {})
    assert not WebhookDelivery.objects.exists()


def test_an_unknown_event_type_is_a_programming_error(db, partner):
    with pytest.raises(ValueError, match="unknown webhook event"):
        events.emit(personal_organization(partner).pk, "job.exploded", {})


def test_each_item_that_becomes_uncertain_is_one_event(db, partner, subscribe):
    subscribe(["job.item_uncertain"])
    connection = ConnectionFactory(user=partner, organization=personal_organization(partner))
    job = JobFactory(connection=connection)
    first, second = (JobItemFactory(job=job, state=Item.SENDING) for _ in range(2))
    JobItemFactory(job=job, state=Item.UNCERTAIN)  # earlier: not reported again

    for item in (first, second):
        states.item_move(
            JobItem.objects.filter(pk=item.pk), source=Item.SENDING, target=Item.UNCERTAIN
        )

    found = WebhookEvent.objects.filter(type="job.item_uncertain").order_by("created_at")
    assert [event.payload["item"]["id"] for event in found] == [first.pk, second.pk]
    data = found[0].payload
    assert data["job"]["id"] == job.pk and data["item"]["document_number"] == first.document_number
    assert data["item"]["url"].endswith(f"/jobs/{job.pk}/items/{first.pk}/")


def test_an_uncertain_items_event_carries_its_outcome_code_and_parameters(db, partner, subscribe):
    subscribe(["job.item_uncertain"])
    connection = ConnectionFactory(user=partner, organization=personal_organization(partner))
    item = JobItemFactory(job=JobFactory(connection=connection), state=Item.SENDING)
    reason = outcomes.worker_stopped_reason(None).nested()
    states.item_move(
        JobItem.objects.filter(pk=item.pk),
        source=Item.SENDING,
        target=Item.UNCERTAIN,
        **outcomes.record("uncertain", reason=reason),
    )
    [event] = WebhookEvent.objects.filter(type="job.item_uncertain")
    said = event.payload["item"]
    assert said["outcome_code"] == "uncertain"
    assert said["outcome_params"] == {"reason": {"code": "worker_stopped_reason", "params": {}}}
    assert said["outcome"].startswith("Unclear whether it was done (the worker stopped)")


def test_other_item_moves_emit_nothing(db, partner, subscribe):
    subscribe(list(events.EVENT_TYPES))
    item = JobItemFactory(
        job__connection=ConnectionFactory(
            user=partner, organization=personal_organization(partner)
        ),
        state=Item.SENDING,
    )
    states.item_move(JobItem.objects.filter(pk=item.pk), source=Item.SENDING, target=Item.SENT)
    assert not WebhookEvent.objects.exists()


def test_the_end_of_a_payment_job_is_a_payment_import_event(db, partner, subscribe):
    subscribe(["payment_import.finished"])
    connection = ConnectionFactory(user=partner, organization=personal_organization(partner))
    upload = BankUpload.objects.create(
        user=partner, connection=connection, sha256="0" * 64, format="camt.054"
    )
    job = JobFactory(
        connection=connection,
        action="invoice.record_payments",
        selection={"bank_upload": upload.pk},
        parameters={"payments": []},
        status="done",
    )
    JobItemFactory(job=job, state=Item.SENT)
    JobItemFactory(job=job, state=Item.FAILED)

    operation_for(job.action).job_finished(job)

    event = WebhookEvent.objects.get(type="payment_import.finished")
    assert event.payload["bank_upload"]["id"] == upload.pk
    assert event.payload["bank_upload"]["url"].endswith(f"/bank-files/{upload.pk}/")
    assert event.payload["counts"] == {
        "total": 2,
        "sent": 1,
        "failed": 1,
        "skipped": 0,
        "uncertain": 0,
    }


def test_a_client_using_a_connect_link_is_an_event(sandbox, partner, subscribe):
    firm = Organization.objects.create(name="Treuhand Muster AG")
    firm.memberships.create(user=partner, role="owner")
    subscribe(["connect_link.completed", "connection.recovered"], organization=firm)
    link, token = make_link(firm, partner)

    browser, callback = client_consents(sandbox, token)
    assert browser.get(callback).status_code == 200

    event = WebhookEvent.objects.get()
    link.refresh_from_db()
    assert event.organization == firm and event.type == "connect_link.completed"
    assert event.payload["connect_link"] == {
        "id": link.pk,
        "client_name": "Bäckerei Brunner GmbH",
        "completed_at": link.completed_at.isoformat(),
    }
    assert event.payload["connection"]["id"] == link.connection_id
    assert event.payload["connection"]["owner_name"] == "Anna Keller"

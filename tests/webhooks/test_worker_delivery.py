"""Deliveries by a real Celery worker to a local receiver that verifies each signature:
success, retries after 500s, a receiver that times out, giving up; and the events of a
real job over the sandbox."""

from __future__ import annotations

import pytest
from django.db import transaction

from partnerapp.connections.models import Connection
from partnerapp.jobs import services as jobs
from partnerapp.jobs.models import BatchJob
from partnerapp.organizations.current import personal_organization
from partnerapp.sandbox.models import Grant
from partnerapp.sandbox.services import grant_revoke
from partnerapp.webhooks import events
from partnerapp.webhooks.models import WebhookDelivery
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
State = WebhookDelivery.State
FAST = {"WEBHOOKS_RETRY_DELAYS": "1,1,1,1,1,1,1"}  # the day-long schedule, in seconds


def emit_one(partner) -> str:
    """A job.finished event, emitted the way the app does (enqueued on commit)."""
    with transaction.atomic():
        event = events.emit(personal_organization(partner).pk, "job.finished", {"job": {"id": 1}})
    return event.pk


def attempts(event_id: str) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(event_id=event_id).order_by("attempt"))


def settled(event_id: str):
    """The attempts once the last one is no longer pending, else None."""
    found = attempts(event_id)
    return found if found and found[-1].state != State.PENDING else None


def test_an_event_is_delivered_by_the_worker_and_verified(
    partner, subscribe, receiver, start_worker
):
    subscribe()
    start_worker(env=FAST)
    event_id = emit_one(partner)

    (only,) = wait_for(lambda: settled(event_id), message="delivered")
    assert only.state == State.SUCCEEDED and only.status_code == 200
    (request,) = receiver.verified()
    assert request.headers["webhook-id"] == event_id
    assert request.payload["data"] == {"job": {"id": 1}}


def test_500s_are_retried_with_backoff_until_the_receiver_accepts(
    partner, subscribe, receiver, start_worker
):
    subscribe()
    receiver.answers = [500, 500, 200]
    start_worker(env=FAST)
    event_id = emit_one(partner)

    log = wait_for(lambda: settled(event_id), timeout=60, message="delivered after retries")
    assert [(d.attempt, d.state, d.status_code) for d in log] == [
        (1, State.FAILED, 500),
        (2, State.FAILED, 500),
        (3, State.SUCCEEDED, 200),
    ]
    assert len(receiver.verified()) == 3  # every attempt signed, the same webhook-id
    assert {r.headers["webhook-id"] for r in receiver.received} == {event_id}


def test_a_receiver_that_times_out_is_tried_again(partner, subscribe, receiver, start_worker):
    subscribe()
    receiver.answers = [("sleep", 4), 200]
    start_worker(env={**FAST, "WEBHOOKS_READ_TIMEOUT": "1"})
    event_id = emit_one(partner)

    log = wait_for(lambda: settled(event_id), timeout=60, message="delivered after a timeout")
    assert [(d.attempt, d.state) for d in log] == [(1, State.FAILED), (2, State.SUCCEEDED)]
    assert log[0].status_code is None and "timeout" in log[0].error


def test_delivery_gives_up_after_the_last_attempt(partner, subscribe, receiver, start_worker):
    endpoint = subscribe()
    receiver.answers = [500]
    start_worker(env={"WEBHOOKS_RETRY_DELAYS": "1,1"})
    event_id = emit_one(partner)

    log = wait_for(lambda: settled(event_id), timeout=60, message="given up")
    assert [(d.attempt, d.state) for d in log] == [
        (1, State.FAILED),
        (2, State.FAILED),
        (3, State.GIVEN_UP),
    ]
    assert len(receiver.received) == 3
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is not None  # not three days yet


def test_a_real_job_reports_pause_reauth_recovery_and_its_end(
    connect, sandbox, partner, subscribe, receiver, start_worker
):
    subscribe(events=list(events.EVENT_TYPES))
    start_worker(env=FAST)
    connection = connect()
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    ids = sandbox.drafts_with_email(2)
    job = jobs.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": ids},
        parameters={"subject": "Invoice {INVOICENO}", "body": "{TOTAL}"},
        auto_start=True,
    )
    wait_for(lambda: BatchJob.objects.get(pk=job.pk).status == "paused", message="paused")
    connect()  # the owner consents again: the job resumes and finishes

    def types():
        return [r.payload["type"] for r in receiver.verified()]

    wait_for(lambda: "job.finished" in types(), timeout=90, message="job.finished delivered")
    got = {r.payload["type"]: r.payload["data"] for r in receiver.verified()}
    assert {"connection.needs_reauth", "job.paused", "connection.recovered"} <= set(got)
    assert got["job.finished"]["job"]["id"] == job.pk
    assert got["job.finished"]["counts"] == {
        "total": 2,
        "sent": 2,
        "failed": 0,
        "skipped": 0,
        "uncertain": 0,
    }
    assert got["job.paused"]["reason"] == "needs_reauth"
    assert got["connection.recovered"]["connection"]["id"] == connection.pk
    assert got["connection.needs_reauth"]["connection"]["status"] == "needs_reauth"
    tokens = Connection.objects.get(pk=connection.pk)
    bodies = b"".join(r.body for r in receiver.received)
    assert tokens.access_token.encode() not in bodies
    assert tokens.refresh_token.encode() not in bodies

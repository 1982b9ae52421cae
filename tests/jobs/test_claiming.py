"""The claim and its ledger rows as one statement (PostgreSQL), attacked from outside.

The claim reads candidates ahead (`claiming.py`); these tests change the items behind
its back — another process claims one, a person reopens one at another step, another
job holds one of an item's two actions — and count what the database says: every
item claimed once, no ledger row without its claimed item, no row for the wrong action.
"""

import threading
from unittest.mock import patch

import pytest
from django.db import connections as db_connections
from django.test.utils import CaptureQueriesContext

from partnerapp.jobs import claiming, engine, services, states
from partnerapp.jobs.models import ActionClaim, BatchJob, JobItem
from tests.conftest import require_postgresql
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory
from tests.jobs.test_send_job import EMAIL

Item, Job = JobItem.State, BatchJob.Status


def running_job(connection, document_ids, **fields) -> BatchJob:
    job = JobFactory(connection=connection, status=Job.RUNNING, **fields)
    for document_id in document_ids:
        JobItemFactory(job=job, document_id=document_id, document_status="S")
    return job


def active_rows() -> list[tuple[int, str, int]]:
    rows = ActionClaim.objects.filter(active=True).order_by("document_id", "action")
    return list(rows.values_list("document_id", "action", "item_id"))


def test_a_candidate_another_process_claimed_is_passed_over(db):
    require_postgresql()
    job = running_job(ConnectionFactory(), [7, 8, 9])
    first = engine.item_claim_next(job)  # reads 8 and 9 ahead as candidates
    theirs = states.item_claim_due(job_id=job.pk, now=first.claimed_at)  # "another process"
    mine = engine.item_claim_next(job)
    assert {first.document_id, theirs.document_id, mine.document_id} == {7, 8, 9}
    assert engine.item_claim_next(job) is None
    # the other process takes its ledger rows itself; ours are exactly our two items'
    assert [row[0] for row in active_rows()] == sorted([first.document_id, mine.document_id])


def test_an_item_reopened_at_another_step_is_claimed_for_that_step(db):
    require_postgresql()
    job = running_job(ConnectionFactory(), [7, 8], action="invoice.send_reminders")
    engine.item_claim_next(job)  # 7; 8 waits as a candidate read at step 0
    JobItem.objects.filter(job=job, document_id=8).update(step=1)  # its first step was done
    claimed = engine.item_claim_next(job)
    assert (claimed.document_id, claimed.step) == (8, 1)
    actions = [action for document, action, _item in active_rows() if document == 8]
    assert actions == ["send_reminder:R1"]  # not the status change it no longer needs


def test_one_of_two_actions_held_elsewhere_takes_neither_and_skips_the_item(db):
    require_postgresql()
    connection = ConnectionFactory()
    holder = running_job(connection, [7], action="invoice.send_reminders")
    held = engine.item_claim_next(holder)
    ActionClaim.objects.filter(item=held, action__startswith="change_status").delete()
    later = running_job(connection, [7], action="invoice.send_reminders")
    assert engine.item_claim_next(later) is None
    lost = later.items.get()
    assert lost.state == Item.SKIPPED and lost.attempts == 0 and lost.conflict_item == held
    assert [item for _d, _a, item in active_rows()] == [held.pk]  # nothing of the loser's


@pytest.mark.django_db(transaction=True)
def test_threads_claiming_one_job_claim_each_item_once():
    require_postgresql()
    job = running_job(ConnectionFactory(), range(1, 301))
    claimed: list[int] = []
    lock = threading.Lock()

    def claim_all():
        try:
            while (item := engine.item_claim_next(job)) is not None:
                with lock:
                    claimed.append(item.pk)
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=claim_all) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == len(set(claimed)) == 300
    assert job.items.filter(state=Item.SENDING).count() == 300
    rows = ActionClaim.objects.filter(active=True, item__job=job)
    assert sorted(rows.values_list("item_id", flat=True)) == sorted(claimed)


def test_without_postgresql_the_claim_is_one_transaction(db, settings):
    job = running_job(ConnectionFactory(), [7])
    item = claiming._claim_in_transaction(job)
    assert item.state == Item.SENDING
    assert [row[:2] for row in active_rows()] == [(7, "send_by_email")]


def test_when_every_candidate_is_gone_the_first_due_item_is_claimed_in_a_transaction(
    db, monkeypatch
):
    require_postgresql()
    job = running_job(ConnectionFactory(), [7, 8])
    monkeypatch.setattr(claiming, "_claim", lambda job, candidate, sent: (None, False))  # all gone
    item = engine.item_claim_next(job)
    assert (item.document_id, item.state) == (7, Item.SENDING)
    assert [row[:2] for row in active_rows()] == [(7, "send_by_email")]  # with its ledger row


def sent_record(job: BatchJob, item: JobItem, request_id: str):
    done = engine._step_record(job, item, request_id=request_id, proven=False)
    return engine._sent(item, request_id=request_id, **done)


def test_the_previous_item_is_recorded_sent_by_the_next_claims_own_statement(db):
    require_postgresql()
    job = running_job(ConnectionFactory(), [7, 8])
    first = engine.item_claim_next(job)  # reads 8 ahead as a candidate
    record = sent_record(job, first, "r-7")
    with CaptureQueriesContext(db_connections["default"]) as queries:
        second = claiming.item_claim_next(job, sent=record)
    assert len(queries) == 1  # the record and the claim: one round trip
    assert (second.document_id, second.state) == (8, Item.SENDING)
    first.refresh_from_db()
    assert (first.state, first.request_id, first.step) == (Item.SENT, "r-7", 1)
    assert first.finished_at is not None and first.step_log[0]["request_id"] == "r-7"
    assert first.outcome == first.outcome_code == ""


def test_with_nothing_left_to_claim_the_previous_item_is_recorded_alone(db):
    require_postgresql()
    job = running_job(ConnectionFactory(), [7])
    first = engine.item_claim_next(job)
    assert claiming.item_claim_next(job, sent=sent_record(job, first, "r-7")) is None
    first.refresh_from_db()
    assert (first.state, first.request_id) == (Item.SENT, "r-7")


def test_a_previous_item_someone_else_decided_meanwhile_keeps_their_decision(db):
    require_postgresql()
    job = running_job(ConnectionFactory(), [7, 8])
    first = engine.item_claim_next(job)
    record = sent_record(job, first, "r-7")
    JobItem.objects.filter(pk=first.pk).update(state=Item.UNCERTAIN)  # a sweeper was faster
    second = claiming.item_claim_next(job, sent=record)
    assert second.document_id == 8
    first.refresh_from_db()
    assert first.state == Item.UNCERTAIN and first.request_id == ""


def test_without_postgresql_the_previous_item_is_recorded_before_the_claim(db, settings):
    job = running_job(ConnectionFactory(), [7, 8])
    first = claiming._claim_in_transaction(job)
    record = sent_record(job, first, "r-7")
    with patch.object(db_connections["default"], "vendor", "sqlite"):
        second = claiming.item_claim_next(job, sent=record)
    assert second.document_id == 8
    first.refresh_from_db()
    assert (first.state, first.request_id) == (Item.SENT, "r-7")


def test_a_slice_that_fails_before_its_next_claim_still_records_the_item_it_sent(
    connect, sandbox, partner, monkeypatch
):
    """The record waits for the next claim only while nothing else happens: whatever ends
    the slice (here the claim itself fails), the item the provider acted on is recorded."""
    job = services.job_create(
        user=partner,
        connection=connect(),
        action="invoice.send_by_email",
        selection_spec={"ids": sandbox.drafts_with_email(2)},
        parameters=EMAIL,
    )
    services.job_prepare(job_id=job.pk)
    BatchJob.objects.filter(pk=job.pk).update(status=Job.RUNNING)
    real_claim, calls = claiming.item_claim_next, []

    def claim_then_fail(job, *, sent=None):
        calls.append(sent)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_claim(job, sent=sent)

    monkeypatch.setattr(claiming, "item_claim_next", claim_then_fail)
    with pytest.raises(RuntimeError):
        engine.job_work(job_id=job.pk, seconds=30)
    assert calls[1] is not None  # the first item's record was waiting for the claim
    states_by_item = dict(job.items.values_list("state", "request_id").order_by("id"))
    assert list(states_by_item) == [Item.SENT, Item.PENDING]
    assert states_by_item[Item.SENT] != ""  # with the provider's request id
    assert sandbox.outbox()["count"] == 1

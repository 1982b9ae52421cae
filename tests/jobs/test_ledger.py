"""At most once per (provider account, document, action) — across jobs, users and schedules.

The first tests drive the claim directly (no provider call): who wins, what the loser
says, when a document is free again. The rest attack the invariant from outside the
engine, as people do: two jobs confirmed together, a schedule firing during a manual
job, two partner users on the same provider account, eight jobs over the same drafts
with two real workers. The assertion is always the sandbox's outbox.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections as db_connections
from django.utils import timezone

from partnerapp.jobs import engine, ledger, outcomes, schedules, services
from partnerapp.jobs.models import ActionClaim, BatchJob, JobItem, Schedule
from partnerapp.jobs.preview import job_preview
from partnerapp.sandbox import faults
from partnerapp.sandbox.seeding import seed_owner
from tests.conftest import require_postgresql
from tests.factories import UserFactory
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory
from tests.jobs.test_preview import draft_job, prepared
from tests.jobs.test_send_job import EMAIL, email_job, finished
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

Item, Job = JobItem.State, BatchJob.Status


def running_job(connection, document_ids, **fields) -> BatchJob:
    job = JobFactory(connection=connection, status=Job.RUNNING, **fields)
    for document_id in document_ids:
        JobItemFactory(job=job, document_id=document_id)
    return job


# -- the claim, without a provider ------------------------------------------------------------


def test_a_second_job_loses_the_claim_and_names_the_first(db):
    connection = ConnectionFactory()
    first, second = running_job(connection, [7]), running_job(connection, [7])
    mine = engine.item_claim_next(first)
    assert mine is not None and mine.state == Item.SENDING
    assert engine.item_claim_next(second) is None
    lost = second.items.get()
    assert lost.state == Item.SKIPPED and lost.attempts == 0
    assert lost.conflict_item == mine
    assert lost.outcome == f"In progress in job #{first.pk}."


def test_the_loser_names_the_send_once_it_is_done(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    mine = engine.item_claim_next(first)
    engine._finish(mine, Item.SENT, outcome=None, request_id="r-1")
    later = running_job(connection, [7])
    assert engine.item_claim_next(later) is None
    outcome = later.items.get().outcome
    assert outcome.startswith(f"Already sent by job #{first.pk} on ")
    assert "resend" in outcome


def test_a_refused_call_frees_the_document_for_another_job(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    mine = engine.item_claim_next(first)
    engine._finish(mine, Item.FAILED, outcome=outcomes.outcome("provider.invalid_data"))
    assert not ActionClaim.objects.filter(active=True).exists()
    second = running_job(connection, [7])
    assert engine.item_claim_next(second) is not None


def test_an_item_put_back_to_pending_frees_the_document(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    engine._release(engine.item_claim_next(first), outcome=outcomes.outcome("rate_limited"))
    assert first.items.get().state == Item.PENDING
    assert not ActionClaim.objects.exists()


def test_an_uncertain_item_keeps_its_document_and_may_take_it_again(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    mine = engine.item_claim_next(first)
    engine._finish(
        mine,
        Item.UNCERTAIN,
        outcome=outcomes.outcome("uncertain", reason={"code": "worker_stopped_reason"}),
    )
    other = running_job(connection, [7])
    assert engine.item_claim_next(other) is None
    assert "may already have done this" in other.items.get().outcome
    services.job_resend_uncertain(job=first, confirmed=True)  # a person checked
    assert engine.item_claim_next(first).pk == mine.pk


def test_resend_retires_a_finished_send_but_never_one_in_progress(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7, 8])
    sent = engine.item_claim_next(first)
    engine._finish(sent, Item.SENT, outcome=None)
    in_progress = engine.item_claim_next(first)
    resend = running_job(connection, [7, 8], parameters={**EMAIL, "resend": True})
    again = engine.item_claim_next(resend)
    assert again is not None and again.document_id == sent.document_id
    assert engine.item_claim_next(resend) is None
    assert resend.items.get(document_id=in_progress.document_id).state == Item.SKIPPED
    assert ActionClaim.objects.filter(document_id=7, active=False).count() == 1


def test_each_status_move_is_its_own_action(db):
    connection = ConnectionFactory()
    to_sent = running_job(
        connection, [7], action="invoice.change_status", parameters={"status": "S"}
    )
    engine._finish(engine.item_claim_next(to_sent), Item.SENT, outcome=None)
    to_reminder = JobFactory(
        connection=connection,
        status=Job.RUNNING,
        action="invoice.change_status",
        parameters={"status": "R1"},
    )
    JobItemFactory(job=to_reminder, document_id=7, document_status="S")
    assert engine.item_claim_next(to_reminder) is not None  # S → R1 is another move
    to_sent_again = running_job(
        connection, [7], action="invoice.change_status", parameters={"status": "S"}
    )
    assert engine.item_claim_next(to_sent_again) is None
    assert to_sent_again.items.get().outcome.startswith(f"Already done by job #{to_sent.pk}")


def test_email_and_post_of_the_same_document_are_different_actions(db):
    connection = ConnectionFactory()
    engine.item_claim_next(running_job(connection, [7]))
    by_post = running_job(connection, [7], action="invoice.send_by_post", parameters={})
    assert engine.item_claim_next(by_post) is not None


def test_two_users_connected_to_one_provider_account_share_the_ledger(db):
    mine = ConnectionFactory(account_id="4711")
    theirs = ConnectionFactory(user=UserFactory(), account_id="4711", base_url=mine.base_url)
    first = running_job(mine, [7])
    engine._finish(engine.item_claim_next(first), Item.SENT, outcome=None)
    other = running_job(theirs, [7])
    assert engine.item_claim_next(other) is None
    outcome = other.items.get().outcome
    assert "another partnerapp user" in outcome
    assert f"#{first.pk}" not in outcome  # another tenant's job number is not theirs to see


def test_another_provider_account_is_not_affected(db):
    engine.item_claim_next(running_job(ConnectionFactory(account_id="1"), [7]))
    assert engine.item_claim_next(running_job(ConnectionFactory(account_id="2"), [7]))


def test_a_cancel_frees_a_reopened_item_s_document(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    engine._finish(
        engine.item_claim_next(first),
        Item.UNCERTAIN,
        outcome=outcomes.outcome("uncertain", reason={"code": "worker_stopped_reason"}),
    )
    services.job_resend_uncertain(job=first, confirmed=True)
    first.refresh_from_db()
    services.job_cancel(job=first)
    assert not ActionClaim.objects.filter(active=True).exists()


def test_the_holders_of_a_preview_are_the_ledger_rows_of_other_items(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7, 8])
    engine._finish(engine.item_claim_next(first), Item.SENT, outcome=None)
    draft = JobFactory(connection=connection)
    items = [JobItem(job=draft, document_id=7), JobItem(job=draft, document_id=9)]
    assert set(ledger.holders_for(draft, items)) == {(7, "")}


def test_a_preview_shown_after_another_job_ran_skips_what_it_did(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7, 8])
    engine._finish(engine.item_claim_next(first), Item.SENT, outcome=None)
    later = JobFactory(connection=connection, prepared_at=timezone.now())
    for document_id in (7, 8, 9):
        JobItemFactory(job=later, document_id=document_id)
    shown = job_preview(later)
    assert (shown.counts[Item.PENDING], shown.counts[Item.SKIPPED]) == (2, 1)
    skipped = later.items.get(document_id=7)
    assert skipped.conflict_item.job_id == first.pk
    assert [(o.job, o.count) for o in shown.overlaps] == [(first, 1)]  # 8 waits in it too


def test_the_confirm_looks_again_too(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    later = JobFactory(connection=connection, prepared_at=timezone.now())
    JobItemFactory(job=later, document_id=7)
    engine._finish(engine.item_claim_next(first), Item.SENT, outcome=None)
    services.job_start(job=later)
    assert later.items.get().state == Item.SKIPPED


def test_a_resend_job_shows_the_earlier_send_beside_the_document(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    engine._finish(engine.item_claim_next(first), Item.SENT, outcome=None)
    resend = JobFactory(connection=connection, parameters={**EMAIL, "resend": True})
    JobItemFactory(job=resend, document_id=7)
    shown = job_preview(resend)
    assert shown.counts[Item.PENDING] == 1  # not skipped: a person asked for it
    [(item, earlier)] = shown.again
    assert (item.document_id, earlier.item.job_id, earlier.item.state) == (7, first.pk, "sent")


def test_the_preview_names_other_unconfirmed_jobs_over_the_same_documents(db):
    connection = ConnectionFactory()
    mine = JobFactory(connection=connection, prepared_at=timezone.now())
    back_and_continue = JobFactory(connection=connection, prepared_at=timezone.now())
    colleague = ConnectionFactory(account_id=connection.account_id, user=UserFactory())
    theirs = JobFactory(connection=colleague, prepared_at=timezone.now())
    for job, documents in ((mine, [7, 8, 9]), (back_and_continue, [7, 8]), (theirs, [9])):
        for document_id in documents:
            JobItemFactory(job=job, document_id=document_id)
    overlaps = job_preview(mine).overlaps
    assert [(o.job, o.count) for o in overlaps] == [(back_and_continue, 2), (None, 1)]


def test_eight_jobs_claiming_at_once_take_each_document_once(transactional_db):
    require_postgresql()
    connection = ConnectionFactory()
    documents = list(range(1, 101))
    jobs = [running_job(connection, documents) for _ in range(8)]
    start = threading.Barrier(len(jobs))

    def claim_all(job: BatchJob) -> None:
        try:
            start.wait()
            while engine.item_claim_next(job) is not None:
                pass
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=claim_all, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    claimed = JobItem.objects.filter(state=Item.SENDING)
    assert Counter(claimed.values_list("document_id", flat=True)) == dict.fromkeys(documents, 1)
    assert JobItem.objects.filter(state=Item.SKIPPED).count() == 7 * 100
    assert not JobItem.objects.filter(state=Item.PENDING).exists()


# -- with real workers, the sandbox over HTTP ---------------------------------------------------


@pytest.fixture
def busy_owner(sandbox):
    owner, _ = seed_owner(
        email="busy@sandbox.example",
        password=OWNER_PASSWORD,
        name="Urs",
        surname="Meier",
        company="Meier Treuhand GmbH",
        invoices=320,
        seed=23,
        today=timezone.localdate(),
    )
    return owner


def assert_each_sent_once(sandbox, owner, ids, jobs) -> Counter:
    """Every job done; each draft emailed once; every other item for it skipped, naming
    the item that sent it."""
    for job in jobs:
        assert wait_for(lambda job=job: finished(job), timeout=240, message="jobs done") == Job.DONE
    sends = sandbox.outbox(owner)["sends_per_document"]
    assert {document: sends.get(f"invoice:{document}") for document in ids} == dict.fromkeys(ids, 1)
    items = JobItem.objects.filter(job__in=jobs, document_id__in=ids)
    states = Counter(items.values_list("state", flat=True))
    assert states[Item.SENT] == len(ids), states
    assert set(states) <= {Item.SENT, Item.SKIPPED}, states
    for item in items.filter(state=Item.SKIPPED).select_related("conflict_item"):
        assert item.conflict_item is not None and item.conflict_item.state == Item.SENT, item
        assert item.conflict_item.document_id == item.document_id
    return states


@pytest.mark.worker
def test_two_wizards_confirmed_together_email_each_draft_once(
    connect, sandbox, partner, start_worker
):
    connection = connect()
    ids = sandbox.drafts_with_email(15)
    start_worker()
    first, second = (prepared(draft_job(partner, connection, ids)) for _ in range(2))
    assert first.items.filter(state=Item.PENDING).count() == 15  # both previews said 15
    assert second.items.filter(state=Item.PENDING).count() == 15
    services.job_start(job=first)
    services.job_start(job=second)
    assert_each_sent_once(sandbox, sandbox.owner, ids, [first, second])


@pytest.mark.worker
def test_a_second_wizard_after_the_first_ran_previews_the_skips(connect, sandbox, partner, worker):
    connection = connect()
    ids = sandbox.drafts_with_email(5)
    first = email_job(partner, connection, ids)
    assert wait_for(lambda: finished(first), timeout=90) == Job.DONE
    second = prepared(draft_job(partner, connection, ids))
    skipped = second.items.filter(state=Item.SKIPPED)
    assert skipped.count() == 5
    assert all(item.conflict_item.job_id == first.pk for item in skipped)


@pytest.mark.worker
def test_eight_jobs_over_the_same_drafts_with_two_workers_email_each_once(
    connect, sandbox, partner, busy_owner, start_worker
):
    require_postgresql()
    connection = connect(owner=busy_owner)
    ids = sandbox.drafts_with_email(100, owner=busy_owner)
    start_worker("w1")
    start_worker("w2")
    jobs = [prepared(draft_job(partner, connection, ids)) for _ in range(8)]
    for job in jobs:
        services.job_start(job=job)
    states = assert_each_sent_once(sandbox, busy_owner, ids, jobs)
    assert states[Item.SKIPPED] == 7 * 100
    print(f"8 jobs x 100 drafts, 2 workers: {dict(states)}")  # the closing note's figures


@pytest.mark.worker
def test_a_schedule_firing_during_a_manual_job_emails_each_draft_once(
    connect, sandbox, partner, busy_owner, start_worker
):
    connection = connect(owner=busy_owner)
    faults.profile_update(owner=busy_owner, changes={"latency_ms": 60})  # a run to overlap
    start_worker()
    drafts = busy_owner.invoices.filter(status="DR", contact__email__contains="@")
    ids = list(drafts.exclude(contact__email__contains="(at)").values_list("pk", flat=True))
    manual = prepared(
        services.job_create(
            user=partner,
            connection=connection,
            action="invoice.send_by_email",
            selection_spec={"filter": {"status": "DR"}},
            parameters=EMAIL,
        )
    )
    Schedule.objects.create(
        user=partner,
        connection=connection,
        name="Every minute",
        action="invoice.send_by_email",
        cron="* * * * *",
        selection={"filter": {"status": "DR"}},
        parameters=EMAIL,
        created_at=timezone.now() - timedelta(hours=1),
    )
    services.job_start(job=manual)
    wait_for(lambda: manual.items.filter(state=Item.SENT).count() >= 5, message="manual running")
    [scheduled_id] = schedules.schedules_tick()
    scheduled = BatchJob.objects.get(pk=scheduled_id)
    assert_each_sent_once(sandbox, busy_owner, ids, [manual, scheduled])


@pytest.mark.worker
def test_two_partner_users_on_one_provider_account_email_each_draft_once(
    connect, sandbox, partner, start_worker
):
    colleague = UserFactory(email="colleague@example.com")
    mine, theirs = connect(), connect(user=colleague)
    assert (mine.base_url, mine.account_id) == (theirs.base_url, theirs.account_id)
    ids = sandbox.drafts_with_email(12)
    start_worker()
    first = prepared(draft_job(partner, mine, ids))
    second = prepared(draft_job(colleague, theirs, ids))
    services.job_start(job=first)
    services.job_start(job=second)
    assert_each_sent_once(sandbox, sandbox.owner, ids, [first, second])


def test_the_job_page_shows_the_skips_the_overlaps_and_the_earlier_sends(db, client):
    connection = ConnectionFactory()
    first = running_job(connection, [7, 8])
    engine._finish(engine.item_claim_next(first), Item.SENT, outcome=None)
    later = JobFactory(connection=connection, prepared_at=timezone.now())
    resend = JobFactory(
        connection=connection, prepared_at=timezone.now(), parameters={**EMAIL, "resend": True}
    )
    for job in (later, resend):
        for document_id in (7, 8):
            JobItemFactory(job=job, document_id=document_id)
    client.force_login(connection.user)
    page = client.get(f"/jobs/{later.pk}/").content.decode()
    assert f"Already sent by job #{first.pk} on " in page
    assert f'href="/jobs/{first.pk}/items/' in page  # the conflict link
    assert 'data-testid="preview-overlaps"' in page and f'href="/jobs/{first.pk}/"' in page
    page = client.get(f"/jobs/{resend.pk}/").content.decode()
    assert 'data-testid="again-list"' in page and f"earlier by job #{first.pk} on " in page
    outsider = UserFactory()
    client.force_login(outsider)
    assert client.get(f"/jobs/{later.pk}/").status_code == 404


def test_one_item_may_be_done_again_by_a_persons_explicit_choice(db, client):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    engine._finish(engine.item_claim_next(first), Item.SENT, outcome=None)
    later = running_job(connection, [7])
    assert engine.item_claim_next(later) is None
    lost = later.items.get()
    client.force_login(connection.user)
    page = client.get(f"/jobs/{later.pk}/items/{lost.pk}/").content.decode()
    assert 'data-testid="item-resend"' in page and f"Job #{first.pk} did this on " in page
    url = f"/jobs/{later.pk}/items/{lost.pk}/resend/"
    client.post(url)  # not confirmed: nothing changes
    assert later.items.get().state == Item.SKIPPED
    client.post(url, {"confirm": "yes"})
    again = engine.item_claim_next(later)
    assert again is not None and again.pk == lost.pk and again.resend
    assert ActionClaim.objects.get(active=True).item_id == lost.pk  # the earlier row retired


def test_doing_one_item_again_never_races_a_send_in_progress(db):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    engine.item_claim_next(first)  # sending right now
    later = running_job(connection, [7])
    assert engine.item_claim_next(later) is None
    services.item_resend(job=later, item_pk=later.items.get().pk, confirmed=True)
    assert engine.item_claim_next(later) is None
    assert later.items.get().outcome == f"In progress in job #{first.pk}."


def test_only_an_item_skipped_for_the_ledger_may_be_done_again(db):
    job = running_job(ConnectionFactory(), [7])
    JobItem.objects.filter(job=job).update(state=Item.SKIPPED, outcome="Not a draft (status P)")
    assert not services.item_resend(job=job, item_pk=job.items.get().pk, confirmed=True)
    with pytest.raises(services.JobInputError):
        services.item_resend(job=job, item_pk=job.items.get().pk, confirmed=False)


def test_a_ledger_skip_reads_in_the_readers_language_and_as_the_holder_stands_now(db, client):
    connection = ConnectionFactory()
    first = running_job(connection, [7])
    holder = engine.item_claim_next(first)
    later = running_job(connection, [7])
    assert engine.item_claim_next(later) is None  # stored: "In progress in job #…"
    engine._finish(holder, Item.SENT, outcome=None)
    client.force_login(connection.user)
    client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    page = client.get(f"/jobs/{later.pk}/").content.decode()
    assert f"Bereits von Auftrag #{first.pk} am " in page
    assert "In progress" not in page and "In Bearbeitung" not in page

"""Reminder runs that meet: a schedule's run and a person's run over the same invoices,
a run the same day again, a lost answer to the reminder email — on PostgreSQL, with a
real worker on the real broker, the sandbox over HTTP.

Each invoice must move up one level exactly once and get one reminder: the sandbox's
invoice status and its outbox say what the customer saw; the app's request log counts
the status changes (the sandbox keeps only the latest status, so a second change to
the same level would not show there).
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from partnerapp.jobs import schedules, services
from partnerapp.jobs.models import BatchJob, JobItem, Schedule
from partnerapp.sandbox import faults
from partnerapp.sandbox.models import Invoice
from partnerapp.sandbox.seeding import seed_owner
from tests.conftest import require_postgresql
from tests.jobs.test_preview import prepared
from tests.jobs.test_send_job import finished
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
Item, Job = JobItem.State, BatchJob.Status
REMINDERS = "invoice.send_reminders"
SUBJECTS = {"R1": "Zahlungserinnerung", "R2": "2. Mahnung"}  # the shipped German texts


@pytest.fixture
def dunning_owner(sandbox):
    require_postgresql()
    owner, _ = seed_owner(
        email="dunning@sandbox.example",
        password=OWNER_PASSWORD,
        name="Doris",
        surname="Dietrich",
        company="Dietrich Treuhand AG",
        invoices=160,
        seed=17,
        today=timezone.localdate(),
    )
    return owner


def overdue(owner, count: int, *, status: str = "S", offset: int = 0) -> list[int]:
    """`count` open invoices in German with an emailable contact, 40 days past due: due
    for the next level whatever it is (10 days per level by default)."""
    invoices = (
        owner.invoices.filter(contact__email__contains="@")
        .exclude(contact__email__contains="(at)")
        .order_by("pk")[offset : offset + count]
    )
    ids = [invoice.pk for invoice in invoices]
    assert len(ids) == count
    Invoice.objects.filter(pk__in=ids).update(
        status=status, due=timezone.localdate() - timedelta(days=40), total_paid=0, language="de"
    )
    return ids


def reminder_job(partner, connection, ids, *, auto_start=False) -> BatchJob:
    return services.job_create(
        user=partner,
        connection=connection,
        action=REMINDERS,
        selection_spec={"ids": ids},
        parameters={},
        auto_start=auto_start,
    )


def monday_run(partner, connection, ids) -> Schedule:
    """The firm's weekly reminder run, due now (its cron fires every minute here)."""
    return Schedule.objects.create(
        user=partner,
        connection=connection,
        name="Mahnlauf",
        action=REMINDERS,
        cron="* * * * *",
        selection={"ids": ids},
        parameters={},
        created_at=timezone.now() - timedelta(hours=1),
    )


def tick(*, now=None) -> BatchJob:
    [job_id] = schedules.schedules_tick(now=now)
    return BatchJob.objects.get(pk=job_id)


def done(*jobs: BatchJob) -> None:
    for job in jobs:
        assert wait_for(lambda job=job: finished(job), timeout=180, message="job finished") == (
            Job.DONE
        )


def statuses(ids) -> dict[int, str]:
    return dict(Invoice.objects.filter(pk__in=ids).values_list("pk", "status"))


def status_changes(connection) -> Counter:
    """How many change-status calls partnerapp made per invoice (its request log)."""
    paths = connection.calls.filter(method="PATCH", path__endswith="/change-status")
    return Counter(int(path.split("/")[-2]) for path in paths.values_list("path", flat=True))


def last_call(connection) -> int:
    """The request log's newest entry of the connection (calls after it are newer)."""
    return connection.calls.order_by("-pk").values_list("pk", flat=True).first() or 0


def emails(sandbox, owner) -> dict[int, list[str]]:
    """The subjects the sandbox's outbox holds, per invoice."""
    subjects: dict[int, list[str]] = {}
    for email in sandbox.outbox(owner)["items"]:
        subjects.setdefault(email["document_id"], []).append(email["subject"])
    return subjects


def test_a_schedule_and_a_person_reminding_at_once_raise_and_email_each_invoice_once(
    connect, sandbox, partner, dunning_owner, start_worker
):
    connection = connect(owner=dunning_owner)
    sent, first_level = (
        overdue(dunning_owner, 40),
        overdue(dunning_owner, 20, status="R1", offset=40),
    )
    ids = sent + first_level
    faults.profile_update(owner=dunning_owner, changes={"latency_ms": 40})  # runs that overlap
    start_worker()
    manual = prepared(reminder_job(partner, connection, ids))
    assert manual.items.filter(state=Item.PENDING).count() == 60  # the preview said 60
    monday_run(partner, connection, ids)
    scheduled = prepared(tick())  # it starts by itself, and the person confirms now too
    services.job_start(job=manual)
    done(manual, scheduled)

    assert statuses(ids) == {**dict.fromkeys(sent, "R1"), **dict.fromkeys(first_level, "R2")}
    assert status_changes(connection) == Counter(ids)
    outbox = emails(sandbox, dunning_owner)
    assert {invoice: len(subjects) for invoice, subjects in outbox.items()} == dict.fromkeys(ids, 1)
    for invoice in ids:
        level = "R1" if invoice in sent else "R2"
        assert outbox[invoice][0].startswith(SUBJECTS[level]), outbox[invoice]

    items = JobItem.objects.filter(job__in=[manual, scheduled]).select_related("conflict_item")
    assert Counter(item.document_id for item in items if item.state == Item.SENT) == Counter(ids)
    for item in items.exclude(state=Item.SENT):
        other = scheduled if item.job_id == manual.pk else manual
        assert item.state == Item.SKIPPED, (item, item.outcome)
        assert item.conflict_item.job_id == other.pk, item.outcome
        assert item.conflict_item.document_id == item.document_id
        assert f"job #{other.pk}" in item.outcome, item.outcome
    won = Counter(item.job_id for item in items if item.state == Item.SENT)
    print(f"60 invoices: the schedule's run did {won[scheduled.pk]}, the person's {won[manual.pk]}")


def test_a_second_run_the_same_day_reminds_no_one_again(
    connect, sandbox, partner, dunning_owner, start_worker
):
    connection = connect(owner=dunning_owner)
    ids = overdue(dunning_owner, 8)
    start_worker()
    monday_run(partner, connection, ids)
    first = tick()
    done(first)
    assert statuses(ids) == dict.fromkeys(ids, "R1")
    before = last_call(connection)

    again = tick(now=timezone.now() + timedelta(minutes=1))  # the next slot, the same day
    manual = reminder_job(partner, connection, ids, auto_start=True)
    done(again, manual)
    for job in (again, manual):
        outcomes = list(job.items.values_list("state", "outcome"))
        assert len(outcomes) == 8
        assert all(state == Item.SKIPPED for state, _ in outcomes), outcomes
        assert all(outcome.startswith("Not yet due") for _, outcome in outcomes), outcomes
    assert statuses(ids) == dict.fromkeys(ids, "R1")
    assert {invoice: len(s) for invoice, s in emails(sandbox, dunning_owner).items()} == (
        dict.fromkeys(ids, 1)
    )
    since = connection.calls.filter(pk__gt=before)
    assert since.exists() and not since.filter(method="PATCH").exists()  # read, acted not
    assert status_changes(connection) == Counter(ids)


def test_a_lost_answer_to_the_reminder_email_is_uncertain_and_nothing_is_repeated(
    connect, sandbox, partner, dunning_owner, start_worker
):
    connection = connect(owner=dunning_owner)
    ids = overdue(dunning_owner, 3)
    start_worker()
    # First pass: the plan lacks emailing — the level is raised, the email refused.
    faults.profile_update(owner=dunning_owner, changes={"missing_features": "send_by_email"})
    job = prepared(reminder_job(partner, connection, ids))
    services.job_start(job=job)
    done(job)
    for item in job.items.all():
        assert item.state == Item.FAILED and item.step == 1, item.outcome
        assert item.outcome.startswith("Email the reminder:"), item.outcome
    assert statuses(ids) == dict.fromkeys(ids, "R1") and sandbox.outbox(dunning_owner)["count"] == 0

    # Retry the failed: the email goes now, but its answer is lost (the sandbox sent it).
    faults.profile_update(
        owner=dunning_owner,
        changes={"missing_features": "", "p_lost": 1.0, "lost_mode": "504"},
    )
    assert services.job_retry_failed(job=BatchJob.objects.get(pk=job.pk)) == 3
    done(job)
    for item in job.items.all():
        assert item.state == Item.UNCERTAIN and item.step == 1, item.outcome
        assert "Step 2 of 2 (email the reminder)" in item.outcome, item.outcome
        assert [entry["step"] for entry in item.step_log] == ["change_status"]
        assert item.step_log[0]["proven"] is False  # step 1 was answered, not reconciled
    assert statuses(ids) == dict.fromkeys(ids, "R1")
    assert sandbox.outbox(dunning_owner)["sends_per_document"] == {f"invoice:{i}": 1 for i in ids}
    assert status_changes(connection) == Counter(ids)
    faults.profile_reset(owner=dunning_owner)
    before = last_call(connection)

    # Neither a retry of the failed nor a later run repeats a step.
    assert services.job_retry_failed(job=BatchJob.objects.get(pk=job.pk)) == 0
    later = reminder_job(partner, connection, ids, auto_start=True)
    done(later)
    assert all(
        item.state == Item.SKIPPED and item.outcome.startswith("Not yet due")
        for item in later.items.all()
    ), list(later.items.values_list("outcome", flat=True))
    job.refresh_from_db()
    assert job.status == Job.DONE
    assert set(job.items.values_list("state", flat=True)) == {Item.UNCERTAIN}
    assert not connection.calls.filter(pk__gt=before, method="PATCH").exists()
    assert status_changes(connection) == Counter(ids)
    assert sandbox.outbox(dunning_owner)["count"] == 3


def test_a_schedule_firing_while_a_status_change_is_unanswered_does_not_raise_it_again(
    connect, sandbox, partner, dunning_owner, start_worker
):
    """The person's run changed the status at the provider, but its answer has not come
    back (held past the read timeout) when the schedule's run reads the invoice: that
    run sees R1, and partnerapp's history has no finished step yet. The invoice must
    still be raised and reminded once — not to R2 the same day."""
    connection = connect(owner=dunning_owner)
    [invoice] = overdue(dunning_owner, 1)
    start_worker(env={"SMARTBUSINESS_READ_TIMEOUT": "5"})
    manual = prepared(reminder_job(partner, connection, [invoice]))
    faults.profile_update(
        owner=dunning_owner,
        changes={"p_lost": 1.0, "lost_mode": "hold", "lost_hold_seconds": 8},
    )
    services.job_start(job=manual)
    wait_for(lambda: statuses([invoice])[invoice] == "R1", message="the provider changed it")
    faults.profile_reset(owner=dunning_owner)  # the answer already on hold stays lost
    monday_run(partner, connection, [invoice])
    scheduled = prepared(tick())
    assert manual.items.get().step == 0, "the schedule's run must read before the record"
    done(manual, scheduled)

    assert statuses([invoice]) == {invoice: "R1"}
    assert status_changes(connection) == Counter([invoice])
    outbox = emails(sandbox, dunning_owner)
    assert len(outbox.get(invoice, [])) == 1, outbox
    assert outbox[invoice][0].startswith(SUBJECTS["R1"])
    mine, theirs = manual.items.get(), scheduled.items.get()
    assert mine.state == Item.SENT and mine.step_log[0]["proven"] is True, mine.outcome
    assert theirs.state == Item.SKIPPED, theirs.outcome

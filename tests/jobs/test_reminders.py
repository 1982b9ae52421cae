"""Payment reminders (Mahnlauf): each overdue invoice moves one reminder level up, then
gets that level's reminder in its customer's language — two irreversible steps, each
done at most once, against the sandbox over HTTP.

The engine runs in the test process here (`engine.job_work`), so a lost answer can be
placed on a given step; `test_reminder_crash.py` kills a real worker between the steps.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from partnerapp.jobs import engine, services
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.operations import operation_for
from partnerapp.sandbox import faults
from partnerapp.sandbox.models import Invoice

Item = JobItem.State
REMINDERS = "invoice.send_reminders"


def overdue(owner, count: int, *, status="S", days=30, language="de", offset=0) -> list[int]:
    """`count` invoices of the owner with an emailable contact, `days` past due, open
    (the `offset`-th and following of them, so several calls pick different ones)."""
    today = timezone.localdate()
    invoices = (
        owner.invoices.filter(contact__email__contains="@")
        .exclude(contact__email__contains="(at)")
        .order_by("pk")[offset : offset + count]
    )
    ids = [invoice.pk for invoice in invoices]
    assert len(ids) == count
    Invoice.objects.filter(pk__in=ids).update(
        status=status, due=today - timedelta(days=days), total_paid=0, language=language
    )
    return ids


def reminder_job(partner, connection, ids, **parameters) -> BatchJob:
    job = services.job_create(
        user=partner,
        connection=connection,
        action=REMINDERS,
        selection_spec={"ids": ids},
        parameters=parameters,
    )
    services.job_prepare(job_id=job.pk)
    job.refresh_from_db()
    return job


def run(job: BatchJob) -> BatchJob:
    services.job_start(job=job)
    while engine.job_work(job_id=job.pk, seconds=5).more:
        pass
    job.refresh_from_db()
    return job


def statuses(ids) -> dict[int, str]:
    return dict(Invoice.objects.filter(pk__in=ids).values_list("pk", "status"))


def test_an_overdue_invoice_moves_up_one_level_and_gets_the_reminder_in_its_language(
    connect, partner, sandbox
):
    french = overdue(sandbox.owner, 2, language="fr")
    job = run(reminder_job(partner, connect(), french))
    assert job.status == BatchJob.Status.DONE
    assert statuses(french) == dict.fromkeys(french, "R1")
    emails = sandbox.outbox()["items"]
    assert sorted(e["document_id"] for e in emails) == sorted(french)
    assert all(e["subject"].startswith("Rappel de paiement") for e in emails), emails
    invoice = Invoice.objects.get(pk=french[0])
    email = next(e for e in emails if e["document_id"] == invoice.pk)
    assert f"{invoice.total:,.2f}".replace(",", "'") in email["body"]  # {OPENAMOUNT}
    for item in job.items.all():
        assert item.state == Item.SENT and item.step == 2
        assert [entry["step"] for entry in item.step_log] == ["change_status", "send_reminder"]
        assert item.language == "fr" and item.request_id


def test_each_level_takes_its_own_text_and_r3_is_left_to_a_person(connect, partner, sandbox):
    first = overdue(sandbox.owner, 1, status="S", days=40)
    second = overdue(sandbox.owner, 1, status="R1", days=40, offset=1)
    third = overdue(sandbox.owner, 1, status="R2", days=40, offset=2)
    done = overdue(sandbox.owner, 1, status="R3", days=40, offset=3)
    job = run(reminder_job(partner, connect(), first + second + third + done))
    assert statuses(first + second + third + done) == {
        first[0]: "R1",
        second[0]: "R2",
        third[0]: "R3",
        done[0]: "R3",
    }
    subjects = {e["document_id"]: e["subject"] for e in sandbox.outbox()["items"]}
    assert subjects[first[0]].startswith("Zahlungserinnerung")
    assert subjects[second[0]].startswith("2. Mahnung")
    assert subjects[third[0]].startswith("Letzte Mahnung")
    assert done[0] not in subjects
    skipped = job.items.get(document_id=done[0])
    assert skipped.state == Item.SKIPPED and "debt collection" in skipped.outcome


def test_not_yet_due_paid_and_unreachable_invoices_are_skipped_with_the_reason(
    connect, partner, sandbox
):
    recent = overdue(sandbox.owner, 1, days=3)
    paid = overdue(sandbox.owner, 1, days=30, offset=1)
    Invoice.objects.filter(pk__in=paid).update(status="P")
    no_email = overdue(sandbox.owner, 1, days=30, offset=2)
    invoice = Invoice.objects.get(pk=no_email[0])
    invoice.contact.email = "buchhaltung(at)firma.ch"
    invoice.contact.save()
    job = reminder_job(partner, connect(), recent + paid + no_email, days={"R1": 10})
    outcomes = {item.document_id: item for item in job.items.all()}
    assert all(item.state == Item.SKIPPED for item in outcomes.values())
    assert "Not yet due" in outcomes[recent[0]].outcome
    assert "Paid meanwhile" in outcomes[paid[0]].outcome
    assert "not a valid email address" in outcomes[no_email[0]].outcome
    run(job)
    assert sandbox.outbox()["count"] == 0
    assert statuses(recent + no_email) == dict.fromkeys(recent + no_email, "S")


def test_a_lost_answer_to_the_status_change_is_proven_and_the_email_still_goes_once(
    connect, partner, sandbox
):
    ids = overdue(sandbox.owner, 3)
    job = reminder_job(partner, connect(), ids)
    # Every write's answer is lost after the sandbox acted: step 1 is proven by reading
    # the invoice back (R1), so the item goes on to its email — whose loss nobody can
    # prove either way: that step ends uncertain, and neither step is ever repeated.
    faults.profile_update(owner=sandbox.owner, changes={"p_lost": 1.0, "lost_mode": "504"})
    job = run(job)
    assert statuses(ids) == dict.fromkeys(ids, "R1")
    sends = sandbox.outbox()["sends_per_document"]
    assert sends == {f"invoice:{i}": 1 for i in ids}
    for item in job.items.all():
        assert item.state == Item.UNCERTAIN and item.step == 1, item.outcome
        assert item.step_log[0]["proven"] is True
        assert "Step 2 of 2" in item.outcome
    calls = job.connection.calls.filter(method="PATCH")
    assert calls.filter(path__endswith="/change-status").count() == 3
    assert calls.filter(path__endswith="/send-by-email").count() == 3


def test_uncertain_reminders_are_not_sent_again_without_a_person(connect, partner, sandbox):
    ids = overdue(sandbox.owner, 2)
    job = reminder_job(partner, connect(), ids)
    faults.profile_update(owner=sandbox.owner, changes={"p_lost": 1.0, "lost_mode": "504"})
    run(job)
    faults.profile_reset(owner=sandbox.owner)
    engine.sweep_stale_sending(older_than=0)
    assert sandbox.outbox()["count"] == 2
    assert services.job_resend_uncertain(job=job, confirmed=True) == 2
    job = run(BatchJob.objects.get(pk=job.pk))
    assert sandbox.outbox()["count"] == 4  # a person chose to send the reminders again
    assert statuses(ids) == dict.fromkeys(ids, "R1")  # the status was not changed twice
    calls = job.connection.calls.filter(method="PATCH", path__endswith="/change-status")
    assert calls.count() == 2


def test_a_crash_after_the_status_change_resumes_at_the_email(connect, partner, sandbox):
    """The worker died after step 1 was recorded and before step 2 was called: the
    sweeper finds the item `sending` at step 2 and cannot prove step 2, so it is
    uncertain — and the status is never changed again."""
    ids = overdue(sandbox.owner, 1)
    job = reminder_job(partner, connect(), ids)
    services.job_start(job=job)
    job.refresh_from_db()
    item = engine.item_claim_next(job)
    context = engine.Context(job.operation, job.parameters)
    result = engine._step_perform(job, item, context)
    assert engine._step_done(job, item, request_id=result.request_id, proven=False)
    engine.sweep_stale_sending(older_than=0)  # the worker is gone: the sweeper decides
    item.refresh_from_db()
    assert item.state == Item.UNCERTAIN and item.step == 1
    assert statuses(ids) == {ids[0]: "R1"} and sandbox.outbox()["count"] == 0


def test_a_crash_between_the_call_and_its_record_is_proven_and_resumes(connect, partner, sandbox):
    """The worker died after the status change reached the provider but before it was
    recorded: the sweeper proves it by reading the invoice (R1) and the item resumes at
    its email, which a worker then sends once."""
    ids = overdue(sandbox.owner, 1)
    job = reminder_job(partner, connect(), ids)
    services.job_start(job=job)
    job.refresh_from_db()
    item = engine.item_claim_next(job)
    engine._step_perform(job, item, engine.Context(job.operation, job.parameters))
    engine.sweep_stale_sending(older_than=0)
    item.refresh_from_db()
    assert item.state == Item.PENDING and item.step == 1
    job = run(BatchJob.objects.get(pk=job.pk))
    item.refresh_from_db()
    assert item.state == Item.SENT and item.step == 2
    assert statuses(ids) == {ids[0]: "R1"}
    assert sandbox.outbox()["sends_per_document"] == {f"invoice:{ids[0]}": 1}
    changes = job.connection.calls.filter(method="PATCH", path__endswith="/change-status")
    assert changes.count() == 1


def test_a_manual_status_change_and_a_reminder_run_share_the_ledger(connect, partner, sandbox):
    """A change-status job S → R1 and a reminder run over the same invoice: the status
    change happens once, whichever job claims it first."""
    ids = overdue(sandbox.owner, 1)
    connection = connect()
    reminders = reminder_job(partner, connection, ids)
    manual = services.job_create(
        user=partner,
        connection=connection,
        action="invoice.change_status",
        selection_spec={"ids": ids},
        parameters={"status": "R1"},
    )
    services.job_prepare(job_id=manual.pk)
    run(BatchJob.objects.get(pk=manual.pk))
    run(reminders)
    lost = reminders.items.get()
    assert lost.state == Item.SKIPPED and f"job #{manual.pk}" in lost.outcome
    assert sandbox.outbox()["count"] == 0


def test_parameters_are_checked_by_the_operation_form(connect, partner, sandbox):
    ids = overdue(sandbox.owner, 1)
    with pytest.raises(services.JobInputError, match="Unknown placeholder"):
        services.job_create(
            user=partner,
            connection=connect(),
            action=REMINDERS,
            selection_spec={"ids": ids},
            parameters={"texts": {"R1": {"de": {"subject": "{OFFEN}", "body": "x"}}}},
        )
    stored = operation_for(REMINDERS).check({"days": {"R1": 5}})
    assert stored["days"] == {"R1": 5, "R2": 10, "R3": 10}
    assert stored["texts"]["R2"]["it"]["subject"].startswith("Secondo sollecito")


def test_the_preview_counts_the_emails_per_language_with_one_rendering_each(
    connect, partner, sandbox
):
    from partnerapp.jobs.preview import job_preview

    german = overdue(sandbox.owner, 2, language="de")
    italian = overdue(sandbox.owner, 1, language="it", offset=2)
    preview = job_preview(reminder_job(partner, connect(), german + italian))
    shares = {share.language: share for share in preview.languages}
    assert {code: share.count for code, share in shares.items()} == {"de": 2, "it": 1}
    assert shares["it"].example.subject.startswith("Promemoria di pagamento: fattura RE-")
    assert shares["de"].example.subject.startswith("Zahlungserinnerung: Rechnung RE-")

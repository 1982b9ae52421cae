"""The partner user hears about finished and paused jobs by email."""

from partnerapp.jobs import engine, services
from partnerapp.sandbox.models import Grant
from partnerapp.sandbox.services import grant_revoke
from tests.jobs.test_send_job import EMAIL


def started_job(partner, connection, ids):
    job = services.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": ids},
        parameters=EMAIL,
    )
    services.job_prepare(job_id=job.pk)
    job.refresh_from_db()
    services.job_start(job=job)
    return job


def test_a_finished_job_emails_its_summary(connect, sandbox, partner, mailoutbox):
    job = started_job(partner, connect(), sandbox.drafts_with_email(2))
    engine.job_work(job_id=job.pk, seconds=10)
    job.refresh_from_db()
    assert job.status == "done"
    (mail,) = mailoutbox
    assert mail.to == [partner.email] and "Job finished" in mail.subject
    assert "2 sent, 0 failed" in mail.body and f"/jobs/{job.pk}/" in mail.body


def test_a_job_paused_for_reauthorization_emails_the_user(connect, sandbox, partner, mailoutbox):
    connection = connect()
    job = started_job(partner, connection, sandbox.drafts_with_email(2))
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    connection.access_token_expires_at = None  # the next call must refresh, and fails
    connection.save()
    engine.job_work(job_id=job.pk, seconds=10)
    job.refresh_from_db()
    assert job.status == "paused" and job.pause_reason == "needs_reauth"
    subjects = sorted(mail.subject for mail in mailoutbox)
    assert any("Job paused" in s for s in subjects)
    assert any("needs to be reconnected" in s for s in subjects)

"""Job names on the pages (issue 13): the name titles the job page and its rows, an inline
form renames it (operators and up; a name too long comes back as typed with the reason),
unconfirmed drafts say when they expire, an expired one says why it was cancelled, and the
wizard's warning fits the action (the PDF archive only reads).
"""

from __future__ import annotations

import html as html_text
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from partnerapp.jobs import services
from partnerapp.jobs.models import BatchJob
from partnerapp.jobs.operations import operation_for
from partnerapp.organizations.models import AuditEvent, Membership
from tests.factories import UserFactory
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory

Job = BatchJob.Status
WARNING = re.compile(
    r'<p class="small muted" data-operations="([^"]+)" data-testid="action-warning">([^<]+)</p>'
)
NAME = "Versand Dezember — Müller & Co <AG>"


@pytest.fixture
def connection(partner):
    return ConnectionFactory(user=partner)


@pytest.fixture
def job(connection):
    return JobFactory(connection=connection, name=NAME, status=Job.DONE)


def page(client, job, status: int = 200) -> str:
    response = client.get(reverse("dashboard:job", args=[job.pk]))
    assert response.status_code == status
    return response.content.decode()


def rename(client, job, name: str):
    return client.post(reverse("dashboard:job_rename", args=[job.pk]), {"name": name})


def text(html: str, testid: str) -> list[str]:
    found = re.findall(rf'data-testid="{testid}"[^>]*>(.*?)</', html, flags=re.S)
    return [html_text.unescape(value).strip() for value in found]


def test_the_job_page_is_titled_with_the_name_escaped(client, partner, job):
    client.force_login(partner)
    html = page(client, job)
    assert text(html, "job-name") == [NAME]
    assert f"<title>{html_text.escape(NAME)}" in html
    assert "<AG>" not in html  # escaped
    assert f"#{job.pk} · {job.connection.owner_name}" in html


def test_an_operator_renames_the_job_and_the_audit_log_says_so(client, partner, job):
    client.force_login(partner)
    response = rename(client, job, "  Rechnungen   Dezember ")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:job", args=[job.pk])
    job.refresh_from_db()
    assert job.name == "Rechnungen Dezember"
    event = AuditEvent.objects.get(action="job.rename", object_id=str(job.pk))
    assert (event.before, event.after) == ({"name": NAME}, {"name": "Rechnungen Dezember"})
    assert event.actor == partner
    assert text(page(client, job), "job-name") == ["Rechnungen Dezember"]


def test_a_name_too_long_comes_back_as_typed_with_the_reason_and_changes_nothing(
    client, partner, job
):
    client.force_login(partner)
    typed = "Ä" * 201
    response = rename(client, job, typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert "201" in text(html, "job-name-error")[0] and "200" in text(html, "job-name-error")[0]
    assert f'value="{typed}"' in html and 'aria-invalid="true"' in html
    assert re.search(r'<details class="job-rename small" data-testid="job-rename" open>', html)
    job.refresh_from_db()
    assert job.name == NAME
    assert not AuditEvent.objects.filter(action="job.rename").exists()


def test_an_empty_name_brings_back_the_automatic_one(client, partner, connection):
    job = JobFactory(connection=connection, selection={"filter": {"status": "DR"}}, name="Mein")
    client.force_login(partner)
    assert rename(client, job, "").status_code == 302
    job.refresh_from_db()
    assert job.name == "Invoices by email — Draft"


def test_a_viewer_sees_the_name_but_no_rename_form_and_may_not_post_it(client, job):
    viewer = UserFactory()
    Membership.objects.create(organization=job.organization, user=viewer, role="viewer")
    client.force_login(viewer)
    html = page(client, job)
    assert text(html, "job-name") == [NAME]
    assert 'data-testid="job-rename"' not in html
    assert rename(client, job, "Meins").status_code == 403
    job.refresh_from_db()
    assert job.name == NAME


def test_the_rename_form_is_there_for_an_operator(client, partner, job):
    client.force_login(partner)
    html = page(client, job)
    assert f'action="{reverse("dashboard:job_rename", args=[job.pk])}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'value="{html_text.escape(NAME)}"' in html


def test_the_jobs_list_and_the_csv_file_carry_the_name(client, partner, job):
    JobItemFactory(job=job, state="sent")
    client.force_login(partner)
    html = client.get(reverse("dashboard:jobs")).content.decode()
    assert html_text.escape(NAME) in html
    response = client.get(reverse("dashboard:job_export", args=[job.pk]))
    disposition = response["Content-Disposition"]
    assert disposition == (
        f'attachment; filename="partnerapp-job-{job.pk}-versand-dezember-muller-co-ag.csv"'
    )


def test_a_job_from_before_names_is_listed_with_its_made_up_name(client, partner, connection):
    """A list names such a job by its operation (no query per row for its selection);
    its own page by the whole default name, in the reader's language."""
    job = JobFactory(connection=connection, selection={"filter": {"status": "S"}}, name="")
    client.force_login(partner)
    html = client.get(reverse("dashboard:jobs")).content.decode()
    assert "Invoices by email" in html
    page = client.get(reverse("dashboard:job", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Invoices by email — Sent" in page.content.decode()


def test_unconfirmed_drafts_say_when_they_expire(client, partner, connection):
    created = timezone.now() - timedelta(hours=1)
    draft = JobFactory(connection=connection, name="Entwurf A", created_at=created)
    client.force_login(partner)
    html = client.get(reverse("dashboard:jobs")).content.decode()
    drafts = html.split('data-testid="unconfirmed-drafts"')[1].split("</details>")[0]
    assert "Entwurf A" in drafts
    expires = timezone.localtime(draft.expires_at).strftime("%d.%m.%Y %H:%M")
    assert re.search(rf'data-testid="draft-expires"><time [^>]*title="{expires}"', drafts)
    hours = settings.JOB_DRAFT_EXPIRY_HOURS
    assert f"cancelled {hours} hours after it was made" in drafts
    job_page = page(client, draft)
    assert text(job_page, "job-expires") == [expires]


def test_an_expired_draft_says_why_it_was_cancelled_in_the_readers_language(
    client, partner, connection
):
    old = timezone.now() - timedelta(hours=settings.JOB_DRAFT_EXPIRY_HOURS + 1)
    job = JobFactory(connection=connection, name="Alt", created_at=old, prepared_at=old)
    services.jobs_expire_drafts()
    client.force_login(partner)
    for language in ("en", "de", "fr"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        with translation.override(language):
            expected = str(BatchJob.ERROR_TEXTS[BatchJob.DRAFT_EXPIRED])
            cancelled = gettext("cancelled")
        html = page(client, job)
        assert text(html, "job-error") == [expected]
        assert text(html, "job-status") == [cancelled]
    assert BatchJob.DRAFT_EXPIRED not in page(client, job)  # the code is never shown


def test_the_wizard_warns_per_action_and_the_archive_only_reads(client, partner, connection):
    client.force_login(partner)
    html = client.get(reverse("dashboard:job_new", args=[connection.pk])).content.decode()
    warnings = dict(WARNING.findall(html))
    archive = html_text.unescape(warnings["archive_pdfs"])
    assert archive == str(operation_for("invoice.archive_pdfs").warning)
    others = [names for names in warnings if names != "archive_pdfs"]
    assert len(others) == 1 and "archive_pdfs" not in others[0].split()
    assert set(others[0].split()) == {
        "send_by_email",
        "send_by_post",
        "change_status",
        "send_reminders",
    }
    assert "irreversible" not in html

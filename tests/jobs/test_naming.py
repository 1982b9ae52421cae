"""A job's name (issue 13): a meaningful default made in one place, stored in the creator's
language, counted once prepared, and a person's name never overwritten.

The words come from the catalogs (being filled in while this is written): the expected
names are composed from the same gettext calls in the same language, so the tests hold
before and after the translations are merged; the structure, the Swiss dates and the
numbers are fixed here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.translation import gettext, ngettext

from partnerapp.jobs import naming, services
from partnerapp.jobs.models import BatchJob, Schedule, ScheduleRun
from partnerapp.jobs.naming import DASH
from partnerapp.jobs.operations import operation_for
from partnerapp.organizations.models import AuditEvent, Membership
from partnerapp.smartbusiness.vocabulary import status_label
from tests.factories import UserFactory
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory
from tests.jobs.test_preview import draft_job, prepared

pytestmark = pytest.mark.django_db
EMAIL = "invoice.send_by_email"
PARAMETERS = {"subject": "Rechnung {INVOICENO}", "body": "Guten Tag"}


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def documents(language: str, n: int) -> str:
    with translation.override(language):
        return ngettext("%(n)d document", "%(n)d documents", n) % {"n": n}


def create(connection, *, selection, name: str = "", language: str = "en") -> BatchJob:
    with translation.override(language):
        return services.job_create(
            user=connection.user,
            connection=connection,
            action=EMAIL,
            selection_spec=selection,
            parameters=PARAMETERS,
            name=name,
        )


@pytest.fixture
def connection():
    return ConnectionFactory()  # its user owns its organization


def test_the_default_name_says_the_action_the_status_and_the_dates(connection):
    spec = {"filter": {"status": "DR", "date_from": "2026-12-01", "date_to": "2026-12-15"}}
    job = create(connection, selection=spec)
    assert job.name == f"Invoices by email — Draft, 01.12.{DASH}15.12.2026"
    assert str(job) == job.name == BatchJob.objects.get(pk=job.pk).name


@pytest.mark.parametrize("language", ["de", "fr", "it"])
def test_the_name_is_stored_in_the_creators_language(connection, language):
    spec = {"filter": {"status": "S", "date_from": "2025-12-15", "date_to": "2026-01-15"}}
    job = create(connection, selection=spec, language=language)
    with translation.override(language):
        label, status = operation_for(EMAIL).name_label, status_label("S")
    assert job.name == f"{label} — {status}, 15.12.2025{DASH}15.01.2026"
    # read later in English, the stored name stays the creator's
    assert str(BatchJob.objects.get(pk=job.pk)) == job.name


def test_open_ended_and_single_day_ranges_read_from_until_and_the_day(connection):
    start = create(connection, selection={"filter": {"date_from": "2026-12-01"}})
    end = create(connection, selection={"filter": {"date_to": "2026-12-15"}}, language="de")
    day = create(
        connection, selection={"filter": {"date_from": "2026-12-03", "date_to": "2026-12-03"}}
    )
    assert start.name == "Invoices by email — from 01.12.2026"
    german = operation_for(EMAIL)
    with translation.override("de"):
        assert (
            end.name == f"{german.name_label} — {gettext('until %(day)s') % {'day': '15.12.2026'}}"
        )
    assert day.name == "Invoices by email — 03.12.2026"


def test_ticked_documents_are_counted_when_prepared_in_the_creators_language(connection):
    job = create(connection, selection={"ids": [11, 12, 13]}, language="fr")
    for document_id in (11, 12, 13):
        JobItemFactory(job=job, document_id=document_id)
    with translation.override("en"):  # the worker's language is not the creator's
        services._name_with_count(job)
    job.refresh_from_db()
    label = in_language("fr", "%(documents)s by email") % {
        "documents": in_language("fr", "invoices")
    }
    assert job.name == f"{label[:1].upper()}{label[1:]} — {documents('fr', 3)}"


def test_a_name_someone_gave_is_never_overwritten_by_the_count(connection):
    job = create(connection, selection={"ids": [11]})
    BatchJob.objects.filter(pk=job.pk).update(name="Dezember-Rechnungen Müller")  # meanwhile
    JobItemFactory(job=job, document_id=11)
    services._name_with_count(job)  # read the old name: the conditional update misses
    job.refresh_from_db()
    assert job.name == "Dezember-Rechnungen Müller"
    given = create(connection, selection={"ids": [11]}, name="  Meine   Rechnungen ")
    JobItemFactory(job=given, document_id=11)
    services._name_with_count(given)
    given.refresh_from_db()
    assert given.name == "Meine Rechnungen"


def test_a_name_longer_than_200_characters_is_refused_and_nothing_is_created(connection):
    with pytest.raises(services.JobInputError, match="201"):
        create(connection, selection={"ids": [1]}, name="x" * 201)
    assert not BatchJob.objects.exists()
    assert len(create(connection, selection={"ids": [1]}, name="x" * 200).name) == 200


def test_a_schedules_job_is_named_after_the_schedule_and_its_day(connection):
    schedule = Schedule.objects.create(
        connection=connection,
        user=connection.user,
        name="Monatsversand",
        action=EMAIL,
        cron="0 8 1 * *",
        selection={"filter": {"status": "DR"}},
        parameters={**PARAMETERS, "language": "de"},
    )
    run = ScheduleRun.objects.create(
        schedule=schedule, slot_at=datetime(2026, 12, 1, 7, tzinfo=UTC)
    )
    job = services.job_create(
        user=connection.user,
        connection=connection,
        action=EMAIL,
        selection_spec=schedule.selection,
        parameters=schedule.parameters,
        auto_start=True,
        schedule_run=run,
    )
    assert job.name == "Monatsversand — 01.12.2026"
    JobItemFactory(job=job)
    services._name_with_count(job)
    job.refresh_from_db()
    assert job.name == f"Monatsversand — 01.12.2026, {documents('de', 1)}"  # its emails' language


def test_a_job_from_before_names_shows_the_default_name_in_the_readers_language(connection):
    job = JobFactory(connection=connection, selection={"filter": {"status": "DR"}}, name="")
    with translation.override("de"):
        label, draft = operation_for(EMAIL).name_label, status_label("DR")
        assert str(job) == f"{label} — {draft}"
    assert job.title == "Invoices by email — Draft"


def test_renaming_records_who_changed_what_and_empty_brings_the_default_back(connection):
    job = create(connection, selection={"filter": {"status": "DR"}})
    services.job_rename(user=connection.user, job=job, name="Versand Dezember")
    assert BatchJob.objects.get(pk=job.pk).name == "Versand Dezember"
    event = AuditEvent.objects.get(action="job.rename", object_id=str(job.pk))
    assert event.before == {"name": "Invoices by email — Draft"}
    assert event.after == {"name": "Versand Dezember"}
    assert event.actor == connection.user
    services.job_rename(user=connection.user, job=job, name="   ")
    assert BatchJob.objects.get(pk=job.pk).name == "Invoices by email — Draft"


def test_a_viewer_may_not_rename_a_job(connection):
    job = create(connection, selection={"ids": [1]})
    viewer = UserFactory()
    Membership.objects.create(organization=connection.organization, user=viewer, role="viewer")
    with pytest.raises(PermissionDenied):
        services.job_rename(user=viewer, job=job, name="Meins")
    assert BatchJob.objects.get(pk=job.pk).name == job.name
    assert not AuditEvent.objects.filter(action="job.rename").exists()


def test_naming_is_the_one_place_names_come_from(connection):
    job = create(connection, selection={"filter": {"status": "DR"}})
    assert job.name == naming.default_name(job)
    assert naming.counted_name(job, 2) == naming.default_name(job, count=2)


@pytest.mark.worker
def test_a_prepared_job_counts_its_documents_in_its_name(connect, sandbox, partner, worker):
    ids = sandbox.drafts_with_email(3)
    job = prepared(draft_job(partner, connect(), ids))
    assert job.name == f"Invoices by email — {documents('en', 3)}"

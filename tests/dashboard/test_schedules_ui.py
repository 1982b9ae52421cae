"""Schedules pages: create, edit, enable/disable, delete; next run times and recent runs."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from partnerapp.jobs.models import BatchJob, Schedule, ScheduleRun
from tests.jobs.factories import ConnectionFactory, JobFactory


@pytest.fixture
def connection(partner):
    return ConnectionFactory(user=partner, owner_name="Keller AG")


def form_data(connection, **changes) -> dict:
    data = {
        "name": "Drafts of the day",
        "connection": connection.pk,
        "action": "invoice.send_by_email",
        "cron": "0 8 * * 1-5",
        "time_zone": "Europe/Zurich",
        "status": "DR",
        "dates": "today",
        "q": "",
        "subject": "Invoice {INVOICENO}",
        "body": "{SALUTATION}\n\nPlease find attached invoice {INVOICENO}.",
        "sender": "",
        "new_status": "",
        "enabled": "on",
    }
    return {**data, **changes}


def a_schedule(partner, connection, **fields) -> Schedule:
    values = {
        "user": partner,
        "connection": connection,
        "name": "Weekday drafts",
        "action": "invoice.send_by_email",
        "cron": "0 8 * * 1-5",
        "selection": {"filter": {"status": "DR", "date_from": "today", "date_to": "today"}},
        "parameters": {"subject": "Invoice {INVOICENO}", "body": "Hello"},
    }
    return Schedule.objects.create(**{**values, **fields})


def test_create_a_schedule_and_see_its_next_runs(client, partner, connection):
    client.force_login(partner)
    response = client.post(reverse("dashboard:schedule_create"), form_data(connection))
    schedule = Schedule.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "dashboard:schedule", args=[schedule.pk]
    )
    assert schedule.user == partner and schedule.cron == "0 8 * * 1-5"
    assert schedule.selection == {
        "filter": {"status": "DR", "date_from": "today", "date_to": "today"}
    }
    assert schedule.parameters["subject"] == "Invoice {INVOICENO}" and schedule.enabled
    page = client.get(response["Location"]).content.decode()
    assert "The schedule is saved." in page
    next_runs = page.split('data-testid="next-runs"')[1].split("</ul>")[0]
    assert next_runs.count("<li>") == 3 and "08:00" in next_runs
    listing = client.get(reverse("dashboard:schedules")).content.decode()
    assert "Drafts of the day" in listing and "Keller AG" in listing and "08:00" in listing


def test_an_invalid_cron_is_refused_with_a_clear_error_and_nothing_lost(
    client, partner, connection
):
    client.force_login(partner)
    data = form_data(connection, cron="0 25 * * *", body="My own text {INVOICENO}")
    response = client.post(reverse("dashboard:schedule_create"), data)
    html = response.content.decode()
    assert response.status_code == 400 and not Schedule.objects.exists()
    error = html.split('data-testid="error-cron"')[1].split("</ul>")[0]
    assert "Not a valid cron expression" in error
    assert 'value="0 25 * * *"' in html and "My own text {INVOICENO}" in html


def test_email_schedules_need_subject_and_body_and_known_placeholders(client, partner, connection):
    client.force_login(partner)
    url = reverse("dashboard:schedule_create")
    html = client.post(url, form_data(connection, subject="")).content.decode()
    assert "This field is required." in html
    html = client.post(url, form_data(connection, body="Hi {INVOICENUMBER}")).content.decode()
    assert "Unknown placeholder" in html and "{INVOICENUMBER}" in html
    html = client.post(url, form_data(connection, action="invoice.change_status")).content.decode()
    assert "Choose the status to change to." in html
    assert not Schedule.objects.exists()


def test_edit_keeps_the_values_and_a_changed_timing_starts_from_now(client, partner, connection):
    schedule = a_schedule(partner, connection, last_slot_at=timezone.now() - timedelta(days=1))
    client.force_login(partner)
    url = reverse("dashboard:schedule", args=[schedule.pk])
    html = client.get(url).content.decode()
    assert 'value="Weekday drafts"' in html and 'value="0 8 * * 1-5"' in html
    assert '<option value="DR" selected>' in html
    before = timezone.now()
    response = client.post(url, form_data(connection, name="Renamed", cron="30 17 * * 5"))
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.name == "Renamed" and schedule.cron == "30 17 * * 5"
    assert schedule.last_slot_at >= before  # no catch-up run of a slot under the old timing


def test_disable_and_enable(client, partner, connection):
    schedule = a_schedule(partner, connection)
    client.force_login(partner)
    toggle = reverse("dashboard:schedule_toggle", args=[schedule.pk])
    client.post(toggle)
    schedule.refresh_from_db()
    assert not schedule.enabled
    page = client.get(reverse("dashboard:schedule", args=[schedule.pk])).content.decode()
    assert "is disabled" in page and "None: the schedule is disabled." in page
    client.post(toggle, {"next": "list"})
    schedule.refresh_from_db()
    assert schedule.enabled and schedule.last_slot_at is not None


def test_recent_runs_link_their_jobs(client, partner, connection):
    schedule = a_schedule(partner, connection)
    run = ScheduleRun.objects.create(schedule=schedule, slot_at=timezone.now())
    job = JobFactory(connection=connection, schedule_run=run, status=BatchJob.Status.DONE)
    ScheduleRun.objects.create(schedule=schedule, slot_at=timezone.now() - timedelta(days=1))
    client.force_login(partner)
    html = client.get(reverse("dashboard:schedule", args=[schedule.pk])).content.decode()
    runs = html.split('data-testid="recent-runs"')[1].split("</ul>")[0]
    assert reverse("dashboard:job", args=[job.pk]) in runs and "no job" in runs
    job_page = client.get(reverse("dashboard:job", args=[job.pk])).content.decode()
    assert reverse("dashboard:schedule", args=[schedule.pk]) in job_page


def test_delete_asks_first_and_keeps_the_jobs(client, partner, connection):
    schedule = a_schedule(partner, connection)
    run = ScheduleRun.objects.create(schedule=schedule, slot_at=timezone.now())
    job = JobFactory(connection=connection, schedule_run=run)
    client.force_login(partner)
    url = reverse("dashboard:schedule_delete", args=[schedule.pk])
    assert "Delete “Weekday drafts”?" in client.get(url).content.decode()
    assert Schedule.objects.exists()
    assert client.post(url)["Location"] == reverse("dashboard:schedules")
    assert not Schedule.objects.exists() and BatchJob.objects.filter(pk=job.pk).exists()


def test_an_outsider_gets_404_and_cannot_use_my_connection(client, partner, outsider, connection):
    schedule = a_schedule(partner, connection)
    client.force_login(outsider)
    urls = [
        reverse("dashboard:schedule", args=[schedule.pk]),
        reverse("dashboard:schedule_delete", args=[schedule.pk]),
    ]
    assert [client.get(url).status_code for url in urls] == [404, 404]
    assert client.post(reverse("dashboard:schedule_toggle", args=[schedule.pk])).status_code == 404
    assert client.post(urls[0], form_data(connection)).status_code == 404
    assert client.post(urls[1]).status_code == 404
    assert "Weekday drafts" not in client.get(reverse("dashboard:schedules")).content.decode()
    response = client.post(reverse("dashboard:schedule_create"), form_data(connection))
    assert response.status_code == 400 and Schedule.objects.count() == 1  # not their account
    schedule.refresh_from_db()
    assert schedule.enabled and schedule.name == "Weekday drafts"


def test_posts_without_csrf_are_refused(partner, connection):
    schedule = a_schedule(partner, connection)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(partner)
    posts = [
        (reverse("dashboard:schedule_create"), form_data(connection)),
        (reverse("dashboard:schedule_toggle", args=[schedule.pk]), {}),
        (reverse("dashboard:schedule_delete", args=[schedule.pk]), {}),
    ]
    assert [strict.post(url, data).status_code for url, data in posts] == [403] * 3
    assert Schedule.objects.filter(enabled=True).count() == 1


def test_schedules_are_in_the_navigation(client, partner):
    client.force_login(partner)
    html = client.get(reverse("dashboard:jobs")).content.decode()
    assert f'href="{reverse("dashboard:schedules")}"' in html


def test_a_new_schedule_starts_with_drafts_and_zurich_among_the_common_zones(client, partner):
    client.force_login(partner)
    page = client.get(reverse("dashboard:schedule_create")).content.decode()
    assert re.search(r'<option value="DR" selected>', page)
    common = page.index('<optgroup label="Common">')
    every = page.index('<optgroup label="All time zones">')
    assert common < page.index('value="Europe/Zurich" selected') < every
    assert page.count('value="Europe/Zurich"') == 1  # not listed twice

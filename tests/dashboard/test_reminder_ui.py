"""Reminder runs in the dashboard: the one-click Monday schedule, editing a reminder
schedule's days and texts, and each invoice's reminder history where people look at it.

The schedule and history tests that need the provider use the sandbox over HTTP; the
weekly run is ticked and then run by a real worker.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partnerapp.jobs import schedules
from partnerapp.jobs.models import BatchJob, JobItem, Schedule
from partnerapp.jobs.operations import operation_for
from partnerapp.sandbox.models import Invoice
from partnerapp.sandbox.seeding import seed_owner
from tests.jobs.factories import ConnectionFactory, JobFactory, JobItemFactory
from tests.jobs.test_reminders import overdue, reminder_job, run, statuses
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

REMINDERS = "invoice.send_reminders"
WEEKLY = reverse("dashboard:schedule_weekly_reminders")
ZURICH = ZoneInfo("Europe/Zurich")


@pytest.fixture
def connection(partner):
    return ConnectionFactory(user=partner, owner_name="Keller AG")


def one_click(client: Client, connection) -> Schedule:
    response = client.post(WEEKLY, {"connection": connection.pk})
    assert response.status_code == 302, response
    schedule = Schedule.objects.get(user=connection.user, connection=connection, action=REMINDERS)
    assert response["Location"] == reverse("dashboard:schedule", args=[schedule.pk])
    return schedule


class PostedForm(HTMLParser):
    """What a browser posts for the page's schedule form, unchanged: each input's value
    (checkboxes and radios when checked), each textarea's text, each select's choice."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._in_form = False
        self._textarea = self._select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_form = "schedule-form" in (attrs.get("class") or "")
        if not self._in_form or ("name" not in attrs and tag != "option"):
            return
        if tag == "input" and attrs.get("type") in ("checkbox", "radio"):
            if "checked" in attrs:
                self.data[attrs["name"]] = attrs.get("value", "on")
        elif tag == "input":
            self.data[attrs["name"]] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.data[self._textarea] = ""
        elif tag == "select":
            self._select = attrs["name"]
        elif (
            tag == "option"
            and self._select
            and (self._select not in self.data or "selected" in attrs)
        ):
            self.data[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            if self._textarea:  # a browser drops the newline that opens a textarea
                self.data[self._textarea] = self.data[self._textarea].removeprefix("\n")
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def posted_form(client: Client, url: str) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    data = PostedForm(response.content.decode()).data
    data.pop("csrfmiddlewaretoken", None)
    return data


# -- the one-click Monday reminder run -------------------------------------------------------


def test_one_click_creates_a_valid_monday_reminder_run_and_a_second_click_finds_it(
    client, partner, connection
):
    client.force_login(partner)
    for page in (
        reverse("dashboard:schedules"),
        reverse("dashboard:connection", args=[connection.pk]),
    ):
        html = client.get(page).content.decode()
        assert f'action="{WEEKLY}"' in html and "Weekly reminder run (Mondays 07:00)" in html
    schedule = one_click(client, connection)
    assert (schedule.cron, schedule.time_zone, schedule.enabled) == (
        "0 7 * * 1",
        "Europe/Zurich",
        True,
    )
    assert schedule.name == "Weekly reminder run (Mondays 07:00)"
    # every invoice the operation takes up: its own filter is its default statuses
    assert schedule.selection == {"filter": {}}
    operation = operation_for(REMINDERS)
    assert operation.default_statuses == ("S", "PP", "R1", "R2")
    assert schedule.parameters == operation.check({})  # shipped texts and days, checked
    assert operation.check(schedule.parameters) == schedule.parameters
    assert schedule.parameters["days"] == {"R1": 10, "R2": 10, "R3": 10}
    assert schedule.parameters["texts"]["R1"]["fr"]["subject"].startswith("Rappel de paiement")
    page = client.get(reverse("dashboard:schedule", args=[schedule.pk])).content.decode()
    assert "is created for Keller AG" in page
    next_runs = page.split('data-testid="next-runs"')[1].split("</ul>")[0]
    assert next_runs.count("Monday") == 3 and "07:00" in next_runs

    response = client.post(WEEKLY, {"connection": connection.pk}, follow=True)
    assert response.redirect_chain == [(reverse("dashboard:schedule", args=[schedule.pk]), 302)]
    assert "Keller AG already has this reminder run" in response.content.decode()
    assert Schedule.objects.count() == 1


def test_with_many_accounts_the_one_click_form_finds_the_account_by_a_search(client, partner):
    from partnerapp.dashboard.selectors import ACCOUNT_OPTIONS

    for n in range(ACCOUNT_OPTIONS + 5):
        ConnectionFactory(user=partner, owner_name=f"Kunde {n:03d} AG", account_id=f"88{n:03d}")
    keller = ConnectionFactory(user=partner, owner_name="Keller & Co")
    ConnectionFactory(owner_name="Keller Fremd AG")  # someone else's
    client.force_login(partner)
    schedules_page = reverse("dashboard:schedules")

    def offered(**search) -> list[tuple[str, str]]:
        html = client.get(schedules_page, search).content.decode()
        assert 'id="weekly-reminders-search"' in html
        select = html.split('id="weekly-reminders-connection"')[1:] or [""]
        return re.findall(
            r'<option value="(\d+)">([^<]*)</option>', select[0].split("</select>")[0]
        )

    assert offered() == []  # not 56 options: a search first
    assert offered(account="keller") == [(str(keller.pk), "Keller &amp; Co")]
    assert len(offered(account="88003")) == 1  # the account number
    assert len(offered(account="Kunde")) == ACCOUNT_OPTIONS
    assert "add to the search" in client.get(schedules_page, {"account": "Kunde"}).content.decode()
    nothing = client.get(schedules_page, {"account": "Zebra"}).content.decode()
    assert 'data-testid="no-account-found"' in nothing and offered(account="Zebra") == []
    assert one_click(client, keller).connection == keller


def test_one_click_is_for_my_own_accounts_with_the_invoice_scope_and_csrf(
    client, partner, outsider, connection
):
    client.force_login(outsider)
    assert client.post(WEEKLY, {"connection": connection.pk}).status_code == 404
    assert client.post(WEEKLY, {"connection": "x"}).status_code == 404
    assert client.get(WEEKLY).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(partner)
    assert strict.post(WEEKLY, {"connection": connection.pk}).status_code == 403
    no_invoices = ConnectionFactory(user=partner, scopes="profile contact")
    client.force_login(partner)
    page = client.post(WEEKLY, {"connection": no_invoices.pk}, follow=True).content.decode()
    assert "lacks the scope invoice" in page
    assert not Schedule.objects.exists()


@pytest.mark.worker
def test_the_monday_run_ticks_into_a_reminder_job_that_a_worker_runs(
    client, connect, partner, sandbox, start_worker
):
    Invoice.objects.filter(owner=sandbox.owner).update(status="DR")  # nothing else to remind
    ids = overdue(sandbox.owner, 2, language="fr")
    connection = connect()
    client.force_login(partner)
    schedule = one_click(client, connection)
    start_worker()
    monday = next_monday_7am(after=schedule.created_at)
    [job_id] = schedules.schedules_tick(now=monday + timedelta(minutes=5))
    job = BatchJob.objects.get(pk=job_id)
    assert job.action == REMINDERS and job.schedule_run.schedule == schedule
    assert job.schedule_run.slot_at == monday and job.auto_start
    wait_for(
        lambda: BatchJob.objects.get(pk=job_id).status == BatchJob.Status.DONE,
        message="the scheduled reminder run finished",
    )
    assert statuses(ids) == dict.fromkeys(ids, "R1")
    emails = sandbox.outbox()["items"]
    assert sorted(e["document_id"] for e in emails) == sorted(ids)
    assert all(e["subject"].startswith("Rappel de paiement") for e in emails)
    assert {item.state for item in job.items.all()} == {JobItem.State.SENT}


def next_monday_7am(*, after: datetime) -> datetime:
    local = after.astimezone(ZURICH)
    days = (7 - local.weekday()) % 7 or 7
    return (local + timedelta(days=days)).replace(hour=7, minute=0, second=0, microsecond=0)


# -- editing a reminder schedule (and an email schedule's per-language texts) ------------------


def test_editing_a_reminder_schedules_french_text_and_days_round_trips(client, partner, connection):
    client.force_login(partner)
    schedule = one_click(client, connection)
    before = schedule.parameters
    url = reverse("dashboard:schedule", args=[schedule.pk])
    data = posted_form(client, url)
    assert data["action"] == REMINDERS and data["days_R2"] == "10"
    assert data["R2_subject_fr"] == before["texts"]["R2"]["fr"]["subject"]
    assert data["R3_body_it"] == before["texts"]["R3"]["it"]["body"]
    french = {"subject": "2e rappel : facture {INVOICENO}", "body": "Montant ouvert : {OPENAMOUNT}"}
    data.update(R2_subject_fr=french["subject"], R2_body_fr=french["body"], days_R2="14")
    assert client.post(url, data).status_code == 302
    schedule.refresh_from_db()
    after = schedule.parameters
    assert after["texts"]["R2"]["fr"] == french and after["days"]["R2"] == 14
    assert after["texts"]["R1"] == before["texts"]["R1"]  # nothing else moved
    assert after["texts"]["R2"]["de"] == before["texts"]["R2"]["de"]
    assert operation_for(REMINDERS).check(after) == after
    assert posted_form(client, url) == {**data}  # what is shown again is what was saved


def test_a_reminder_text_with_an_unknown_placeholder_is_refused_at_its_field(
    client, partner, connection
):
    client.force_login(partner)
    schedule = one_click(client, connection)
    url = reverse("dashboard:schedule", args=[schedule.pk])
    data = {**posted_form(client, url), "R1_subject_fr": "Rappel {FACTURE}"}
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Unknown placeholder {FACTURE}" in html.split('data-testid="error-R1_subject_fr"')[1]
    schedule.refresh_from_db()
    assert schedule.parameters["texts"]["R1"]["fr"]["subject"].startswith("Rappel de paiement")


def test_an_email_schedules_per_language_texts_and_options_round_trip(client, partner, connection):
    operation = operation_for("invoice.send_by_email")
    parameters = operation.check(
        {
            "subject": "Invoice {INVOICENO}",
            "body": "Hello",
            "templates": {
                "fr": {"subject": "Facture {INVOICENO}", "body": "Bonjour"},
                "it": {"subject": "Fattura {INVOICENO}", "body": "Buongiorno"},
            },
            "language": "fr",
            "sender": "U",
            "resend": True,
            "recipient_override": ["books@example.com"],
        }
    )
    schedule = Schedule.objects.create(
        user=partner,
        connection=connection,
        name="Sent again",
        action="invoice.send_by_email",
        cron="0 8 * * 1-5",
        selection={"filter": {"status": "S"}},
        parameters=parameters,
    )
    client.force_login(partner)
    url = reverse("dashboard:schedule", args=[schedule.pk])
    data = posted_form(client, url)
    assert client.post(url, data).status_code == 302
    schedule.refresh_from_db()
    assert schedule.parameters == parameters  # saved unchanged, nothing lost
    data["subject_it"] = "Fattura n. {INVOICENO}"
    assert client.post(url, data).status_code == 302
    schedule.refresh_from_db()
    assert schedule.parameters["templates"]["it"]["subject"] == "Fattura n. {INVOICENO}"
    assert schedule.parameters["templates"]["fr"] == parameters["templates"]["fr"]


# -- reminder history per invoice ----------------------------------------------------------------


def invoice_row(html: str, invoice_id: int) -> str:
    return html.split(f'id="invoice-{invoice_id}"')[1].split("</tr>")[0]


def test_the_invoices_page_shows_my_reminders_and_not_to_another_user(
    client, connect, partner, outsider, sandbox
):
    ids = overdue(sandbox.owner, 2)
    mine = connect()
    job = run(reminder_job(partner, mine, ids))
    theirs = connect(user=outsider)  # the same provider account, another partnerapp user
    client.force_login(partner)
    html = client.get(reverse("dashboard:invoices", args=[mine.pk]), {"per_page": 50})
    html = html.content.decode()
    for invoice_id in ids:
        row = invoice_row(html, invoice_id)
        history = row.split('data-testid="reminder-history"')[1]
        assert "1st reminder" in history and f"job #{job.pk}" in history
        assert f'href="{reverse("dashboard:job", args=[job.pk])}"' in history
        assert 'data-testid="reminder-state">sent<' in history
        assert timezone.localdate().strftime("%d.%m.%Y") in history
    item = job.items.get(document_id=ids[0])
    page = client.get(reverse("dashboard:job_item", args=[job.pk, item.pk])).content.decode()
    assert "1st reminder" in page.split('data-testid="item-reminders"')[1]

    client.force_login(outsider)
    html = client.get(reverse("dashboard:invoices", args=[theirs.pk]), {"per_page": 50})
    html = html.content.decode()
    assert all(str(i) in html for i in ids) and 'data-testid="reminder-history"' not in html
    assert f"job #{job.pk}" not in html


def test_an_uncertain_reminder_reads_uncertain_on_the_job_item_page(client, partner, connection):
    job = JobFactory(connection=connection, action=REMINDERS)
    item = JobItemFactory(
        job=job,
        document_status="R1",
        state=JobItem.State.UNCERTAIN,
        step=1,
        step_log=[{"step": "change_status", "at": timezone.now().isoformat(), "proven": True}],
        claimed_at=timezone.now(),
    )
    client.force_login(partner)
    page = client.get(reverse("dashboard:job_item", args=[job.pk, item.pk])).content.decode()
    history = page.split('data-testid="item-reminders"')[1]
    assert "2nd reminder" in history and "uncertain — review" in history


@pytest.fixture
def fifty_invoices_owner(sandbox):
    owner, _ = seed_owner(
        email="fifty@sandbox.example",
        password=OWNER_PASSWORD,
        name="Lea",
        surname="Frei",
        company="Frei Buchhaltung GmbH",
        invoices=60,
        seed=11,
        today=timezone.localdate(),
    )
    return owner


def test_a_page_of_50_invoices_costs_the_same_few_queries_with_their_history(
    client, connect, partner, fifty_invoices_owner, django_assert_max_num_queries
):
    connection = connect(owner=fifty_invoices_owner)
    client.force_login(partner)
    url = reverse("dashboard:invoices", args=[connection.pk])

    def page() -> str:
        return client.get(url, {"per_page": 50}).content.decode()

    shown = [int(i) for i in re.findall(r'id="invoice-(\d+)"', page())]  # warm up too
    assert len(shown) == 50
    with CaptureQueriesContext(db_connection) as without_history:
        page()
    job = JobFactory(connection=connection, action=REMINDERS)
    for invoice_id in shown:
        JobItemFactory(
            job=job,
            document_id=invoice_id,
            document_status="S",
            state=JobItem.State.SENT,
            step=2,
            claimed_at=timezone.now(),
        )
    with django_assert_max_num_queries(15), CaptureQueriesContext(db_connection) as with_history:
        html = page()
    assert html.count('data-testid="reminder-history"') == 50
    assert len(with_history) == len(without_history)  # the history is one query either way

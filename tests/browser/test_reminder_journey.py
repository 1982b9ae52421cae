"""DESIGN §1 journey 8 in headless Chromium (issue 11): a reminder run in French for
French-language invoices. A partner ticks five overdue invoices (three French, two
German) in the invoices browser, starts "Send payment reminders" from "More actions",
sees each email in its customer's language in the preview, confirms, and a real Celery
worker raises each invoice to R1 at the sandbox (over HTTP) and emails it that level's
reminder once. The same run again right away reminds nobody. The run's job page reads
in French for a French browser. Every page is checked for console errors (the CSP
reports there). Screenshots go to var/test-artifacts/<test name>/.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.operations.texts import shipped_text
from partnerapp.sandbox.models import Invoice
from partnerapp.smartbusiness.vocabulary import status_label
from tests.browser.steps import log_in, provider_sign_in_if_asked, start_connect
from tests.browser.test_journey import _log_in
from tests.browser.test_payments_journey import ConsoleWatch
from tests.jobs.test_reminders import overdue, statuses

pytestmark = [pytest.mark.browser, pytest.mark.worker]

REMINDERS = "invoice.send_reminders"
PREPARED = 60_000  # ms: the worker reads the ticked invoices before the preview shows
REMINDED = 90_000  # ms: the worker changes each status, then emails each reminder


@pytest.fixture
def console(page) -> ConsoleWatch:
    return ConsoleWatch(page)


def reminder_subject(invoice: Invoice) -> str:
    """The shipped 1st reminder's subject in the invoice's language, as the customer reads it."""
    subject = shipped_text("R1", invoice.language)["subject"]
    return subject.replace("{INVOICENO}", invoice.number)


def browse_invoices(page: Page, *, status: str) -> None:
    """The invoices browser, filtered to one status, everything on one page."""
    page.get_by_label("Status").select_option(status)
    page.get_by_label("Per page").select_option("100")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("invoice-total")).to_contain_text("page 1 of 1")


def start_reminder_run(page: Page, ids: list[int]) -> None:
    """Tick the invoices, then "More actions" → "Send payment reminders for invoices"."""
    for invoice_id in ids:
        page.locator(f"#invoice-{invoice_id}").check()
    page.get_by_text("More actions").click()
    page.get_by_role("button", name="Send payment reminders for invoices").click()
    expect(page.get_by_role("heading", name="New job")).to_be_visible()
    expect(page.get_by_test_id("ticked-count")).to_have_text(f"{len(ids)} documents ticked.")


def reminder_level_texts(page: Page, level: str):
    """The wizard's folded texts of one reminder level ("1st reminder")."""
    return (
        page.get_by_test_id("reminder-fields")
        .locator("details")
        .filter(has_text=f"Text of the {level}")
    )


def test_a_reminder_run_reminds_french_invoices_in_french_once_and_reads_in_french(
    browser, page, console, sandbox, partner, worker, screenshot
):
    url = sandbox.url
    log_in(page, url, partner)
    start_connect(page)
    provider_sign_in_if_asked(page, sandbox.owner.email, screenshot=screenshot)
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("Connected Anna Keller.")).to_be_visible()

    french_ids = overdue(sandbox.owner, 3, days=40, language="fr")
    german_ids = overdue(sandbox.owner, 2, days=40, language="de", offset=3)
    ids = french_ids + german_ids
    invoices = {invoice.pk: invoice for invoice in Invoice.objects.filter(pk__in=ids)}

    # -- 1. the run: ticked in the browser, previewed per language, confirmed, done ------
    page.get_by_role("link", name="Browse invoices").click()
    browse_invoices(page, status="S")
    start_reminder_run(page, ids)
    reminder_fields = page.get_by_test_id("reminder-fields")
    expect(reminder_fields).to_be_visible()
    expect(page.get_by_test_id("email-panel-fr")).to_be_hidden()  # the plain email's tabs
    expect(page.get_by_label("Days after the due date before the 1st reminder")).to_have_value("10")
    first_level = reminder_level_texts(page, "1st reminder")
    first_level.locator("summary").click()
    # a tab per language, as the email's; each tab's labels in its own language
    first_level.get_by_role("tab", name="Français").click()
    expect(first_level.get_by_label("Objet")).to_have_value(shipped_text("R1", "fr")["subject"])
    expect(first_level.get_by_label("Betreff")).to_be_hidden()
    first_level.get_by_role("tab", name="Deutsch").click()
    expect(first_level.get_by_label("Betreff")).to_have_value(shipped_text("R1", "de")["subject"])
    screenshot(page, "wizard")
    page.get_by_role("button", name="Continue to the preview").click()

    expect(page.get_by_test_id("preview-to-send")).to_have_text("5", timeout=PREPARED)
    expect(page.get_by_test_id("preview-skipped")).to_have_text("0")
    expect(page.get_by_test_id("language-count-fr")).to_have_text("3")
    expect(page.get_by_test_id("language-count-de")).to_have_text("2")
    french_share = (
        page.get_by_test_id("preview-languages")
        .locator("li")
        .filter(has=page.get_by_test_id("language-count-fr"))
    )
    french_subjects = "|".join(re.escape(reminder_subject(invoices[i])) for i in french_ids)
    expect(french_share).to_contain_text(re.compile(french_subjects))
    expect(french_share).to_contain_text(re.compile(r"^Français", re.MULTILINE))
    emails = page.get_by_test_id("rendered-email")
    expect(emails).to_have_count(5)
    for invoice in invoices.values():
        email = emails.filter(has_text=invoice.number)
        expect(email.locator("summary")).to_contain_text(reminder_subject(invoice))
    assert sandbox.outbox()["count"] == 0, "the preview sends nothing"
    assert statuses(ids) == dict.fromkeys(ids, "S"), "the preview changes no status"
    screenshot(page, "preview")
    page.get_by_role("button", name="Confirm and remind 5 invoices").click()

    expect(page.get_by_test_id("job-status")).to_have_text("done", timeout=REMINDED)
    expect(page.get_by_test_id("count-sent")).to_have_text("5")
    expect(page.get_by_test_id("count-uncertain")).to_have_text("0")
    expect(page.get_by_test_id("item-row")).to_have_count(5)
    screenshot(page, "job-done")
    job = BatchJob.objects.get(action=REMINDERS)
    assert set(job.items.values_list("state", flat=True)) == {JobItem.State.SENT}

    outbox = sandbox.outbox()
    assert outbox["sends_per_document"] == {f"invoice:{i}": 1 for i in ids}
    subjects = {email["document_id"]: email["subject"] for email in outbox["items"]}
    assert subjects == {i: reminder_subject(invoices[i]) for i in ids}
    assert all(subjects[i].startswith("Rappel de paiement") for i in french_ids), subjects
    assert all(subjects[i].startswith("Zahlungserinnerung") for i in german_ids), subjects
    assert statuses(ids) == dict.fromkeys(ids, "R1")

    # The invoices browser reads them back from the provider at the 1st reminder, each
    # with its reminder history: R1 by this job, sent.
    page.goto(url + reverse("dashboard:invoices", args=[job.connection_id]))
    browse_invoices(page, status="R1")
    for invoice_id in ids:
        row = page.get_by_test_id("invoice-row").filter(has=page.locator(f"#invoice-{invoice_id}"))
        expect(row).to_have_count(1)
        badge = row.locator(".badge[data-status]")
        expect(badge).to_have_attribute("data-status", "R1")
        expect(badge).to_have_text("1st reminder")
        history = row.get_by_test_id("reminder-history")
        expect(history.get_by_test_id("reminder-level")).to_have_text(["1st reminder"])
        expect(history.get_by_role("link", name=f"job #{job.pk}")).to_have_attribute(
            "href", reverse("dashboard:job", args=[job.pk])
        )
        expect(history.get_by_test_id("reminder-state")).to_have_text("sent")
    screenshot(page, "invoices-reminded")

    # -- 2. the same run again right away: every invoice not yet due, nothing to confirm --
    start_reminder_run(page, ids)
    page.get_by_role("button", name="Continue to the preview").click()
    expect(page.get_by_test_id("preview-skipped")).to_have_text("5", timeout=PREPARED)
    expect(page.get_by_test_id("preview-to-send")).to_have_text("0")
    skipped = page.get_by_test_id("skipped-list").locator("li")
    expect(skipped).to_have_count(5)
    for row in skipped.all():
        expect(row).to_contain_text("Not yet due for the next reminder")
    expect(page.get_by_role("button", name=re.compile(r"^Confirm"))).to_have_count(0)
    screenshot(page, "again-nothing-due")
    assert sandbox.outbox()["count"] == 5, "the second run emailed nobody"
    assert statuses(ids) == dict.fromkeys(ids, "R1"), "and raised nobody to R2"
    console.assert_clean()

    # -- 3. the run's job page for a French browser ----------------------------------------
    read_in_french(browser, sandbox, partner, job, screenshot)


def french(text: str) -> str:
    """What the catalog says in French (the English text until the catalog has it)."""
    with translation.override("fr"):
        return gettext(text)


def read_in_french(browser, sandbox, partner, job: BatchJob, screenshot) -> None:
    """The job page and one item's page in French: the language, the structure and the
    data hold; the words are the catalog's (being filled in), not fixed here."""
    job.refresh_from_db()
    title = f"{job.name} #{job.pk}"  # the name stays in its creator's language (English)
    with translation.override("fr"):
        first_reminder = status_label("R1")
    context = browser.new_context(locale="fr-CH", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    console = ConsoleWatch(page)
    try:
        _log_in(page, sandbox.url, partner)
        page.goto(sandbox.url + reverse("dashboard:job", args=[job.pk]))
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", level=1)).to_contain_text(title)
        expect(page.get_by_role("link", name=french("Jobs"), exact=True)).to_be_visible()
        status = page.get_by_test_id("job-status")
        expect(status).to_have_class(re.compile(r"\bdone\b"))
        expect(status).to_have_text(french("done"))
        for counter, value in (("total", 5), ("sent", 5), ("failed", 0), ("uncertain", 0)):
            expect(page.get_by_test_id(f"count-{counter}")).to_have_text(str(value))
        rows = page.get_by_test_id("item-row")
        expect(rows).to_have_count(5)
        expect(rows.locator(".badge.sent")).to_have_count(5)
        screenshot(page, "job-fr")

        rows.first.get_by_role("link").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        reminders = page.get_by_test_id("item-reminders")
        expect(reminders.get_by_test_id("reminder-level")).to_have_text([first_reminder])
        job_url = reverse("dashboard:job", args=[job.pk])
        expect(reminders.locator(f'a[href="{job_url}"]')).to_have_count(1)
        screenshot(page, "job-item-fr")
        console.assert_clean()
    finally:
        context.close()

"""DESIGN §1 journey 9 in headless Chromium: a camt.054 from the bank is uploaded, matched
by a real Celery worker, reviewed, confirmed, and each payment is recorded once at the
sandbox provider (over HTTP); the same file again records nothing. Also: an ambiguous
CSV entry a person settles with a radio, the review page in French, a PDF refused next
to the file field. Every page is checked for console errors (the CSP reports there) and
the review page is worked by keyboard. Screenshots go to var/test-artifacts/<test name>/.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.receivables.models import BankUpload
from partnerapp.sandbox.models import Invoice, Payment
from tests.browser.steps import log_in, provider_sign_in_if_asked, start_connect
from tests.browser.test_journey import _log_in
from tests.receivables.test_payments import bank_file, open_invoices
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker]

MATCHED = 60_000  # ms: the worker matches the file, the page polls every 2 s
RECORDED = 90_000  # ms: the worker prepares the job and POSTs each payment
ACCESSIBLE_RECORD = re.compile(r"^Record [\d'.]+ on \S+$")


class ConsoleWatch:
    """Errors the pages log (a CSP violation is one) and scripts that throw."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def _page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught: {error}")

    def assert_clean(self, *, expected: tuple[str, ...] = ()) -> None:
        """No error but those `expected` (substrings, e.g. a deliberate 400)."""
        # The site has no /favicon.ico (Chromium asks for it by itself): not these pages'.
        expected = (*expected, "/favicon.ico")
        left = [e for e in self.errors if not any(word in e for word in expected)]
        assert not left, "the pages logged errors:\n" + "\n".join(left)


@pytest.fixture
def console(page) -> ConsoleWatch:
    return ConsoleWatch(page)


@pytest.fixture
def owner(sandbox):
    """The sandbox owner with ten more open invoices and no payment recorded yet."""
    Payment.objects.filter(invoice__owner=sandbox.owner).delete()
    open_invoices(sandbox.owner, 10)
    return sandbox.owner


def open_bank_files(page: Page, url: str, connection_pk: int) -> None:
    """From the overview to the connection's page, then its bank files."""
    page.goto(url + "/")
    page.get_by_role("link", name="Anna Keller").first.click()
    expect(page.get_by_role("heading", name="Anna Keller")).to_be_visible()
    page.get_by_test_id("bank-files-link").click()
    expect(page).to_have_url(f"{url}/connections/{connection_pk}/bank-files/")


def upload(page: Page, data: bytes, name: str, mime: str = "application/xml") -> None:
    page.get_by_label("Bank file").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    page.get_by_role("button", name="Upload and match").click()


def wait_until_matched(page: Page) -> None:
    """On the review page, which says "matching…" and asks again by itself (htmx) until
    the worker has matched the file."""
    expect(page).to_have_url(re.compile(r"/bank-files/\d+/$"))
    expect(page.get_by_test_id("bank-summary")).to_be_visible(timeout=MATCHED)


def recorded_badges(page: Page):
    return page.get_by_test_id("bank-payment-state").get_by_text("recorded", exact=True)


def ready_rows(page: Page) -> list[dict]:
    """Each ticked payment: its invoice's id and number, and whether it pays in part."""
    rows = []
    for row in page.get_by_test_id("bank-ready").get_by_test_id("bank-row").all():
        rows.append(
            {
                "id": int(row.get_by_role("checkbox").get_attribute("value")),
                "number": row.locator("td strong").inner_text().strip(),
                "partial": "Partial payment" in row.inner_text(),
            }
        )
    return rows


def test_a_camt054_is_matched_reviewed_and_each_payment_recorded_once(
    page, console, sandbox, owner, partner, worker, screenshot, tmp_path
):
    url = sandbox.url
    log_in(page, url, partner)
    start_connect(page)
    provider_sign_in_if_asked(page, owner.email, screenshot=screenshot)
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("Connected Anna Keller.")).to_be_visible()
    connection = partner.connections.get(owner_name="Anna Keller")

    open_bank_files(page, url, connection.pk)
    expect(page.get_by_role("heading", name="Record payments from a bank file")).to_be_visible()
    screenshot(page, "bank-files")
    data = bank_file(tmp_path, owner, paid=3, partial=1, unknown=1)
    upload(page, data, "camt054.xml")
    expect(page.get_by_role("heading", name="Bank file camt054.xml")).to_be_visible()
    wait_until_matched(page)
    summary = page.get_by_test_id("bank-summary")
    expect(summary).to_contain_text("4 payments ready to record")
    expect(summary).to_contain_text("1 without invoice")
    boxes = page.get_by_test_id("bank-ready").get_by_role("checkbox")
    expect(boxes).to_have_count(4)
    for box in boxes.all():
        expect(box).to_be_checked()
        expect(box).to_have_accessible_name(ACCESSIBLE_RECORD)
    unmatched = page.get_by_test_id("bank-unmatched").get_by_test_id("bank-row")
    expect(unmatched).to_have_count(1)
    expect(unmatched).to_contain_text("no invoice")
    expect(unmatched.get_by_role("radio")).to_have_count(0)
    rows = ready_rows(page)
    assert sum(row["partial"] for row in rows) == 1
    screenshot(page, "review")

    # By keyboard: Space unticks and ticks again, Tab walks the boxes to the button.
    boxes.first.focus()
    page.keyboard.press("Space")
    expect(boxes.first).not_to_be_checked()
    page.keyboard.press("Space")
    expect(boxes.first).to_be_checked()
    for box in boxes.all()[1:]:
        page.keyboard.press("Tab")
        expect(box).to_be_focused()
    page.keyboard.press("Tab")
    confirm = page.get_by_role("button", name="Record the chosen payments")
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_text(re.compile(r"Recording 4 payments \(job #\d+\)"))).to_be_visible()
    expect(recorded_badges(page)).to_have_count(4, timeout=RECORDED)
    expect(page.get_by_test_id("bank-submitted").get_by_test_id("bank-row")).to_have_count(4)
    expect(page.get_by_test_id("bank-ready")).to_have_count(0)
    screenshot(page, "recorded")

    job = BatchJob.objects.get(action="invoice.record_payments")
    assert job.status == BatchJob.Status.DONE
    assert set(job.items.values_list("state", flat=True)) == {JobItem.State.SENT}
    expected = {row["id"]: "PP" if row["partial"] else "P" for row in rows}
    assert dict(Invoice.objects.filter(pk__in=expected).values_list("pk", "status")) == expected
    assert sorted(Payment.objects.values_list("invoice_id", flat=True)) == sorted(expected)

    # The invoices browser reads them back from the provider as paid / partially paid.
    page.get_by_role("link", name=re.compile("Bank files of Anna Keller")).click()
    page.get_by_role("link", name="Anna Keller").first.click()
    page.get_by_role("link", name="Browse invoices").click()
    for row in rows:
        page.get_by_label("Search").fill(row["number"])
        page.get_by_label("Status").select_option(
            label="Partially paid" if row["partial"] else "Paid"
        )
        page.get_by_role("button", name="Show").click()
        listed = page.get_by_test_id("invoice-row").filter(
            has=page.get_by_test_id("invoice-number").get_by_text(row["number"], exact=True)
        )
        expect(listed).to_have_count(1)
        badge = listed.locator(".badge")
        expect(badge).to_have_attribute("data-status", expected[row["id"]])
        expect(badge).to_have_text("Partially paid" if row["partial"] else "Paid")
    screenshot(page, "invoices-paid")

    # The same file again: nothing to tick, the four shown as recorded before.
    open_bank_files(page, url, connection.pk)
    expect(page.get_by_test_id("bank-upload-row")).to_have_count(1)
    upload(page, data, "camt054 (1).xml")
    wait_until_matched(page)
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_test_id("bank-summary")).to_contain_text("4 confirmed before")
    expect(recorded_badges(page)).to_have_count(4)
    screenshot(page, "same-file-again")
    assert BatchJob.objects.filter(action="invoice.record_payments").count() == 1
    assert Payment.objects.count() == 4
    console.assert_clean()


def test_an_ambiguous_entry_is_recorded_on_the_invoice_picked_by_radio(
    page, console, sandbox, owner, connect, partner, worker, screenshot
):
    connection = connect()
    first, second = open_invoices(owner, 2)
    Invoice.objects.filter(pk__in=[first.pk, second.pk]).update(total=Decimal("100.00"))
    csv = (
        "date;amount;currency;reference;payer;text\n"
        f"{timezone.localdate().isoformat()};100.00;CHF;;Muster AG;"
        f"Rechnungen {first.number} {second.number}\n"
    ).encode()
    log_in(page, sandbox.url, partner)
    open_bank_files(page, sandbox.url, connection.pk)
    upload(page, csv, "bank.csv", mime="text/csv")
    wait_until_matched(page)
    expect(page.get_by_test_id("bank-summary")).to_contain_text("1 to choose")
    expect(page.get_by_role("heading", name="Several invoices fit: choose one")).to_be_visible()
    choice = page.get_by_test_id("bank-ambiguous").get_by_role("group", name="Record it on")
    radios = choice.get_by_role("radio")
    expect(radios).to_have_count(3)  # both invoices, and "Do not record"
    expect(choice.get_by_role("radio", name="Do not record")).to_be_checked()
    for number in (first.number, second.number):
        expect(choice.get_by_role("radio", name=re.compile(re.escape(number)))).to_have_count(1)
    screenshot(page, "ambiguous")

    # By keyboard: the checked radio takes the focus; the arrow picks the one above it,
    # the second invoice listed.
    choice.get_by_role("radio", name="Do not record").focus()
    page.keyboard.press("ArrowUp")
    picked = radios.nth(1)
    expect(picked).to_be_checked()
    expect(picked).to_be_focused()
    picked_id = int(picked.get_attribute("value"))
    assert picked_id in (first.pk, second.pk)
    other_id = ({first.pk, second.pk} - {picked_id}).pop()
    screenshot(page, "ambiguous-picked")
    page.get_by_role("button", name="Record the chosen payments").click()

    expect(recorded_badges(page)).to_have_count(1, timeout=RECORDED)
    picked_number = Invoice.objects.get(pk=picked_id).number
    expect(page.get_by_test_id("bank-submitted")).to_contain_text(picked_number)
    screenshot(page, "ambiguous-recorded")
    assert list(Payment.objects.values_list("invoice_id", "amount")) == [
        (picked_id, Decimal("100.00"))
    ]
    assert Invoice.objects.get(pk=picked_id).status == "P"
    assert Invoice.objects.get(pk=other_id).status == "S"
    console.assert_clean()


def french(text: str) -> str:
    """What the catalog says in French (the English text until the catalog has it)."""
    with translation.override("fr"):
        return gettext(text)


def test_the_review_page_reads_in_french_for_a_french_browser(
    browser, sandbox, owner, connect, partner, worker, screenshot, tmp_path
):
    # The catalog has these in French already, so the page cannot pass in English.
    assert (
        french("Overview") != "Overview"
        and french("Pays the open amount") != "Pays the open amount"
    )
    connection = connect()
    context = browser.new_context(locale="fr-CH", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    console = ConsoleWatch(page)
    try:
        _log_in(page, sandbox.url, partner)
        page.goto(f"{sandbox.url}/connections/{connection.pk}/bank-files/")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("link", name=french("Overview"))).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            french("Record payments from a bank file")
        )
        screenshot(page, "bank-files-fr")
        page.locator("input[type=file]").set_input_files(
            files=[
                {
                    "name": "camt054.xml",
                    "mimeType": "application/xml",
                    "buffer": bank_file(tmp_path, owner, paid=2, partial=1, unknown=1),
                }
            ]
        )
        page.get_by_test_id("bank-upload").locator("button[type=submit]").click()
        wait_until_matched(page)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        headings = page.get_by_test_id("bank-review").get_by_role("heading", level=2)
        expect(headings).to_have_text([french("Ready to record"), french("No open invoice found")])
        expect(page.get_by_test_id("bank-ready").get_by_role("checkbox")).to_have_count(3)
        # This part may come from the polling request (htmx): the language holds there too.
        expect(page.get_by_test_id("bank-ready")).to_contain_text(french("Pays the open amount"))
        expect(page.get_by_test_id("bank-unmatched").get_by_test_id("bank-row")).to_have_count(1)
        expect(page.get_by_test_id("bank-confirm-button")).to_have_text(
            french("Record the chosen payments")
        )
        expect(page.get_by_role("link", name=french("Jobs"))).to_be_visible()
        screenshot(page, "review-fr")
        console.assert_clean()
    finally:
        context.close()
    assert not Payment.objects.exists(), "looking at the page records nothing"


def test_a_pdf_is_refused_next_to_the_file_field_and_the_page_keeps_working(
    page, console, sandbox, owner, connect, partner, worker, screenshot, tmp_path
):
    connection = connect()
    log_in(page, sandbox.url, partner)
    open_bank_files(page, sandbox.url, connection.pk)
    expect(page.get_by_label("Bank file")).to_have_accessible_description(
        re.compile(r"^camt\.054 or camt\.053 \(XML.*payer; text\.$")
    )
    upload(page, b"%PDF-1.7\n%fake invoice\n", "invoice.pdf", mime="application/pdf")

    error = page.get_by_test_id("upload-error")
    expect(error).to_have_text("This is a PDF document, not a bank file.")
    field = page.get_by_label("Bank file")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        re.compile(r"^camt\.054 or camt\.053 .* This is a PDF document, not a bank file\.$")
    )
    box, error_box = field.bounding_box(), error.bounding_box()
    assert 0 <= error_box["y"] - (box["y"] + box["height"]) < 120, "the reason sits by the field"
    expect(page.get_by_role("heading", name="Record payments from a bank file")).to_be_visible()
    expect(page.get_by_text("No bank file uploaded yet.")).to_be_visible()
    screenshot(page, "pdf-refused")
    assert not BankUpload.objects.exists()

    # The page keeps working: the real file next is taken, matched and reviewed.
    upload(page, bank_file(tmp_path, owner, paid=1), "camt054.xml")
    wait_until_matched(page)
    expect(page.get_by_test_id("bank-ready").get_by_role("checkbox")).to_have_count(1)
    screenshot(page, "then-a-bank-file")
    wait_for(lambda: BankUpload.objects.filter(state="ready").count() == 1, message="one upload")
    # Chromium logs the refused upload's 400 answer itself; anything else is an error.
    console.assert_clean(expected=("status of 400",))

"""Issue 11 in headless Chromium: the email's text per language in the wizard's tabs, the
live rendering of the open tab for a selected invoice in that language, the preview's
count per language, and each customer's email in their language at the sandbox — with a
real Celery worker. Screenshots go to var/test-artifacts/<test name>/.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.steps import log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]

FRENCH_SUBJECT = "Votre facture {INVOICENO}"


def sendable_draft(sandbox, language: str):
    drafts = sandbox.owner.invoices.filter(
        status="DR", language=language, contact__email__contains="@"
    ).exclude(contact__email__contains="(at)")
    return drafts.order_by("number").first()


def test_a_french_text_reaches_the_french_invoice_and_the_german_text_the_german_one(
    page, connect, partner, sandbox, worker, screenshot
):
    connection = connect(scopes=("profile", "invoice", "contact", "offer"))
    german, french = sendable_draft(sandbox, "de"), sendable_draft(sandbox, "fr")
    log_in(page, sandbox.url, partner)
    page.goto(f"{sandbox.url}/connections/{connection.pk}/invoices/?status=DR&per_page=100")
    page.locator(f"#invoice-{german.pk}").check()
    page.locator(f"#invoice-{french.pk}").check()
    page.get_by_role("button", name="Send by email").click()

    expect(page.get_by_test_id("ticked-count")).to_have_text("2 documents ticked.")
    english_tab = page.get_by_role("tab", name="English")
    expect(english_tab).to_have_attribute("aria-selected", "true")  # the reader's language
    expect(page.get_by_label("Subject")).to_have_value("Invoice {INVOICENO}")
    expect(page.get_by_label("Objet")).to_be_hidden()  # the French tab is closed

    page.get_by_role("tab", name="Français").click()
    page.get_by_label("Objet").fill(FRENCH_SUBJECT)
    expect(page.get_by_test_id("rendered-subject")).to_have_text(f"Votre facture {french.number}")
    expect(page.get_by_test_id("rendered-for")).to_contain_text(french.number)
    screenshot(page, "french-tab")

    # Another kind of document: the untouched texts follow it, the typed one stays.
    page.get_by_label("Action").select_option("offer.send_by_email")
    expect(page.get_by_label("Objet")).to_have_value(FRENCH_SUBJECT)
    expect(page.get_by_label("Betreff")).to_have_value("Offerte {INVOICENO}")
    page.get_by_label("Action").select_option("invoice.send_by_email")
    expect(page.get_by_label("Betreff")).to_have_value("Rechnung {INVOICENO}")
    expect(page.get_by_label("Objet")).to_have_value(FRENCH_SUBJECT)

    # The keyboard: arrows and Home move between the tabs and open them.
    page.get_by_role("tab", name="Français").focus()
    page.keyboard.press("ArrowRight")
    italian = page.get_by_role("tab", name="Italiano")
    expect(italian).to_be_focused()
    expect(italian).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Oggetto")).to_be_visible()
    expect(page.get_by_test_id("rendered-other-language")).to_contain_text(
        "No selected document is in Italiano"
    )
    page.keyboard.press("Home")
    expect(page.get_by_role("tab", name="Deutsch")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("rendered-subject")).to_have_text(f"Rechnung {german.number}")
    screenshot(page, "german-tab")
    page.get_by_role("button", name="Continue to the preview").click()

    expect(page.get_by_test_id("preview-to-send")).to_have_text("2", timeout=60_000)
    expect(page.get_by_test_id("language-count-de")).to_have_text("1")
    expect(page.get_by_test_id("language-count-fr")).to_have_text("1")
    expect(page.get_by_test_id("preview-languages")).to_contain_text(
        f"Votre facture {french.number}"
    )
    assert sandbox.outbox()["count"] == 0, "the preview sends nothing"
    screenshot(page, "preview")
    page.get_by_role("button", name="Confirm and send 2 documents").click()

    expect(page.get_by_test_id("job-status")).to_have_text("done", timeout=90_000)
    expect(page.get_by_test_id("count-sent")).to_have_text("2")
    screenshot(page, "done")
    subjects = {email["document_id"]: email["subject"] for email in sandbox.outbox()["items"]}
    assert subjects == {
        german.pk: f"Rechnung {german.number}",
        french.pk: f"Votre facture {french.number}",
    }

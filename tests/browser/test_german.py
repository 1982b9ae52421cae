"""Journey 3 once in German: the language switcher, the invoices browser, the wizard, the
preview and the job page speak German, and the send still happens exactly once each.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.steps import log_in
from tests.browser.test_journey import _five_drafts_with_email

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_journey_three_in_german(page, connect, partner, sandbox, worker, screenshot):
    connection = connect()
    log_in(page, sandbox.url, partner)
    page.locator("#language").select_option("de")  # the switcher submits by itself
    expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    expect(page.get_by_role("link", name="Aufträge").first).to_be_visible()
    screenshot(page, "overview-de")

    page.goto(f"{sandbox.url}/connections/{connection.pk}/invoices/")
    expect(page.get_by_role("heading", name="Rechnungen")).to_be_visible()
    page.get_by_label("Status").select_option("DR")
    page.get_by_label("Sortieren nach").select_option("number")
    page.get_by_role("button", name="Anzeigen").click()
    chosen = _five_drafts_with_email(page)
    for invoice_id in chosen:
        page.locator(f"#invoice-{invoice_id}").check()
    screenshot(page, "invoices-de")
    page.get_by_role("button", name="Per E-Mail senden").click()

    expect(page.get_by_role("heading", name="Neuer Auftrag")).to_be_visible()
    expect(page.get_by_test_id("ticked-count")).to_have_text("5 Dokumente ausgewählt.")
    expect(page.get_by_label("Betreff")).to_have_value("Rechnung {INVOICENO}")  # German default
    screenshot(page, "wizard-de")
    page.get_by_role("button", name="Weiter zur Vorschau").click()

    expect(page.get_by_test_id("preview-to-send")).to_have_text("5")
    expect(page.get_by_test_id("rendered-email").first).to_contain_text("Im Anhang finden Sie")
    screenshot(page, "preview-de")
    page.get_by_role("button", name="5 Dokumente bestätigen und senden").click()

    expect(page.get_by_test_id("job-status")).to_have_text("fertig", timeout=90_000)
    expect(page.get_by_test_id("count-sent")).to_have_text("5")
    screenshot(page, "job-done-de")

    outbox = sandbox.outbox()
    assert sorted(e["document_id"] for e in outbox["items"]) == sorted(chosen)
    # Each email goes in its invoice's language (issue 11): the German tab's text for German ones.
    languages = dict(sandbox.owner.invoices.filter(pk__in=chosen).values_list("pk", "language"))
    starts = {"de": "Rechnung RE-", "fr": "Facture RE-", "it": "Fattura RE-", "en": "Invoice RE-"}
    assert all(
        e["subject"].startswith(starts[languages[e["document_id"]]]) for e in outbox["items"]
    )

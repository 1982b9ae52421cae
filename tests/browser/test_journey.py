"""DESIGN §1 journey 1 (+ the send of journey 3) in headless Chromium, against the live
server, the sandbox over HTTP and a real Celery worker. Screenshots of every step go to
var/test-artifacts/<test name>/.
"""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from partnerapp.connections.models import Connection
from partnerapp.jobs.models import BatchJob
from tests.journeys import OWNER_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_sign_up_connect_and_send_five_invoices(page, sandbox, worker, screenshot):
    url = sandbox.url
    page.goto(url + "/")
    screenshot(page, "landing")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Email").fill("new.partner@example.com")
    page.get_by_label("Password:", exact=True).fill("a-long-demo-password-1")
    page.get_by_label("Password (again):").fill("a-long-demo-password-1")
    screenshot(page, "sign-up")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    page.get_by_role("link", name="Connect SmartBusiness account").click()
    screenshot(page, "connect-scopes")
    page.get_by_role("button", name="Continue to SmartBusiness").click()
    expect(page.get_by_role("heading", name="Sign in to SmartBusiness")).to_be_visible()
    page.get_by_label("Email").fill(sandbox.owner.email)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    screenshot(page, "provider-login")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Read, send and change your invoices")).to_be_visible()
    screenshot(page, "provider-consent")
    page.get_by_role("button", name="Allow").click()

    expect(page.get_by_text("Connected Anna Keller.")).to_be_visible()
    expect(page.get_by_text("profile invoice contact")).to_be_visible()
    screenshot(page, "connected")
    assert Connection.objects.filter(owner_name="Anna Keller").count() == 1

    page.get_by_role("link", name="Browse invoices").click()
    page.get_by_label("Status").select_option("DR")
    page.get_by_label("Sort by").select_option("number")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("invoice-total")).to_contain_text("page 1 of 1")
    chosen = _five_drafts_with_email(page)
    for invoice_id in chosen:
        page.locator(f"#invoice-{invoice_id}").check()
    screenshot(page, "invoices-selected")
    page.get_by_role("button", name="Send by email").click()

    expect(page.get_by_role("heading", name="New job")).to_be_visible()
    expect(page.get_by_test_id("ticked-count")).to_have_text("5 documents ticked.")
    expect(page.get_by_label("Print in colour")).to_be_hidden()  # only the email's fields
    page.get_by_label("Subject").fill("Rechnung {INVOICENO}")
    first = sandbox.owner.invoices.get(pk=chosen[0]).number
    expect(page.get_by_test_id("rendered-subject")).to_have_text(f"Rechnung {first}")  # live
    page.get_by_label("Subject").fill("Rechnung {INVOICENR}")
    expect(page.get_by_test_id("render-unknown")).to_contain_text("{INVOICENR}")
    page.get_by_label("Subject").fill("Rechnung {INVOICENO}")
    expect(page.get_by_test_id("render-unknown")).to_have_count(0)
    screenshot(page, "wizard")
    page.get_by_role("button", name="Continue to the preview").click()

    expect(page.get_by_test_id("preview-to-send")).to_have_text("5")
    first_email = page.get_by_test_id("rendered-email").first
    expect(first_email).to_contain_text("Rechnung RE-")  # placeholders expanded
    assert sandbox.outbox()["count"] == 0, "the preview sends nothing"
    screenshot(page, "preview")
    page.get_by_role("button", name="Confirm and send 5 documents").click()

    status = page.get_by_test_id("job-status")
    expect(status).to_have_text("done", timeout=90_000)
    expect(page.get_by_test_id("count-sent")).to_have_text("5")
    rows = page.get_by_test_id("item-row")
    expect(rows).to_have_count(5)
    for row in rows.all():
        assert re.search(r"[0-9a-f-]{36}", row.inner_text()), "each result shows its request id"
    screenshot(page, "job-done")

    outbox = sandbox.outbox()
    assert outbox["count"] == 5
    assert sorted(e["document_id"] for e in outbox["items"]) == sorted(chosen)
    # Each email goes in its invoice's language (issue 11): the French ones keep their tab's text.
    languages = dict(sandbox.owner.invoices.filter(pk__in=chosen).values_list("pk", "language"))
    starts = {"fr": "Facture RE-", "it": "Fattura RE-"}
    for email in outbox["items"]:
        assert email["subject"].startswith(
            starts.get(languages[email["document_id"]], "Rechnung RE-")
        )

    page.goto(url + "/sandbox/outbox/")
    expect(page.get_by_test_id("outbox-row")).to_have_count(5)
    screenshot(page, "provider-outbox")


def _five_drafts_with_email(page) -> list[int]:
    """The first five listed drafts whose customer has a valid email address."""
    chosen = []
    for row in page.get_by_test_id("invoice-row").all():
        shown = row.get_by_test_id("invoice-email")  # under the customer's name
        email = shown.inner_text().strip() if shown.count() else ""
        if "@" in email and "(at)" not in email:
            chosen.append(int(row.locator("input[name=ids]").get_attribute("value")))
        if len(chosen) == 5:
            return chosen
    raise AssertionError("fewer than five sendable drafts on the first page")


def test_selection_survives_paging_and_all_matching_selects_the_filter(
    page, connect, partner, sandbox, screenshot
):
    """The invoices browser without a worker: what the wizard receives is what was chosen."""
    connection = connect()
    _log_in(page, sandbox.url, partner)
    page.goto(f"{sandbox.url}/connections/{connection.pk}/invoices/")
    first_page = page.get_by_test_id("invoice-row")
    expect(first_page).to_have_count(25)
    on_first = int(first_page.first.locator("input[name=ids]").get_attribute("value"))
    page.locator(f"#invoice-{on_first}").check()
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_test_id("invoice-total")).to_contain_text("page 2 of 2")
    expect(page.get_by_test_id("selected-count")).to_have_text("1")  # kept from page 1
    on_second = int(
        page.get_by_test_id("invoice-row").first.locator("input").get_attribute("value")
    )
    page.locator(f"#invoice-{on_second}").check()
    page.get_by_text("More actions").click()
    page.get_by_role("button", name="Send invoices by post").click()

    expect(page.get_by_test_id("ticked-count")).to_have_text("2 documents ticked.")
    expect(page.get_by_label("Subject")).to_be_hidden()  # an email field, not needed by post
    expect(page.get_by_label("Date from")).to_be_hidden()  # the ticked ids, not a filter
    page.get_by_label("Print in colour").check()
    screenshot(page, "wizard-post")
    page.get_by_role("button", name="Continue to the preview").click()
    expect(page.get_by_test_id("job-status")).to_be_visible()
    by_post = BatchJob.objects.get(action="invoice.send_by_post")
    assert by_post.selection == {"ids": [on_first, on_second]}
    assert by_post.parameters == {
        "color": True,
        "duplex": False,
        "priority": False,
        "resend": False,
    }

    page.goto(f"{sandbox.url}/connections/{connection.pk}/invoices/")
    page.get_by_label("Status").select_option("DR")
    page.get_by_role("button", name="Show").click()
    drafts = sandbox.owner.invoices.filter(status="DR").count()
    page.get_by_label(f"Select all {drafts} matching invoices").check()
    page.get_by_role("button", name="Send by email").click()
    expect(page.get_by_label("Every document matching the filter below")).to_be_checked()
    expect(page.get_by_label("Status", exact=True)).to_have_value("DR")
    expect(page.get_by_test_id("rendered-subject")).to_contain_text("RE-")
    page.get_by_role("button", name="Continue to the preview").click()
    expect(page.get_by_test_id("job-status")).to_be_visible()
    by_email = BatchJob.objects.get(action="invoice.send_by_email")
    assert by_email.selection == {"filter": {"status": "DR"}}


def _log_in(page, url: str, user) -> None:
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    host = url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "domain": host, "path": "/"}]
    )

"""Issue 12 "Done when", in headless Chromium: a firm at work.

An owner creates the firm and invites an operator and a viewer, who sign up through the
e-mailed links and join; the operator creates a connect link; the client, in a browser of
their own (French, no partnerapp login), consents at the sandbox provider; the connection
appears in the firm's overview; the operator sends some drafts by e-mail with a real Celery
worker; the viewer sees the connection and the job, has no button to change them, and a
forced POST is refused; the owner's audit log shows every step in order.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from partnerapp.connections.models import Connection, ConnectLink
from partnerapp.jobs.models import BatchJob
from partnerapp.organizations.models import Membership
from tests.browser.steps import log_in, provider_sign_in_if_asked

pytestmark = [pytest.mark.browser, pytest.mark.worker]

FIRM = "Treuhand Muster AG"
CLIENT = "Bäckerei Brunner GmbH"
OPERATOR = "operator@muster.example"
VIEWER = "viewer@muster.example"
NEW_PASSWORD = "a-long-demo-password-1"
DRAFTS = 3


def test_a_firm_invites_connects_through_a_link_sends_and_audits(
    page, browser, sandbox, worker, partner, screenshot
):
    errors: list[str] = []
    watch(page, errors)
    log_in(page, sandbox.url, partner)
    create_firm(page, screenshot)
    invite(page, OPERATOR, "Operator", screenshot)
    invite(page, VIEWER, "Viewer", screenshot)
    invitations = invitation_links()

    operator = member_context(browser, errors)
    viewer = member_context(browser, errors)
    try:
        join(operator, invitations[OPERATOR], OPERATOR, screenshot)
        join(viewer, invitations[VIEWER], VIEWER, screenshot)
        link_url = create_connect_link(operator, screenshot)
        client_connects(browser, link_url, errors, screenshot)
        connection = Connection.objects.get()
        assert connection.organization.name == FIRM and connection.user.email == OPERATOR
        assert ConnectLink.objects.get().connection == connection

        overview_shows_the_connection(operator, screenshot)
        job_url = send_drafts_by_email(operator, sandbox, screenshot)
        viewer_reads_but_cannot_change(viewer, job_url, connection, screenshot)
    finally:
        operator.context.close()
        viewer.context.close()

    owner_reads_the_audit_log(page, screenshot)
    assert not errors, errors


# -- the owner ------------------------------------------------------------------------------


def create_firm(page: Page, screenshot) -> None:
    """From the personal organization's members page: "Create another organization"."""
    page.get_by_test_id("org-link").click()
    page.get_by_role("link", name="Create another organization").click()
    page.get_by_label("Name").fill(FIRM)
    screenshot(page, "owner-creates-firm")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=FIRM)).to_be_visible()
    expect(page.get_by_test_id("member-row")).to_have_count(1)


def invite(page: Page, email: str, role: str, screenshot) -> None:
    form = page.get_by_test_id("invite")
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Role").select_option(role.lower())
    form.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()
    row = page.get_by_test_id("invitation-row").filter(has_text=email)
    expect(row.locator('[data-status="pending"]')).to_be_visible()
    screenshot(page, f"owner-invites-{role.lower()}")


def invitation_links() -> dict[str, str]:
    """The link in each invitation e-mail (the live server shares this process's outbox)."""
    links = {}
    for message in mail.outbox:
        (address,) = message.to
        found = re.search(r"https?://\S+/organization/join/\S+/", message.body)
        assert found, message.body
        links[address] = found.group(0)
    assert set(links) == {OPERATOR, VIEWER}
    return links


def owner_reads_the_audit_log(page: Page, screenshot) -> None:
    page.get_by_test_id("org-link").click()
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name=FIRM)).to_be_visible()
    rows = page.get_by_test_id("audit-row")
    expect(rows.first).to_be_visible()
    screenshot(page, "owner-audit-log")

    newest_first = [row.locator("span[title]").get_attribute("title") for row in rows.all()]
    assert list(reversed(newest_first)) == [
        "organization.create",
        "invitation.create",
        "invitation.create",
        "invitation.accept",
        "invitation.accept",
        "connect_link.create",
        "connect_link.open",
        "connection.connect",
        "connect_link.complete",
        "job.create",
        "job.confirm",
    ], newest_first
    accepted = rows.filter(has_text="Invitation accepted")
    expect(accepted.filter(has_text=OPERATOR)).to_have_count(1)
    expect(accepted.filter(has_text=VIEWER)).to_have_count(1)
    expect(rows.filter(has_text="Connect link created")).to_contain_text(CLIENT)
    expect(rows.filter(has_text="Account connected").first).to_contain_text("Anna Keller")
    expect(rows.filter(has_text="Job confirmed")).to_contain_text(OPERATOR)
    expect(rows.filter(has_text="Job paused")).to_have_count(0)


# -- the colleagues -------------------------------------------------------------------------


def member_context(browser: Browser, errors: list[str]) -> Page:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    watch(page, errors)
    return page


def join(page: Page, link: str, email: str, screenshot) -> None:
    """Open the e-mailed link, sign up from it, come back to it and join."""
    page.goto(link)
    card = page.get_by_test_id("invitation")
    expect(card).to_contain_text(f"invites {email}")
    screenshot(page, f"invitation-{email.split('@')[0]}")
    card.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password:", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password (again):").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_role("button", name=f"Join as {email}").click()
    expect(page.get_by_text(f"Welcome to {FIRM}.")).to_be_visible()
    expect(page.get_by_test_id("org-link")).to_have_text(FIRM)
    page.wait_for_load_state()
    screenshot(page, f"joined-{email.split('@')[0]}")
    assert Membership.objects.get(user__email=email, organization__name=FIRM).role == (
        "operator" if email == OPERATOR else "viewer"
    )


def create_connect_link(page: Page, screenshot) -> str:
    page.get_by_role("link", name="Connect links").first.click()
    page.get_by_label("Client", exact=True).fill(CLIENT)
    page.get_by_label("Why (shown to the client, optional)").fill(
        "Pour les bouclements mensuels, nous avons besoin de vos factures."
    )
    page.get_by_label("Client's language").select_option("fr")
    screenshot(page, "operator-new-link")
    page.get_by_role("button", name="Create link").click()
    row = page.get_by_test_id("link-row").filter(has_text=CLIENT)
    expect(row.locator('[data-status="sent"]')).to_be_visible()
    screenshot(page, "operator-link-created")
    return row.get_by_test_id("link-url").input_value()


def client_connects(browser: Browser, link_url: str, errors: list[str], screenshot) -> None:
    """The client: another browser, in French, no partnerapp login."""
    context = browser.new_context(locale="fr-CH", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15000)
    client = context.new_page()
    watch(client, errors)
    try:
        client.goto(link_url)
        expect(client.locator("html")).to_have_attribute("lang", "fr")
        expect(client.get_by_test_id("link-request")).to_contain_text(FIRM)
        expect(client.get_by_test_id("link-request")).to_contain_text(CLIENT)
        screenshot(client, "client-request")
        client.get_by_role("button", name="Continuer vers SmartBusiness").click()
        provider_sign_in_if_asked(client, "owner@sandbox.example", screenshot=screenshot)
        client.get_by_role("button", name="Allow").click()
        expect(client.get_by_test_id("link-connected")).to_contain_text(FIRM)
        expect(client.locator("html")).to_have_attribute("lang", "fr")
        screenshot(client, "client-confirmation")
    finally:
        context.close()


def overview_shows_the_connection(page: Page, screenshot) -> None:
    page.get_by_role("link", name="Overview").first.click()
    expect(page.get_by_test_id("connection-row").filter(has_text="Anna Keller")).to_be_visible()
    page.get_by_role("link", name="Connect links").first.click()
    row = page.get_by_test_id("link-row").filter(has_text=CLIENT)
    expect(row.locator('[data-status="connected"]')).to_be_visible()
    expect(row).to_contain_text("Anna Keller")
    screenshot(page, "operator-sees-connection")


def send_drafts_by_email(page: Page, sandbox, screenshot) -> str:
    """From the overview to a finished send job; returns the job's URL."""
    page.get_by_role("link", name="Overview").first.click()
    row = page.get_by_test_id("connection-row").filter(has_text="Anna Keller")
    row.get_by_role("link", name="Invoices").click()
    page.get_by_label("Status").select_option("DR")
    page.get_by_label("Sort by").select_option("number")
    page.get_by_role("button", name="Show").click()
    chosen = _drafts_with_email(page, DRAFTS)
    for invoice_id in chosen:
        page.locator(f"#invoice-{invoice_id}").check()
    screenshot(page, "operator-ticks-drafts")
    page.get_by_role("button", name="Send by email").click()

    expect(page.get_by_test_id("ticked-count")).to_have_text(f"{DRAFTS} documents ticked.")
    page.get_by_label("Subject").fill("Rechnung {INVOICENO}")
    page.get_by_role("button", name="Continue to the preview").click()
    expect(page.get_by_test_id("preview-to-send")).to_have_text(str(DRAFTS))
    assert sandbox.outbox()["count"] == 0, "the preview sends nothing"
    screenshot(page, "operator-preview")
    page.get_by_role("button", name=f"Confirm and send {DRAFTS} documents").click()

    expect(page.get_by_test_id("job-status")).to_have_text("done", timeout=90_000)
    expect(page.get_by_test_id("count-sent")).to_have_text(str(DRAFTS))
    screenshot(page, "operator-job-done")
    outbox = sandbox.outbox()
    assert sorted(email["document_id"] for email in outbox["items"]) == sorted(chosen)
    return page.url


def _drafts_with_email(page: Page, count: int) -> list[int]:
    """The first listed drafts whose customer has a valid e-mail address."""
    chosen = []
    for row in page.get_by_test_id("invoice-row").all():
        shown = row.get_by_test_id("invoice-email")  # under the customer's name
        email = shown.inner_text().strip() if shown.count() else ""
        if "@" in email and "(at)" not in email:
            chosen.append(int(row.locator("input[name=ids]").get_attribute("value")))
        if len(chosen) == count:
            return chosen
    raise AssertionError(f"fewer than {count} sendable drafts on the first page")


def viewer_reads_but_cannot_change(page: Page, job_url: str, connection, screenshot) -> None:
    page.get_by_role("link", name="Overview").first.click()
    row = page.get_by_test_id("connection-row").filter(has_text="Anna Keller")
    expect(row).to_be_visible()
    expect(page.get_by_role("link", name="Connect SmartBusiness account")).to_have_count(0)
    expect(page.get_by_role("link", name="Connect account")).to_have_count(0)
    expect(page.get_by_test_id("connect-links")).to_have_count(0)
    job_row = page.get_by_test_id("job-row").filter(has_text="Anna Keller")
    expect(job_row.locator(".badge")).to_have_text("done")
    screenshot(page, "viewer-overview")

    row.get_by_role("link", name="Invoices").click()
    expect(page.get_by_test_id("invoice-row").first).to_be_visible()
    expect(page.get_by_test_id("read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Send by email")).to_have_count(0)
    screenshot(page, "viewer-invoices")

    page.goto(job_url)
    expect(page.get_by_test_id("job-status")).to_have_text("done")
    expect(page.get_by_test_id("job-controls").get_by_role("button")).to_have_count(0)
    screenshot(page, "viewer-job")

    job = BatchJob.objects.get()
    base = job_url.split("/jobs/")[0]
    refused_for_role(page, f"{base}/jobs/{job.pk}/pause/")
    refused_for_role(
        page,
        f"{base}/connections/{connection.pk}/jobs/new/",
        action="invoice.send_by_email",
        ids=str(job.items.first().document_id),
    )
    job.refresh_from_db()
    assert job.status == "done" and BatchJob.objects.count() == 1


def refused_for_role(page: Page, url: str, **fields: str) -> None:
    """POST as the page's user with a valid CSRF token: the role, not CSRF, refuses it."""
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.request.post(
        url, form={"csrfmiddlewaretoken": token, **fields}, max_redirects=0
    )
    assert response.status == 403, (url, response.status)
    assert "CSRF" not in response.text(), response.text()


# -- every browser --------------------------------------------------------------------------


def watch(page: Page, errors: list[str]) -> None:
    """Collect the page's console errors: the journey ends with none."""
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

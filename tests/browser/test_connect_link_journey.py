"""DESIGN §1 journey 7 in headless Chromium: an operator of a firm creates a connect link;
the client, in another browser (Swiss German, no partnerapp login), opens it, consents at
the sandbox provider and reads the confirmation and what was granted; the operator's
overview shows the new connection.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from partnerapp.connections.models import Connection, ConnectLink
from partnerapp.organizations.models import Membership, Organization
from tests.browser.steps import log_in, provider_sign_in_if_asked
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def operator(partner):
    firm = Organization.objects.create(name="Treuhand Muster AG")
    Membership.objects.create(organization=firm, user=partner, role="owner")
    user = UserFactory(email="operator@muster.example")
    Membership.objects.create(organization=firm, user=user, role="operator")
    return user


def test_a_client_connects_through_a_link_in_german(page, browser, sandbox, operator, screenshot):
    log_in(page, sandbox.url, operator)
    page.get_by_label("Organization").select_option(label="Treuhand Muster AG")
    page.get_by_role("button", name="Switch").click()
    page.get_by_role("link", name="Connect links").first.click()
    expect(page.get_by_role("heading", name="Connect links")).to_be_visible()

    page.get_by_label("Client", exact=True).fill("Bäckerei Brunner GmbH")
    page.get_by_label("Why (shown to the client, optional)").fill(
        "Für die Monatsabschlüsse brauchen wir Ihre Rechnungen."
    )
    page.get_by_label("Client's language").select_option("de")
    screenshot(page, "new-link")
    page.get_by_role("button", name="Create link").click()
    row = page.get_by_test_id("link-row").filter(has_text="Bäckerei Brunner GmbH")
    expect(row.locator('[data-status="sent"]')).to_be_visible()
    link_url = row.get_by_test_id("link-url").input_value()
    screenshot(page, "link-created")

    client_context = browser.new_context(locale="de-CH", viewport={"width": 1100, "height": 900})
    client_context.set_default_timeout(15000)
    client = client_context.new_page()
    try:
        client.goto(link_url)
        expect(client.locator("html")).to_have_attribute("lang", "de")
        expect(client.get_by_test_id("link-request")).to_contain_text("Treuhand Muster AG")
        expect(client.get_by_test_id("link-message")).to_contain_text("Monatsabschlüsse")
        screenshot(client, "client-request")
        client.get_by_role("button", name="Weiter zu SmartBusiness").click()
        provider_sign_in_if_asked(client, sandbox.owner.email, screenshot=screenshot)
        client.get_by_role("button", name="Allow").click()

        expect(client.get_by_test_id("link-connected")).to_contain_text("Treuhand Muster AG")
        expect(client.locator("html")).to_have_attribute("lang", "de")
        screenshot(client, "client-confirmation")
        client.get_by_test_id("granted-link").click()
        expect(client.get_by_test_id("link-granted")).to_contain_text("Anna Keller")
        expect(client.get_by_test_id("link-revoke-help")).to_be_visible()
        expect(client.locator("html")).to_have_attribute("lang", "de")
        screenshot(client, "client-granted")
    finally:
        client_context.close()

    connection = Connection.objects.get()
    assert connection.organization.name == "Treuhand Muster AG" and connection.user == operator
    assert ConnectLink.objects.get().connection == connection

    page.get_by_role("link", name="Overview").first.click()
    expect(page.get_by_test_id("connection-row").filter(has_text="Anna Keller")).to_be_visible()
    page.get_by_role("link", name="Connect links").first.click()
    expect(row.locator('[data-status="connected"]')).to_be_visible()
    screenshot(page, "operator-sees-connected")

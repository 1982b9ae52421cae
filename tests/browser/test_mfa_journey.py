"""Two-factor sign-in in headless Chromium, through allauth's pages inside our layout:
an authenticator app (the secret read off the page, the code computed as an app would)
and a security key (Chromium's virtual authenticator over the DevTools protocol).

The pages run under the site's CSP (no inline script): a refused script would show as a
console error, and the test fails on any.
"""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from tests.browser.steps import log_in
from tests.factories import PASSWORD
from tests.organizations.test_mfa import totp_code

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _one_step_of_clock_drift(settings):
    # as in tests/organizations/test_mfa.py: no test depends on where in a 30 s step it runs
    settings.MFA_TOTP_TOLERANCE = 1


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return errors


def open_two_factor_page(page: Page) -> None:
    page.get_by_test_id("account-menu").locator("summary").click()  # the header's account menu
    page.get_by_test_id("mfa-link").click()
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()


def confirm_password(page: Page) -> None:
    """allauth asks for the password again before any change to how one signs in."""
    expect(page.get_by_text("Enter your password:")).to_be_visible()
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()


def log_out(page: Page) -> None:
    page.get_by_test_id("account-menu").locator("summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()


def enter_email_and_password(page: Page, user) -> None:
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()


def test_an_authenticator_app_is_set_up_and_then_asked_for_at_sign_in(
    page, live_server, partner, console_errors, screenshot
):
    log_in(page, live_server.url, partner)
    open_two_factor_page(page)
    screenshot(page, "two-factor-page")
    page.get_by_role("link", name="Activate").click()
    confirm_password(page)
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    expect(page.locator("img[src^='data:image/svg+xml']")).to_be_visible()  # the QR code
    secret = page.locator("#authenticator_secret").input_value()
    screenshot(page, "activate")
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    screenshot(page, "recovery-codes")
    log_out(page)

    enter_email_and_password(page, partner)
    screenshot(page, "asked-for-the-code")
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("button", name="Sign In").click()

    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert console_errors == []


def add_virtual_authenticator(page: Page) -> None:
    """A platform authenticator that holds resident keys and verifies its user."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )


def test_a_security_key_is_added_and_then_signs_in(
    page, live_server, partner, console_errors, screenshot
):
    add_virtual_authenticator(page)
    log_in(page, live_server.url, partner)
    open_two_factor_page(page)
    page.get_by_role("link", name="Add").click()
    confirm_password(page)
    expect(page.get_by_role("heading", name="Add Security Key")).to_be_visible()
    screenshot(page, "add-security-key")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    assert Authenticator.objects.filter(user=partner, type=Authenticator.Type.WEBAUTHN).exists()
    log_out(page)

    enter_email_and_password(page, partner)
    page.get_by_role("button", name="Use a security key").click()

    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    screenshot(page, "signed-in-with-the-key")
    assert console_errors == []

"""Steps the browser journeys share: the partner logs in, the owner decides at the provider."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD
from tests.journeys import OWNER_PASSWORD

PROVIDER_LOGIN = "Sign in to SmartBusiness"


def log_in(page: Page, url: str, user, *, screenshot=None) -> None:
    """The partner user logs in to partnerapp with email and password."""
    page.goto(url + "/")
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    if screenshot:
        screenshot(page, "log-in")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.wait_for_load_state()  # app.js listens from "load" on: the language switcher needs it


def start_connect(page: Page, *, screenshot=None) -> None:
    """From the overview: "Connect SmartBusiness account" → scopes → off to the provider."""
    page.get_by_role("link", name="Connect SmartBusiness account").first.click()
    if screenshot:
        screenshot(page, "connect-scopes")
    page.get_by_role("button", name="Continue to SmartBusiness").click()


def provider_sign_in_if_asked(page: Page, owner_email: str, *, screenshot=None) -> None:
    """At the provider: sign in as the owner unless this browser already is."""
    consent_or_login = page.get_by_role("heading", name=PROVIDER_LOGIN).or_(
        page.get_by_role("button", name="Allow")
    )
    expect(consent_or_login.first).to_be_visible()
    if page.get_by_role("heading", name=PROVIDER_LOGIN).is_visible():
        page.get_by_label("Email").fill(owner_email)
        page.get_by_label("Password").fill(OWNER_PASSWORD)
        if screenshot:
            screenshot(page, "provider-login")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    if screenshot:
        screenshot(page, "provider-consent")


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def assert_accessible(page: Page) -> None:
    """axe-core finds no violation of the WCAG 2.0-2.2 A and AA rules on the page as it is
    now; the report names each rule and the elements that break it."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, results.generate_report()

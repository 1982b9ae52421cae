"""The Content Security Policy holds in a real browser: every page partner users, account
owners (the sandbox) and staff (the admin login) see renders without a single violation,
including htmx's live job progress and the form redirects of the consent flow.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from partnerapp.jobs import services
from tests.factories import PASSWORD
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

pytestmark = pytest.mark.browser

# Runs before any page script, outside the page's CSP (Playwright injects it).
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


class CspWatch:
    """Collects violations (DOM events and console reports) and documents without a policy."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        self.unprotected: list[str] = []
        self.violations: list[str] = []
        page.add_init_script(LISTEN)
        page.on("console", self._on_console)
        page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def _on_response(self, response) -> None:
        document = response.request.resource_type == "document" and response.status < 300
        if document and "content-security-policy" not in response.headers:
            self.unprotected.append(response.url)

    def _collect(self) -> None:
        """The current document's violation events (the console covers pages clicked through)."""
        self.violations += self.page.evaluate("window.__cspViolations.splice(0)")

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        self._collect()

    def problems(self) -> list[str]:
        self._collect()
        return self.violations + self.console + [f"no CSP on {u}" for u in self.unprotected]


def test_no_page_violates_the_content_security_policy(page, sandbox, partner, screenshot):
    url = sandbox.url
    watch = CspWatch(page)

    for path in ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]:
        watch.visit(url + path)
    watch.visit(url + "/admin/login/")
    screenshot(page, "admin-login")

    watch.visit(url + "/accounts/login/")
    page.get_by_label("Email").fill(partner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    # The consent flow: our form posts, then redirects to the provider and back.
    watch.visit(url + "/connections/connect/")
    page.get_by_role("button", name="Continue to SmartBusiness").click()
    page.get_by_label("Email").fill(sandbox.owner.email)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    screenshot(page, "provider-consent")
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("Connected Anna Keller.")).to_be_visible()

    page.get_by_role("link", name="Browse invoices").click()
    page.get_by_label("Status").select_option("DR")  # data-autosubmit, via static/js/app.js
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "invoices")

    connection = partner.connections.get()
    job = services.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": sandbox.drafts_with_email(2)},
        parameters={"subject": "Invoice {INVOICENO}", "body": "Hello"},
        auto_start=True,
    )
    with page.expect_request(lambda request: "/progress/" in request.url, timeout=15_000):
        watch.visit(f"{url}/jobs/{job.pk}/")  # no worker: the job stays queued and htmx polls
    watch.visit(url + "/jobs/")

    for path in ["/sandbox/", "/sandbox/connected-apps/", "/sandbox/outbox/"]:
        watch.visit(url + path)
    screenshot(page, "sandbox-connected-apps")

    assert watch.problems() == []

    # The watch does see a violation when there is one: an inline script is refused.
    with pytest.raises(PlaywrightError, match="violates the following Content Security Policy"):
        page.add_script_tag(content="window.inlineRan = true;")
    assert page.evaluate("window.inlineRan === undefined")
    wait_for(lambda: watch.problems(), timeout=10, message="the violation was reported")
    assert any(problem.startswith("script-src") for problem in watch.problems())

"""The wizard in headless Chromium (issue 13), in German and French, at 1280 and 390 px: each
reminder level's texts are tabs per language (like the email's), and the warning under the
action fits it — the PDF archive only reads. No console error (the CSP forbids inline
scripts and styles), no sideways scrolling, no axe violation. Screenshots go to
var/test-artifacts/<test name>/.

The words are the catalog's (merged by the lead): the test finds the parts by role and test
id, and compares texts with gettext in the page's language.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from partnerapp.jobs.operations import operation_for
from tests.browser.steps import assert_accessible
from tests.browser.test_journey import _log_in
from tests.browser.test_payments_journey import ConsoleWatch

pytestmark = pytest.mark.browser
REMINDERS, ARCHIVE = "invoice.send_reminders", "invoice.archive_pdfs"
LANGUAGES = ("de", "fr", "it", "en")


def warnings_in(language: str) -> tuple[str, str]:
    with translation.override(language):
        return str(operation_for(ARCHIVE).warning), str(operation_for(REMINDERS).warning)


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("language", ["de", "fr"])
def test_reminder_texts_are_language_tabs_and_the_archive_warning_says_it_only_reads(
    browser, connect, partner, sandbox, screenshot, language, width
):
    connection = connect()
    context = browser.new_context(locale=f"{language}-CH", viewport={"width": width, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    console = ConsoleWatch(page)
    try:
        _log_in(page, sandbox.url, partner)
        url = sandbox.url + reverse("dashboard:job_new", args=[connection.pk])
        page.goto(f"{url}?action={REMINDERS}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        archive_text, irreversible = warnings_in(language)
        warnings = page.get_by_test_id("action-warning")
        expect(warnings.filter(has_text=irreversible)).to_be_visible()
        expect(warnings.filter(has_text=archive_text)).to_be_hidden()

        level = page.get_by_test_id("reminder-level-R1")
        level.locator("summary").click()
        tabs = level.get_by_role("tab")
        expect(tabs).to_have_count(4)
        # the reader's language opens first; the other panels are closed
        expect(level.get_by_test_id(f"R1-tab-{language}")).to_have_attribute(
            "aria-selected", "true"
        )
        expect(level.get_by_test_id(f"R1-panel-{language}")).to_be_visible()
        other = "fr" if language == "de" else "de"
        expect(level.get_by_test_id(f"R1-panel-{other}")).to_be_hidden()
        level.get_by_test_id(f"R1-tab-{other}").click()
        expect(level.get_by_test_id(f"R1-panel-{other}")).to_be_visible()
        expect(level.get_by_test_id(f"R1-panel-{language}")).to_be_hidden()
        subject = level.get_by_test_id(f"R1-panel-{other}").locator("input").first
        expect(subject).to_have_attribute("name", f"R1_subject_{other}")
        expect(subject).not_to_have_value("")  # the shipped text of that language
        # the keyboard moves between the tabs and opens them, as in the email's tabs
        level.get_by_test_id(f"R1-tab-{other}").focus()
        page.keyboard.press("End")
        expect(level.get_by_test_id("R1-tab-en")).to_be_focused()
        expect(level.get_by_test_id("R1-panel-en")).to_be_visible()
        # the other levels keep their own tabs, unchanged
        expect(page.get_by_test_id("R2-tab-en")).to_have_attribute("aria-selected", "false")
        assert_no_sideways_scrolling(page)
        screenshot(page, f"reminder-tabs-{language}-{width}")
        assert_accessible(page)

        page.locator("#id_action").select_option(ARCHIVE)
        expect(warnings.filter(has_text=archive_text)).to_be_visible()
        expect(warnings.filter(has_text=irreversible)).to_be_hidden()
        expect(page.get_by_test_id("reminder-fields")).to_be_hidden()
        assert_no_sideways_scrolling(page)
        screenshot(page, f"archive-warning-{language}-{width}")
        console.assert_clean()
    finally:
        context.close()


def assert_no_sideways_scrolling(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls {overflow} px sideways"

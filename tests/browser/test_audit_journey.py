"""The audit log in a browser: an owner signs in, connects an account, changes a setting,
opens the organization's Audit log tab, filters it and downloads it as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.browser.steps import log_in

pytestmark = pytest.mark.browser


def test_an_owner_reads_filters_and_downloads_the_audit_log(
    page, connect, partner, sandbox, screenshot
):
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    connect()
    log_in(page, sandbox.url, partner)
    page.goto(f"{sandbox.url}/organization/settings/")
    page.get_by_label("Keep the audit log for (days)").fill("90")
    page.get_by_role("button", name="Save").click()

    page.get_by_role("link", name="Audit log").click()
    rows = page.get_by_test_id("audit-row")
    expect(rows.filter(has_text="Settings changed")).to_contain_text("400 → 90")
    expect(rows.filter(has_text="Account connected")).to_have_count(1)
    expect(rows.filter(has_text="Signed in").first).to_contain_text("partner@example.com")
    expect(page.get_by_text("Events are kept for 90 days.")).to_be_visible()
    screenshot(page, "audit-log")

    page.get_by_label("Action").select_option(label="Settings changed")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("audit-count")).to_have_text("1 event")
    screenshot(page, "audit-log-filtered")

    with page.expect_download() as download:
        page.get_by_test_id("audit-csv").click()
    lines = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert [line[4] for line in lines[1:]] == ["organization.settings"]
    assert not errors, errors

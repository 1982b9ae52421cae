"""The invoices browser's action bar stays in reach and counts what is ticked (issue 13):
nobody scrolls a long page to find "Send by email"."""

import pytest
from playwright.sync_api import expect

from tests.browser.steps import log_in

pytestmark = pytest.mark.browser


def test_the_action_bar_sticks_to_the_window_and_counts_the_ticked_invoices(
    page, connect, partner, sandbox, screenshot
):
    connection = connect()
    log_in(page, sandbox.url, partner)
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto(f"{sandbox.url}/connections/{connection.pk}/invoices/")
    bar, count = page.get_by_test_id("bulk-bar"), page.get_by_test_id("selected-count")
    expect(count).to_have_text("0")

    boxes = page.locator("#selection-form input[name=ids]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    expect(count).to_have_text("2")
    page.locator("#select-page").check()
    expect(count).to_have_text(str(boxes.count()))
    page.locator("#all-matching").check()
    expect(count).to_have_text(page.get_by_test_id("invoice-total").inner_text().split()[0])

    page.mouse.wheel(0, -10_000)  # at the top of the table, the bar is still on screen
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 600 + 1
    expect(bar.get_by_role("button", name="Send by email")).to_be_in_viewport()
    screenshot(page, "sticky-bar")

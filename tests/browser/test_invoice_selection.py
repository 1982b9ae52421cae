"""The invoices browser's action bar stays in reach and counts what is ticked (issue 13):
nobody scrolls a long page to find "Send by email"."""

import pytest
from playwright.sync_api import expect

from tests.browser.steps import assert_accessible, log_in

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


def test_paging_keeps_the_ticks_of_every_page_without_a_reload(page, connect, partner, sandbox):
    """htmx pages in place: two ticked on page 1 and one on page 2 make "Selected: 3", Back
    and a reload keep them, and "Send by email" hands the wizard all three."""
    connection = connect()
    log_in(page, sandbox.url, partner)
    page.goto(f"{sandbox.url}/connections/{connection.pk}/invoices/")
    count, rows = page.get_by_test_id("selected-count"), page.get_by_test_id("invoice-row")
    first = [_invoice_id(rows.nth(0)), _invoice_id(rows.nth(1))]
    for invoice_id in first:
        page.locator(f"#invoice-{invoice_id}").check()
    expect(count).to_have_text("2")
    page.evaluate("window.stillTheSameDocument = true")  # a page load would forget it

    page.get_by_role("link", name="Next").click()
    expect(page.get_by_test_id("invoice-total")).to_contain_text("page 2 of 2")
    assert page.evaluate("window.stillTheSameDocument") is True, "no page load"
    assert "page=2" in page.url, "the page is in the address bar (and the history)"
    second = _invoice_id(rows.nth(0))
    page.locator(f"#invoice-{second}").check()
    expect(count).to_have_text("3")
    assert_accessible(page)

    page.go_back()
    expect(page.get_by_test_id("invoice-total")).to_contain_text("page 1 of 2")
    for invoice_id in first:
        expect(page.locator(f"#invoice-{invoice_id}")).to_be_checked()
    expect(count).to_have_text("3")
    page.go_forward()
    expect(page.locator(f"#invoice-{second}")).to_be_checked()
    page.reload()
    expect(page.locator(f"#invoice-{second}")).to_be_checked()
    expect(count).to_have_text("3")

    page.get_by_role("button", name="Send by email").click()
    expect(page.get_by_test_id("ticked-count")).to_have_text("3 documents ticked.")
    posted = page.locator("input[name=ids]").evaluate_all("boxes => boxes.map(b => +b.value)")
    assert sorted(set(posted)) == sorted([*first, second])


def _invoice_id(row) -> int:
    return int(row.locator("input[name=ids]").get_attribute("value"))

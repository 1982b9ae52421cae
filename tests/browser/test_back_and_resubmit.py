"""DESIGN §1 journey 6 in headless Chromium: two jobs over the same drafts, made the way
people make them by accident — the wizard's "Continue", the browser's Back button,
"Continue" again. Both previews are prepared before either job runs, so both say 15
will be sent; the at-most-once ledger (§3) decides at the claim: each invoice is
emailed once, the other job's items end "skipped — already sent by job #N" and link
to the item that sent it. B's preview names A while both wait, and looks again when
it is shown after A ran.

A real Celery worker prepares and sends; the sandbox answers over HTTP at the live
server. The assertions are about data: the sandbox outbox, item states, conflicts.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from playwright.sync_api import Page, expect

from partnerapp.jobs.models import BatchJob, JobItem
from tests.browser.steps import log_in
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker]

DRAFTS = 15
Item = JobItem.State
JOB_URL = re.compile(r"/jobs/(\d+)/$")
CONFIRM = re.compile(r"^Confirm and send \d+ documents?$")


def test_back_and_continue_again_makes_a_second_job_that_skips_what_the_first_sent(
    page, sandbox, connect, partner, worker, screenshot
):
    connection = connect()
    ids = sandbox.drafts_with_email(DRAFTS)
    log_in(page, sandbox.url, partner)
    _tick_drafts_and_open_the_wizard(page, sandbox.url, connection.pk, ids)
    screenshot(page, "wizard")

    page.get_by_role("button", name="Continue to the preview").click()
    first = _preview_says(page, DRAFTS)
    screenshot(page, "preview-job-a")

    page.go_back()  # the wizard again: the page a POST answered
    screenshot(page, "after-back")
    continue_again = page.get_by_role("button", name="Continue to the preview")
    expect(continue_again).to_be_visible()
    expect(page.get_by_test_id("ticked-count")).to_have_text(f"{DRAFTS} documents ticked.")
    continue_again.click()
    second = _preview_says(page, DRAFTS)  # prepared while job A has not run: 15 too
    overlaps = page.get_by_test_id("preview-overlaps")  # but it says A waits for them too
    expect(overlaps).to_contain_text(f"{DRAFTS} documents in")
    expect(overlaps.get_by_role("link", name="Open the job")).to_have_attribute(
        "href", f"/jobs/{first.pk}/"
    )
    screenshot(page, "preview-job-b")
    assert second.pk != first.pk
    assert sorted(second.selection["ids"]) == sorted(first.selection["ids"]) == sorted(ids)
    assert sandbox.outbox()["count"] == 0, "the previews send nothing"

    _confirm(page, sandbox.url, first)
    _wait_done(page, first)
    # B's preview looks again when it is shown: what A sent is skipped now, naming A, and
    # nothing is left to confirm.
    page.goto(f"{sandbox.url}/jobs/{second.pk}/")
    expect(page.get_by_test_id("preview-to-send")).to_have_text("0")
    expect(page.get_by_test_id("preview-skipped")).to_have_text(str(DRAFTS))
    expect(page.get_by_role("button", name=CONFIRM)).to_have_count(0)
    expect(page.get_by_test_id("preview-overlaps")).to_have_count(0)
    preview_links = page.get_by_test_id("skipped-list").get_by_test_id("conflict-link")
    expect(preview_links).to_have_count(DRAFTS)
    screenshot(page, "preview-job-b-after-a-ran")

    sends = sandbox.outbox()["sends_per_document"]
    assert sends == {f"invoice:{i}": 1 for i in ids}, "each invoice was emailed exactly once"
    assert _states(first) == {Item.SENT: DRAFTS}
    skipped = list(second.items.select_related("conflict_item"))
    assert len(skipped) == DRAFTS
    for item in skipped:
        assert item.state == Item.SKIPPED, item
        assert item.conflict_item is not None and item.conflict_item.job_id == first.pk, item
        assert item.conflict_item.document_id == item.document_id
        assert item.conflict_item.state == Item.SENT
        assert item.outcome.startswith(f"Already sent by job #{first.pk} on "), item.outcome

    # B's items table: every row says skipped, why, and links to A's item that sent it.
    rows = page.get_by_test_id("item-row")
    expect(rows).to_have_count(DRAFTS)
    by_number = {item.document_number: item for item in skipped}
    for row in rows.all():
        number = row.locator("td").first.inner_text().strip()
        item = by_number[number]
        expect(row.locator(".badge")).to_have_text("skipped")
        expect(row).to_contain_text(f"Already sent by job #{first.pk} on ")
        link = row.get_by_test_id("conflict-link")
        expect(link).to_have_text(f"see job #{first.pk}")
        expected = f"/jobs/{first.pk}/items/{item.conflict_item_id}/"
        assert link.get_attribute("href").endswith(expected), link.get_attribute("href")

    # The link leads to the item of job A that sent the invoice.
    page.get_by_test_id("conflict-link").first.click()
    expect(page).to_have_url(re.compile(rf"/jobs/{first.pk}/items/\d+/$"))
    target = JobItem.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert target.job_id == first.pk and target.state == Item.SENT
    assert target.pk in {item.conflict_item_id for item in skipped}
    screenshot(page, "job-a-item")


def test_two_previews_confirmed_in_quick_succession_email_each_invoice_once(
    page, sandbox, connect, partner, worker, screenshot
):
    connection = connect()
    ids = sandbox.drafts_with_email(DRAFTS)
    log_in(page, sandbox.url, partner)
    _tick_drafts_and_open_the_wizard(page, sandbox.url, connection.pk, ids)
    page.get_by_role("button", name="Continue to the preview").click()
    first = _preview_says(page, DRAFTS)
    page.go_back()
    page.get_by_role("button", name="Continue to the preview").click()
    second = _preview_says(page, DRAFTS)
    screenshot(page, "preview-job-b")

    _confirm(page, sandbox.url, first)  # no waiting in between
    _confirm(page, sandbox.url, second)
    _wait_done(page, second)
    _wait_done(page, first)
    screenshot(page, "job-a-done")

    sends = sandbox.outbox()["sends_per_document"]
    assert sends == {f"invoice:{i}": 1 for i in ids}, "each invoice was emailed exactly once"
    items = JobItem.objects.filter(job__in=[first, second]).select_related("conflict_item")
    assert Counter(items.values_list("state", flat=True)) == {
        Item.SENT: DRAFTS,
        Item.SKIPPED: DRAFTS,
    }
    for document_id in ids:
        pair = [item for item in items if item.document_id == document_id]
        assert sorted(item.state for item in pair) == [Item.SENT, Item.SKIPPED], pair
        sent = next(item for item in pair if item.state == Item.SENT)
        lost = next(item for item in pair if item.state == Item.SKIPPED)
        assert lost.conflict_item_id == sent.pk and lost.job_id != sent.job_id
        assert lost.outcome.startswith(
            (f"Already sent by job #{sent.job_id}", f"In progress in job #{sent.job_id}")
        ), lost.outcome


# -- steps ------------------------------------------------------------------------------------


def _tick_drafts_and_open_the_wizard(page: Page, url: str, connection_pk: int, ids) -> None:
    """The invoices browser: Draft, all on one page, tick `ids`, "Send by email"."""
    page.goto(f"{url}/connections/{connection_pk}/invoices/")
    page.get_by_label("Status").select_option("DR")
    page.get_by_label("Per page").select_option("100")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("invoice-total")).to_contain_text("page 1 of 1")
    for invoice_id in ids:
        page.locator(f"#invoice-{invoice_id}").check()
    page.get_by_role("button", name="Send by email").click()
    expect(page.get_by_role("heading", name="New job")).to_be_visible()
    expect(page.get_by_test_id("ticked-count")).to_have_text(f"{len(ids)} documents ticked.")


def _preview_says(page: Page, count: int) -> BatchJob:
    """The job page after "Continue": the worker prepares the preview; it says `count`."""
    expect(page).to_have_url(JOB_URL)
    expect(page.get_by_test_id("preview-to-send")).to_have_text(str(count), timeout=60_000)
    expect(page.get_by_test_id("preview-skipped")).to_have_text("0")
    job = BatchJob.objects.get(pk=int(JOB_URL.search(page.url).group(1)))
    assert job.status == BatchJob.Status.DRAFT and job.prepared_at is not None
    return job


def _confirm(page: Page, url: str, job: BatchJob) -> None:
    """The preview's confirm button."""
    page.goto(f"{url}/jobs/{job.pk}/")
    page.get_by_role("button", name=CONFIRM).click()
    expect(page.get_by_text("The job is queued.")).to_be_visible()


def _wait_done(page: Page, job: BatchJob) -> None:
    wait_for(lambda: _finished(job), timeout=120, message=f"job #{job.pk} finished")
    job.refresh_from_db()
    assert job.status == BatchJob.Status.DONE, job.status
    page.goto(page.url.split("/jobs/")[0] + f"/jobs/{job.pk}/")
    expect(page.get_by_test_id("job-status")).to_have_text("done")


def _finished(job: BatchJob) -> bool:
    job.refresh_from_db()
    return job.is_finished


def _states(job: BatchJob) -> dict:
    return dict(Counter(job.items.values_list("state", flat=True)))

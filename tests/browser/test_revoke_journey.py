"""DESIGN §1 journey 4 in headless Chromium: the owner revokes the grant at the provider
while a send job runs → the job pauses with "needs re-authorization" → the partner
reconnects → the job resumes and finishes; every invoice was emailed exactly once.

Two browser contexts: the partner at partnerapp, the owner at the sandbox provider's
"Connected apps" page. A real Celery worker sends; the sandbox answers over HTTP, slowed
down so the job is still running when the owner acts.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from partnerapp.jobs import services as jobs
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.sandbox import faults
from partnerapp.sandbox.seeding import seed_owner
from tests.browser.steps import log_in, provider_sign_in_if_asked, start_connect
from tests.journeys import OWNER_PASSWORD
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker]

INVOICES = 30
OWNER_NAME = "Bruno Meier"
SLOW_PROVIDER = {"latency_ms": 1000}  # 30 sends take ≥ 15 s: time enough to revoke mid-job


@pytest.fixture
def bulk_owner(sandbox):
    owner, _ = seed_owner(
        email="bruno.meier@sandbox.example",
        password=OWNER_PASSWORD,
        name="Bruno",
        surname="Meier",
        company="Meier Bau GmbH",
        invoices=120,
        seed=11,
        today=timezone.localdate(),
    )
    return owner


def test_revoked_mid_job_pauses_then_reconnect_resumes_and_sends_each_once(
    browser, page, sandbox, bulk_owner, partner, worker, screenshot
):
    url = sandbox.url
    log_in(page, url, partner)
    start_connect(page)
    provider_sign_in_if_asked(page, bulk_owner.email, screenshot=screenshot)
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text(f"Connected {OWNER_NAME}.")).to_be_visible()
    connection = partner.connections.get(owner_name=OWNER_NAME)

    # 30 drafts with a customer email, as one send-by-email job awaiting its preview.
    ids = sandbox.drafts_with_email(INVOICES, owner=bulk_owner)
    job = jobs.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": ids},
        parameters={"subject": "Rechnung {INVOICENO}", "body": "{SALUTATION}\n{TOTAL}"},
    )
    page.goto(f"{url}/jobs/{job.pk}/")
    confirm = page.get_by_role("button", name=f"Confirm and send {INVOICES} documents")
    expect(confirm).to_be_visible(timeout=60_000)  # the worker prepared the preview
    screenshot(page, "preview")

    faults.profile_update(owner=bulk_owner, changes=SLOW_PROVIDER)
    confirm.click()
    status = page.get_by_test_id("job-status")
    expect(page.get_by_test_id("count-sent")).not_to_have_text("0", timeout=60_000)
    screenshot(page, "sending")

    # The owner, in a browser of their own, withdraws the app's access mid-job.
    owner_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    owner_context.set_default_timeout(15_000)
    try:
        owner_page = owner_context.new_page()
        owner_page.goto(f"{url}/sandbox/connected-apps/")
        owner_page.get_by_label("Email").fill(bulk_owner.email)
        owner_page.get_by_label("Password").fill(OWNER_PASSWORD)
        owner_page.get_by_role("button", name="Sign in").click()
        expect(owner_page.get_by_role("heading", name="Connected apps")).to_be_visible()
        expect(owner_page.get_by_test_id("grant")).to_have_count(1)
        screenshot(owner_page, "owner-connected-apps")
        owner_page.get_by_role("button", name="Revoke access").click()
        expect(owner_page.get_by_text("No app has access to this account.")).to_be_visible()
        screenshot(owner_page, "owner-revoked")
    finally:
        owner_context.close()

    # The job page (polling by itself, or reloaded) shows the pause and the way out.
    _until_visible(page, status, "paused")
    expect(page.get_by_text("needs re-authorization").first).to_be_visible()
    reconnect = page.get_by_role("button", name="Reconnect")
    expect(reconnect).to_be_visible()
    screenshot(page, "paused-needs-reauth")
    job.refresh_from_db()
    assert job.status == BatchJob.Status.PAUSED
    assert job.pause_reason == BatchJob.PauseReason.NEEDS_REAUTH
    # A call already in flight when the grant died is recorded, then nothing more goes out.
    wait_for(lambda: jobs.job_counts(job)[JobItem.State.SENDING] == 0, message="settled")
    sent_at_pause = jobs.job_counts(job)[JobItem.State.SENT]
    assert 0 < sent_at_pause < INVOICES, f"the revocation came mid-job ({sent_at_pause} sent)"
    time.sleep(2)
    assert jobs.job_counts(job)[JobItem.State.SENT] == sent_at_pause, "nothing sent while paused"
    assert sandbox.outbox(owner=bulk_owner)["count"] == sent_at_pause

    # The partner reconnects: the provider asks the owner again, who allows.
    reconnect.click()
    provider_sign_in_if_asked(page, bulk_owner.email, screenshot=screenshot)
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text(f"Reconnected {OWNER_NAME}.")).to_be_visible()
    screenshot(page, "reconnected")

    page.goto(f"{url}/jobs/{job.pk}/")
    expect(status).to_have_text("done", timeout=120_000)
    expect(page.get_by_test_id("count-sent")).to_have_text(str(INVOICES))
    screenshot(page, "job-done")

    counts = jobs.job_counts(job)
    assert counts[JobItem.State.SENT] == INVOICES
    assert counts["total"] == INVOICES
    outbox = sandbox.outbox(owner=bulk_owner)
    assert outbox["count"] == INVOICES
    per_invoice = Counter(email["document_id"] for email in outbox["items"])
    assert per_invoice == dict.fromkeys(ids, 1), "every invoice was emailed exactly once"
    assert outbox["sends_per_document"] == {f"invoice:{i}": 1 for i in ids}
    items = job.items.all()
    assert {e["request_id"] for e in outbox["items"]} == {item.request_id for item in items}


def _until_visible(page, locator, text: str, *, timeout: float = 90) -> None:
    """The page updates itself while the job runs; reload too, in case polling stopped."""

    def shows_it():
        try:
            expect(locator).to_have_text(text, timeout=5_000)
        except AssertionError:
            page.reload()
            return False
        return True

    wait_for(shows_it, timeout=timeout, interval=0, message=f"the job page shows {text!r}")

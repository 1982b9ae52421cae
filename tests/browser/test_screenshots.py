"""The README's screenshots (issue 13): the main pages in German, French, Italian and English
at 1280 px — overview, invoices, wizard, preview, job page, document page, schedules — with a
real worker, so the job page shows sent invoices. Each page passes axe-core with no violation.

The PNGs (the window, 1280 x 800, not the whole page; reduced to 256 colours) go to
$PARTNERAPP_VAR_DIR/screenshots/, never into the repository: `make screenshots` runs this
test and copies them to docs/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import Page, expect

from partnerapp.jobs.models import BatchJob
from partnerapp.jobs.schedules import weekly_reminders_create
from tests.browser.steps import assert_accessible, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]

LANGUAGES = ["de", "fr", "it", "en"]
PAGES = ["overview", "invoices", "wizard", "preview", "job", "document", "schedules"]
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def shots() -> Path:
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


def test_the_main_pages_in_four_languages(page, connect, partner, sandbox, worker, shots):
    connection = connect()
    weekly_reminders_create(user=partner, connection=connection)
    log_in(page, sandbox.url, partner)
    page.set_viewport_size(VIEWPORT)
    invoices = f"{sandbox.url}/connections/{connection.pk}/invoices/"
    chosen = sandbox.drafts_with_email(3)

    previews = {}
    for language in LANGUAGES:  # the wizard and its preview, while the drafts are drafts
        speak(page, sandbox.url, language)
        page.goto(f"{invoices}?status=DR&sort=number")
        for invoice_id in chosen:
            page.locator(f"#invoice-{invoice_id}").check()
        page.locator("button[name=action][value='invoice.send_by_email']").click()
        expect(page.get_by_test_id("ticked-count")).to_be_visible()
        shoot(page, shots, language, "wizard")
        page.locator("button[name=create]").click()
        expect(page.get_by_test_id("preview-to-send")).to_have_text("3", timeout=60_000)
        shoot(page, shots, language, "preview")
        previews[language] = page.url

    page.goto(previews["en"])
    page.locator("form[action$='/confirm/'] button").click()
    expect(page.get_by_test_id("count-sent")).to_have_text("3", timeout=90_000)
    job = BatchJob.objects.get(status=BatchJob.Status.DONE)

    for language in LANGUAGES:
        speak(page, sandbox.url, language)
        page.goto(sandbox.url + "/")
        shoot(page, shots, language, "overview")
        page.goto(invoices)
        for box in page.locator("#selection-form input[name=ids]").all()[:2]:
            box.check()
        shoot(page, shots, language, "invoices")
        page.goto(f"{sandbox.url}/jobs/{job.pk}/")
        expect(page.get_by_test_id("item-row")).to_have_count(3)
        shoot(page, shots, language, "job")
        page.goto(f"{invoices}{chosen[0]}/")
        expect(page.get_by_test_id("history-row")).not_to_have_count(0)
        page.get_by_test_id("invoice-preview").evaluate("image => image.decode()")
        shoot(page, shots, language, "document")
        page.goto(f"{sandbox.url}/schedules/")
        shoot(page, shots, language, "schedules")

    written = sorted(path.name for path in shots.glob("*.png"))
    assert len(written) == len(LANGUAGES) * len(PAGES) == 28, written


def speak(page: Page, url: str, language: str) -> None:
    """The language the reader chose (the switcher's cookie)."""
    host = url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "domain": host, "path": "/"}]
    )


def shoot(page: Page, folder: Path, language: str, name: str) -> None:
    """Check the page with axe-core, then save the window as a small PNG."""
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language
    assert_accessible(page)
    path = folder / f"{language}-{PAGES.index(name) + 1}-{name}.png"
    page.screenshot(path=str(path))
    with Image.open(path) as image:  # 256 colours: a third of the size, the same to the eye
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)

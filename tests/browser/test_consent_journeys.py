"""DESIGN §1 journey 2 in headless Chromium: the owner denies consent, or the answer that
comes back is tampered with (wrong `state`, a replayed `state`, no `code`) → a clear
message and nothing stored. The sandbox provider runs over real HTTP at the live server.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from partnerapp.connections.models import Connection
from tests.browser.steps import log_in, provider_sign_in_if_asked, start_connect
from tests.journeys import query

pytestmark = pytest.mark.browser

NOT_OURS = "does not belong to a connection you started here"


def test_the_owner_denies_consent_and_nothing_is_stored(page, sandbox, partner, screenshot):
    log_in(page, sandbox.url, partner, screenshot=screenshot)
    start_connect(page, screenshot=screenshot)
    provider_sign_in_if_asked(page, sandbox.owner.email, screenshot=screenshot)
    page.get_by_role("button", name="Deny").click()

    expect(page.get_by_role("heading", name="Access was denied")).to_be_visible()
    expect(page.get_by_test_id("connect-error")).to_contain_text(
        "Access was denied at SmartBusiness, so no account was connected."
    )
    expect(page.get_by_role("link", name="Try again")).to_be_visible()
    assert urlsplit(page.url).path == "/connections/callback/"
    assert query(page.url)["error"] == "access_denied"
    screenshot(page, "denied")
    assert Connection.objects.count() == 0

    page.get_by_role("link", name="Back to the overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_text("Anna Keller")).to_have_count(0)
    screenshot(page, "overview-without-connection")


def test_a_tampered_or_replayed_state_is_refused(page, sandbox, partner, screenshot):
    log_in(page, sandbox.url, partner)
    start_connect(page)
    provider_sign_in_if_asked(page, sandbox.owner.email, screenshot=screenshot)
    callback = _allow_and_catch_the_callback(page)
    params = query(callback)
    assert params["code"] and params["state"]

    tampered = dict(params, state=params["state"][:-4] + "AAAA")
    page.goto(_callback_url(sandbox.url, tampered))
    _expect_refused(page, NOT_OURS)
    expect(page.get_by_test_id("connect-error")).to_contain_text("Nothing was stored")
    screenshot(page, "tampered-state")
    assert Connection.objects.count() == 0

    page.goto(_callback_url(sandbox.url, {"code": params["code"], "state": ""}))
    _expect_refused(page, NOT_OURS)
    assert Connection.objects.count() == 0

    # The genuine answer still works once (the tampered ones did not spend the state) …
    page.goto(callback)
    expect(page.get_by_text("Connected Anna Keller.")).to_be_visible()
    screenshot(page, "genuine-answer")
    connection = Connection.objects.get()
    stored_token = connection.access_token_ciphertext

    # … and replaying it (a reload, Back) trades nothing again: the account is connected.
    page.goto(callback)
    expect(page.get_by_text("This account is already connected.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/connections/{connection.pk}/$"))
    screenshot(page, "replayed-state")
    assert Connection.objects.count() == 1
    connection.refresh_from_db()
    assert connection.access_token_ciphertext == stored_token


def test_an_answer_without_a_code_is_explained(page, sandbox, partner, screenshot):
    log_in(page, sandbox.url, partner)
    start_connect(page)
    provider_sign_in_if_asked(page, sandbox.owner.email)
    params = query(_allow_and_catch_the_callback(page))

    page.goto(_callback_url(sandbox.url, {"state": params["state"]}))
    _expect_refused(page, "SmartBusiness returned no authorization code")
    screenshot(page, "no-code")
    assert Connection.objects.count() == 0

    # The state was spent by that answer: the real code cannot be used with it any more.
    page.goto(_callback_url(sandbox.url, params))
    _expect_refused(page, NOT_OURS)
    assert Connection.objects.count() == 0


def _allow_and_catch_the_callback(page) -> str:
    """Press Allow, but keep the browser from following the provider's redirect back to
    partnerapp: return the callback URL it would have opened (code and state intact)."""
    caught: list[str] = []

    def hold_back(route):
        response = route.fetch(max_redirects=0)
        caught.append(response.headers["location"])
        route.fulfill(status=200, content_type="text/html", body="<h1>held back</h1>")

    page.route(re.compile(r"/sandbox/v2/auth/authorize"), hold_back)
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="held back")).to_be_visible()
    page.unroute(re.compile(r"/sandbox/v2/auth/authorize"))
    assert caught and "/connections/callback/" in caught[0], caught
    return caught[0]


def _callback_url(root: str, params: dict[str, str]) -> str:
    return f"{root}/connections/callback/?{urlencode(params)}"


def _expect_refused(page, text: str) -> None:
    expect(page.get_by_role("heading", name="The account was not connected")).to_be_visible()
    expect(page.get_by_test_id("connect-error")).to_contain_text(text)
    expect(page.get_by_role("link", name="Try again")).to_be_visible()

"""The API's browsable docs load from our own files under the site's CSP, without errors,
and a partner can try a call with their key."""

from __future__ import annotations

import pytest

from tests.api.conftest import make_firm


@pytest.mark.browser
def test_the_docs_load_without_console_errors_and_try_a_call(live_server, transactional_db, page):
    firm = make_firm("Treuhand Muster AG", "owner@muster.example")
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            not request.url.startswith(live_server.url)
            and not request.url.startswith("data:")
            and outside.append(request.url)
        ),
    )
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.get_by_text("/api/v1/connections/{id}/health").wait_for()
    page.get_by_role("button", name="Authorize").click()
    page.locator(".modal-ux input").first.fill(firm.write_key)
    page.locator(".modal-ux .auth-btn-wrapper .authorize").click()
    page.locator(".modal-ux .btn-done").click()
    page.locator("#operations-connections-connections_list").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.get_by_text(firm.connection.owner_name).first.wait_for()
    assert errors == []
    assert outside == []

"""Oversized input is refused with a message that says which limit was hit."""

from __future__ import annotations

import re

import pytest
import requests
from django.test import Client

from partnerapp.jobs.models import BatchJob
from tests.factories import UserFactory

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def browser_like_client(db):
    """A signed-in client that, like a browser, must present the CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    page = client.get("/connections/connect/")
    return client, CSRF.search(page.content.decode()).group(1)


def test_a_request_over_the_upload_limit_gets_a_413_page_saying_so(browser_like_client, settings):
    client, token = browser_like_client
    too_big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(
        "/connections/connect/", {"csrfmiddlewaretoken": token, "scopes": "profile", "pad": too_big}
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "<h1>Request too large</h1>" in page
    assert "larger than partnerapp accepts (1.0\xa0MB)" in page
    assert response["X-Request-Id"] in page  # a reference to quote to support
    assert "Content-Security-Policy" in response


def test_a_request_with_too_many_fields_gets_a_page_saying_so(browser_like_client, settings):
    client, token = browser_like_client
    fields = {f"f{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post("/connections/connect/", {"csrfmiddlewaretoken": token, **fields})
    assert response.status_code == 400
    assert "The form had more than 1000 fields" in response.content.decode()


def test_a_request_within_the_limits_is_unaffected(browser_like_client):
    client, token = browser_like_client
    response = client.post(
        "/connections/connect/", {"csrfmiddlewaretoken": token, "scopes": ["profile"], "pad": "x"}
    )
    assert response.status_code == 302  # on to the provider's consent page


def test_an_oversized_token_request_to_the_sandbox_gets_the_providers_json_413(
    live_server, settings
):
    """The provider answers 413 as JSON; our 413 page turns into that body under /sandbox/v2/."""
    response = requests.post(
        f"{live_server.url}/sandbox/v2/auth/access-tokens",
        data={
            "grant_type": "client_credentials",
            "pad": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        },
        timeout=30,
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["code"] == 413


# -- field limits on our own forms ---------------------------------------------------------------


@pytest.fixture
def invoices_page(connect, partner, sandbox):
    connection = connect()
    client = Client()
    client.force_login(partner)
    return client, f"/connections/{connection.pk}/invoices/", sandbox.drafts_with_email(1)


@pytest.fixture
def wizard_page(invoices_page):
    """The job wizard, where the email's subject and message are written."""
    client, invoices_url, ids = invoices_page
    url = invoices_url.replace("/invoices/", "/jobs/new/")
    email = {"action": "invoice.send_by_email", "selection": "ids", "ids": ids}
    return client, url, {**email, "recipients": "contact"}


def test_a_subject_over_255_characters_is_refused_and_nothing_starts(wizard_page):
    client, url, data = wizard_page
    response = client.post(url, {**data, "subject": "S" * 300, "body": "Hello"})
    assert response.status_code == 400
    assert "Ensure this value has at most 255 characters (it has 300)." in response.content.decode()
    assert not BatchJob.objects.exists()


def test_a_message_over_10000_characters_is_refused_and_nothing_starts(wizard_page):
    client, url, data = wizard_page
    response = client.post(url, {**data, "subject": "Invoice", "body": "B" * 10001})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ensure this value has at most 10000 characters (it has 10001)." in page
    assert not BatchJob.objects.exists()


def test_a_search_over_200_characters_says_so(invoices_page):
    client, url, _ids = invoices_page
    response = client.get(url, {"q": "q" * 201})
    assert "Ensure this value has at most 200 characters (it has 201)." in response.content.decode()


def test_the_inputs_tell_the_browser_their_limits(invoices_page, wizard_page):
    client, url, _ids = invoices_page
    assert re.search(r'<input[^>]+name="q"[^>]+maxlength="200"', client.get(url).content.decode())
    client, url, _data = wizard_page
    page = client.get(url).content.decode()
    # The email's texts are per language (a tab each): every one carries its limit.
    for language in ("de", "fr", "it", "en"):
        assert re.search(rf'<input[^>]+name="subject_{language}"[^>]+maxlength="255"', page)
        assert re.search(rf'<textarea[^>]+name="body_{language}"[^>]+maxlength="10000"', page)

"""The owner's pages at the sandbox: home, outbox, and who sees what."""

import re

from partnerapp.sandbox.models import Client
from partnerapp.sandbox.owner_session import SESSION_KEY
from tests.sandbox.conftest import EMAIL, draft_with_email
from tests.sandbox.test_documents import POST


def test_the_owner_sees_sent_emails_and_letters_in_the_outbox(browser_of, call, owner):
    invoice = draft_with_email(owner)
    call("PATCH", f"/receivables/invoices/{invoice.pk}/send-by-email", EMAIL)
    call("PATCH", f"/receivables/invoices/{invoice.pk}/send-by-post", POST)
    page = browser_of.get("/sandbox/outbox/").content.decode()
    assert f"Invoice {invoice.number}" in page and "x@example.com" in page
    assert page.count('data-testid="outbox-row"') == 1
    assert page.count('data-testid="post-row"') == 1


def test_another_owner_sees_nothing_of_it(client, call, owner, other_owner):
    invoice = draft_with_email(owner)
    call("PATCH", f"/receivables/invoices/{invoice.pk}/send-by-email", EMAIL)
    session = client.session
    session[SESSION_KEY] = other_owner.pk
    session.save()
    page = client.get("/sandbox/outbox/").content.decode()
    assert "Nothing sent yet." in page and invoice.number not in page


def test_pages_ask_an_anonymous_visitor_to_sign_in(client, db):
    for path in ("/sandbox/", "/sandbox/outbox/", "/sandbox/faults/", "/sandbox/connected-apps/"):
        assert b'name="form" value="login"' in client.get(path).content


def test_the_owner_creates_an_api_client_and_sees_its_secret_once(browser_of, owner):
    home = browser_of.get("/sandbox/").content.decode()
    assert "No API client yet." in home and "Create an API client" in home
    created = browser_of.post("/sandbox/api-clients/new/")
    page = created.content.decode()
    client_id = re.search(r'data-testid="client-id">([^<]+)<', page).group(1)
    secret = re.search(r'data-testid="client-secret">([^<]+)<', page).group(1)
    stored = Client.objects.get(client_id=client_id)
    assert stored.owner == owner and stored.check_secret(secret)
    assert created["Cache-Control"] == "no-store"
    home = browser_of.get("/sandbox/").content.decode()
    assert client_id in home and secret not in home  # listed, the secret never again


def test_creating_an_api_client_needs_a_post_and_a_login(client, db):
    assert client.get("/sandbox/api-clients/new/").status_code == 405
    assert b'name="form" value="login"' in client.post("/sandbox/api-clients/new/").content
    assert not Client.objects.exists()

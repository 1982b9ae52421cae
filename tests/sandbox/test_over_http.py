"""The sandbox over real HTTP (a live server): what an in-process client cannot show."""

import io
import json

import pytest
import requests
from django.core.management import call_command

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import Client
from tests.journeys import OWNER_EMAIL
from tests.sandbox.conftest import EMAIL


@pytest.fixture
def api(sandbox, settings):
    """A requests session with a client-credentials token for the seeded owner's account."""
    Client.objects.filter(client_id=settings.SMARTBUSINESS_CLIENT_ID).update(owner=sandbox.owner)
    token = requests.post(
        f"{sandbox.api}/auth/access-tokens",
        json={
            "grant_type": "client_credentials",
            "client_id": settings.SMARTBUSINESS_CLIENT_ID,
            "client_secret": settings.SMARTBUSINESS_CLIENT_SECRET,
            "scope": "profile invoice",
        },
        timeout=10,
    )
    assert token.status_code == 201 and "refresh_token" not in token.json()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return session


def send(sandbox, api, invoice_id, timeout=10):
    url = f"{sandbox.api}/receivables/invoices/{invoice_id}/send-by-email"
    return api.patch(url, json=EMAIL, timeout=timeout)


def test_a_held_response_times_out_after_the_email_was_sent(sandbox, api):
    changes = {"p_lost": 1, "lost_mode": "hold", "lost_hold_seconds": 2}
    faults.profile_update(owner=sandbox.owner, changes=changes)
    invoice = sandbox.drafts_with_email(1)[0]
    with pytest.raises(requests.ReadTimeout):
        send(sandbox, api, invoice, timeout=(5, 0.5))
    outbox = sandbox.outbox()
    assert outbox["count"] == 1 and outbox["sends_per_document"] == {f"invoice:{invoice}": 1}


def test_the_outbox_command_counts_sends_per_document(sandbox, api):
    first, second = sandbox.drafts_with_email(2)
    for invoice in (first, first, second):  # the first twice, as a careless client would
        assert send(sandbox, api, invoice).status_code == 204
    printed = io.StringIO()
    call_command("sandbox_outbox", owner=OWNER_EMAIL, stdout=printed)
    lines = printed.getvalue().splitlines()
    assert lines[0] == "3 emails, 0 by post"
    assert f"  email invoice:{first}: 2  <- sent more than once" in lines
    assert f"  email invoice:{second}: 1" in lines


def test_the_outbox_command_prints_the_json_document(sandbox, api):
    invoice = sandbox.drafts_with_email(1)[0]
    response = send(sandbox, api, invoice)
    printed = io.StringIO()
    call_command("sandbox_outbox", owner=str(sandbox.owner.pk), as_json=True, stdout=printed)
    document = json.loads(printed.getvalue())
    assert document == sandbox.outbox()
    item = document["items"][0]
    assert item["request_id"] == response.headers["X-Request-Id"]
    assert item["subject"].startswith("Invoice RE-") and item["document_id"] == invoice

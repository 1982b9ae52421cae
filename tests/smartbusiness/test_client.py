"""The client against the sandbox over real HTTP."""

import socket

import pytest

from partnerapp.connections.services import api_config
from partnerapp.smartbusiness import errors
from partnerapp.smartbusiness.client import (
    ApiCall,
    DocumentKind,
    Filter,
    Recipient,
    SmartBusinessClient,
)
from partnerapp.smartbusiness.session import ApiConfig


@pytest.fixture
def client(connect):
    connection = connect()
    calls: list[ApiCall] = []
    api = SmartBusinessClient(api_config(), connection.access_token, after_call=calls.append)
    api.calls = calls
    return api


def test_it_reads_the_owner(client, sandbox):
    assert client.owner() == {"id": sandbox.owner.pk, "name": "Anna", "surname": "Keller"}


def test_it_pages_through_every_invoice(client, sandbox):
    seen = list(client.iter_documents(DocumentKind.INVOICE, limit=7))
    assert len(seen) == sandbox.owner.invoices.count()
    assert len({invoice["id"] for invoice in seen}) == len(seen)


def test_it_filters_and_embeds_the_contact(client, sandbox):
    page = client.invoices(filter=Filter(status="DR"), with_=["contact"], limit=200)
    assert page.total == sandbox.owner.invoices.filter(status="DR").count()
    assert all(i["status"] == "DR" and "email" in i["contact"] for i in page.items)


def test_every_call_reports_status_request_id_and_rate_limit(client):
    client.owner()
    call = client.calls[-1]
    assert (call.method, call.path, call.status) == ("GET", "/auth/owner", 200)
    assert len(call.request_id) == 36 and call.rate_limit.limit > 0


def test_a_missing_invoice_is_a_typed_404(client):
    with pytest.raises(errors.NotFound) as caught:
        client.invoice(999999)
    assert caught.value.entity_type == "invoice" and caught.value.request_id


def test_send_by_email_returns_the_request_id(client, sandbox):
    invoice_id = sandbox.drafts_with_email(1)[0]
    result = client.send_by_email(
        DocumentKind.INVOICE,
        invoice_id,
        subject="Invoice {INVOICENO}",
        body="Hello",
        recipients=[Recipient(email="anna@example.com", name="Anna")],
    )
    outbox = sandbox.outbox()
    assert outbox["count"] == 1 and outbox["items"][0]["request_id"] == result.request_id


def test_an_invalid_recipient_is_a_422_with_field_errors(client, sandbox):
    with pytest.raises(errors.ValidationFailed) as caught:
        client.send_by_email(
            DocumentKind.INVOICE,
            sandbox.drafts_with_email(1)[0],
            subject="",
            body="x",
            recipients=[Recipient(email="not-an-email", name="X")],
        )
    keys = {e.key for e in caught.value.field_errors}
    assert keys == {"subject", "recipients[0].email"}
    assert sandbox.outbox()["count"] == 0


def test_a_bad_token_is_a_typed_401(sandbox):
    api = SmartBusinessClient(api_config(), "not-a-token")
    with pytest.raises(errors.Unauthorized) as caught:
        api.owner()
    assert caught.value.error_type == "access_denied"


def test_an_unreachable_provider_is_connect_failed_after_retries():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ApiConfig(
        base_url=f"http://127.0.0.1:{port}/v2",
        client_id="x",
        client_secret="y",
        connect_timeout=0.5,
        get_retries=1,
        allow_http=True,
    )
    with pytest.raises(errors.ConnectFailed):
        SmartBusinessClient(config, "token").owner()

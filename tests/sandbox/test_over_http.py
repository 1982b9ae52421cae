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
from tests.sandbox.test_contract import Peer


def own_account_token(sandbox, settings, *, scope: str) -> requests.Response:
    """Ask for a client-credentials token for the seeded owner's account, over HTTP."""
    Client.objects.filter(client_id=settings.SMARTBUSINESS_CLIENT_ID).update(owner=sandbox.owner)
    return requests.post(
        f"{sandbox.api}/auth/access-tokens",
        json={
            "grant_type": "client_credentials",
            "client_id": settings.SMARTBUSINESS_CLIENT_ID,
            "client_secret": settings.SMARTBUSINESS_CLIENT_SECRET,
            "scope": scope,
        },
        timeout=10,
    )


@pytest.fixture
def api(sandbox, settings):
    """A requests session with a client-credentials token for the seeded owner's account."""
    token = own_account_token(sandbox, settings, scope="profile invoice")
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


# -- the token endpoint over HTTP, in each style -------------------------------------------------

REFRESH_REUSED = {
    "league": {
        "error": "invalid_request",
        "message": "The refresh token is invalid.",
        "hint": "Token has been revoked",
    },
    "wrapped": {
        "code": 8,
        "message": "The refresh token is invalid.",
        "meta": {"error_type": "invalid_request", "hint": "Token has been revoked"},
    },
    "legacy": {
        "code": 401,
        "message": "The provided authorization grant or refresh token is invalid.",
        "meta": {"error_type": "invalid_grant", "hint": ""},
    },
}


@pytest.fixture
def peer(sandbox) -> Peer:
    return Peer(sandbox)


def refreshed(peer: Peer, refresh_token: str):
    return peer.token_request(grant_type="refresh_token", refresh_token=refresh_token)


def owner_with(peer: Peer, access_token: str):
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.get(f"{peer.sandbox.api}/auth/owner", headers=headers, timeout=10)


@pytest.mark.parametrize("style", REFRESH_REUSED)
def test_a_reused_refresh_token_is_refused_in_the_owners_style(peer, style):
    faults.profile_update(owner=peer.sandbox.owner, changes={"token_error_style": style})
    old = peer.pair("profile")["refresh_token"]
    assert refreshed(peer, old).status_code == 201
    again = refreshed(peer, old)
    assert (again.status_code, again.json()) == (401, REFRESH_REUSED[style])
    assert again.headers["Content-Type"] == "application/json"
    assert (again.headers["Cache-Control"], again.headers["Pragma"]) == ("no-store", "no-cache")


@pytest.mark.parametrize(
    ("style", "status", "error_type"),
    [
        ("league", 400, "invalid_request"),
        ("wrapped", 400, "invalid_request"),
        ("legacy", 401, "invalid_grant"),
    ],
)
def test_a_code_used_twice_is_refused_in_the_owners_style(peer, style, status, error_type):
    faults.profile_update(owner=peer.sandbox.owner, changes={"token_error_style": style})
    granted = peer.authorize("profile")
    fields = {"grant_type": "authorization_code", "code": granted["code"]}
    fields["redirect_uri"] = granted["redirect_uri"]
    assert peer.token_request(**fields).status_code == 201
    again = peer.token_request(**fields)
    body = again.json()
    assert again.status_code == status
    assert body.get("error", body.get("meta", {}).get("error_type")) == error_type


def test_a_call_with_the_old_access_token_gets_401_once_the_pair_is_refreshed(peer):
    pair = peer.pair("profile")
    fresh = refreshed(peer, pair["refresh_token"]).json()
    in_flight = owner_with(peer, pair["access_token"])
    assert in_flight.status_code == 401
    assert in_flight.json()["meta"]["hint"] == "Access token has been revoked"
    assert owner_with(peer, fresh["access_token"]).status_code == 200


# -- what the PHP wrapper sends ---------------------------------------------------------------


@pytest.fixture
def wrapper_token(sandbox, settings):
    """A client-credentials token asked for as the wrapper's owner endpoint does: `scope=`."""
    response = own_account_token(sandbox, settings, scope="")
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


def test_an_empty_scope_gives_the_wrapper_a_token_for_every_allowed_scope(sandbox, wrapper_token):
    headers = {"Authorization": f"Bearer {wrapper_token}"}
    for path in ("/auth/owner", "/contacts?limit=1", "/receivables/invoices?limit=1"):
        assert requests.get(sandbox.api + path, headers=headers, timeout=10).status_code == 200


def test_the_wrappers_empty_options_array_gets_the_field_errors_of_an_empty_object(
    sandbox, wrapper_token
):
    invoice = sandbox.drafts_with_email(1)[0]
    url = f"{sandbox.api}/receivables/invoices/{invoice}/send-by-email"
    headers = {"Authorization": f"Bearer {wrapper_token}", "Content-Type": "application/json"}
    as_array = requests.patch(url, data="[]", headers=headers, timeout=10)
    as_object = requests.patch(url, data="{}", headers=headers, timeout=10)
    assert as_array.status_code == 422 and as_array.json() == as_object.json()


def test_over_http_an_empty_answer_has_no_content_type_and_a_405_says_allow(sandbox, api):
    sent = send(sandbox, api, sandbox.drafts_with_email(1)[0])
    assert sent.status_code == 204 and "Content-Type" not in sent.headers
    wrong = api.put(f"{sandbox.api}/auth/owner", timeout=10)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "GET")
    scope = api.get(f"{sandbox.api}/contacts", timeout=10)  # the token has no contact scope
    assert (scope.status_code, scope.json()["code"]) == (400, 11)

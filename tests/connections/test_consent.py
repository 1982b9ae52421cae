"""The consent flow over real HTTP: partner at partnerapp, owner at the sandbox provider."""

import pytest
from django.db import connection as db

from partnerapp.connections.consent import provider_message
from partnerapp.connections.models import Connection
from partnerapp.smartbusiness.errors import ScopeRefused
from tests import journeys


@pytest.fixture
def partner_browser(sandbox, partner):
    return journeys.partner_session(sandbox.url, partner)


def test_connecting_stores_an_active_connection_with_owner_and_scopes(connect, sandbox):
    connection = connect()
    assert connection.status == Connection.Status.ACTIVE
    assert connection.owner_name == "Anna Keller" and connection.account_id == str(sandbox.owner.pk)
    assert connection.scope_list == ["profile", "invoice", "contact"]
    assert connection.access_token and connection.refresh_token


def test_tokens_are_encrypted_at_rest(connect):
    connection = connect()
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT access_token_ciphertext, refresh_token_ciphertext FROM connections_connection"
        )
        stored = " ".join(cursor.fetchone())
    assert connection.access_token not in stored and connection.refresh_token not in stored


def test_connecting_the_same_account_again_updates_it(connect):
    first = connect()
    second = connect()
    assert first.pk == second.pk and Connection.objects.count() == 1
    assert second.access_token != first.access_token


def test_the_authorize_url_carries_state_and_pkce(partner_browser, sandbox):
    url = journeys.start_consent(partner_browser, sandbox.url, ["profile", "invoice"])
    params = journeys.query(url)
    assert len(params["state"]) >= 32 and params["code_challenge_method"] == "S256"
    assert params["redirect_uri"] == f"{sandbox.url}/connections/callback/"


def test_denied_consent_is_explained_and_stores_nothing(partner_browser, sandbox):
    url = journeys.start_consent(partner_browser, sandbox.url, ["profile", "invoice"])
    callback = journeys.owner_decides(
        partner_browser, url, owner_email=sandbox.owner.email, approve=False
    )
    page = partner_browser.get(callback)
    assert page.status_code == 400 and "Access was denied" in page.text
    assert not Connection.objects.exists()


def test_a_tampered_state_is_refused_and_stores_nothing(partner_browser, sandbox):
    url = journeys.start_consent(partner_browser, sandbox.url, ["profile", "invoice"])
    callback = journeys.owner_decides(partner_browser, url, owner_email=sandbox.owner.email)
    page = partner_browser.get(callback.replace("state=", "state=tampered"))
    assert page.status_code == 400 and "does not belong to a connection you started" in page.text
    assert not Connection.objects.exists()


def test_a_state_works_only_once_and_a_reload_says_already_connected(partner_browser, sandbox):
    url = journeys.start_consent(partner_browser, sandbox.url, ["profile", "invoice"])
    callback = journeys.owner_decides(partner_browser, url, owner_email=sandbox.owner.email)
    assert partner_browser.get(callback).status_code == 200
    connection = Connection.objects.get()
    # A reload of the callback (or Back to it): the code is not traded again, and the
    # person learns that the account is connected, not that "nothing was stored".
    replay = partner_browser.get(callback)
    assert replay.status_code == 200 and replay.url.endswith(f"/connections/{connection.pk}/")
    assert "This account is already connected." in replay.text
    assert "Nothing was stored" not in replay.text
    unchanged = Connection.objects.get()
    assert unchanged.access_token == connection.access_token


def test_a_finished_state_replayed_in_another_session_is_refused(sandbox, partner, outsider):
    mine = journeys.partner_session(sandbox.url, partner)
    url = journeys.start_consent(mine, sandbox.url, ["profile", "invoice"])
    callback = journeys.owner_decides(mine, url, owner_email=sandbox.owner.email)
    assert mine.get(callback).status_code == 200
    theirs = journeys.partner_session(sandbox.url, outsider)
    replay = theirs.get(callback)
    assert replay.status_code == 400 and "already used" in replay.text
    assert Connection.objects.filter(user=outsider).count() == 0


def test_another_users_state_does_not_work_in_my_session(sandbox, partner, outsider):
    victim = journeys.partner_session(sandbox.url, partner)
    url = journeys.start_consent(victim, sandbox.url, ["profile", "invoice"])
    callback = journeys.owner_decides(victim, url, owner_email=sandbox.owner.email)
    attacker = journeys.partner_session(sandbox.url, outsider)
    assert attacker.get(callback).status_code == 400
    assert not Connection.objects.exists()


def test_a_callback_without_code_is_explained(partner_browser, sandbox):
    url = journeys.start_consent(partner_browser, sandbox.url, ["profile", "invoice"])
    state = journeys.query(url)["state"]
    page = partner_browser.get(f"{sandbox.url}/connections/callback/?state={state}")
    assert page.status_code == 400 and "no authorization code" in page.text


def test_a_provider_error_during_the_exchange_is_explained(partner_browser, sandbox, settings):
    url = journeys.start_consent(partner_browser, sandbox.url, ["profile", "invoice"])
    callback = journeys.owner_decides(partner_browser, url, owner_email=sandbox.owner.email)
    settings.SMARTBUSINESS_CLIENT_SECRET = "wrong-secret"
    page = partner_browser.get(callback)
    assert page.status_code == 400 and "Client authentication failed" in page.text
    assert "request id" in page.text and not Connection.objects.exists()


def test_profile_scope_is_required(partner_browser, sandbox):
    page = partner_browser.get(f"{sandbox.url}/connections/connect/")
    response = partner_browser.post(
        f"{sandbox.url}/connections/connect/",
        data={"csrfmiddlewaretoken": journeys.csrf_token(page.text), "scopes": ["invoice"]},
        allow_redirects=False,
    )
    assert response.status_code == 200 and "profile scope is needed" in response.text


def test_a_state_older_than_ten_minutes_is_refused(partner_browser, sandbox, settings):
    url = journeys.start_consent(partner_browser, sandbox.url, ["profile", "invoice"])
    callback = journeys.owner_decides(partner_browser, url, owner_email=sandbox.owner.email)
    settings.CONNECT_STATE_MAX_AGE_SECONDS = 0  # as if the owner took longer than allowed
    page = partner_browser.get(callback)
    assert page.status_code == 400 and "expired" in page.text
    assert not Connection.objects.exists()


def test_a_refused_scope_is_explained_with_the_providers_hint():
    refused = ScopeRefused(
        "The requested scope is invalid, unknown, or malformed",
        status=400,
        meta={"error_type": "invalid_scope", "hint": "Check the `payroll` scope"},
        request_id="r-9",
    )
    message = provider_message(refused)
    assert "does not grant the requested access" in message
    assert "Check the `payroll` scope" in message and "r-9" in message

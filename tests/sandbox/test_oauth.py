"""The sandbox's authorization server: consent page and token endpoint."""

import io

import pytest
from django.core.management import call_command

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import AccessToken, Grant
from partnerapp.sandbox.owner_session import SESSION_KEY
from partnerapp.sandbox.services import grant_revoke
from tests.journeys import query
from tests.sandbox.conftest import REDIRECT, SECRET, authorize_url, pkce_pair

TOKENS = "/sandbox/v2/auth/access-tokens"


def test_the_consent_page_asks_an_anonymous_owner_to_sign_in(client, oauth_client):
    response = client.get(authorize_url())
    assert response.status_code == 200
    assert b'name="form" value="login"' in response.content


def test_the_consent_page_lists_the_scopes_in_words(browser_of, oauth_client):
    page = browser_of.get(authorize_url(scope="profile invoice"))
    assert b"Read, send and change your invoices" in page.content
    assert b"Partner App" in page.content


def test_denying_redirects_with_access_denied_and_the_state(browser_of, oauth_client):
    response = browser_of.post(authorize_url(state="s-1"), {"decision": "deny"})
    params = query(response["Location"])
    assert response["Location"].startswith(REDIRECT)
    assert (params["error"], params["state"]) == ("access_denied", "s-1")
    assert not Grant.objects.exists()


def test_an_unregistered_redirect_uri_is_never_followed(browser_of, oauth_client):
    response = browser_of.get(authorize_url(redirect_uri="https://evil.example/cb"))
    assert response.status_code == 400 and b"not registered" in response.content


def test_code_and_verifier_give_a_201_pair(token_pair):
    pair = token_pair()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 43200
    assert pair["access_token"] and pair["refresh_token"]


def test_the_token_endpoint_takes_json_too(obtain_code, client):
    verifier, challenge = pkce_pair()
    code = obtain_code(challenge=challenge)
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "app",
        "client_secret": SECRET,
        "code_verifier": verifier,
    }
    response = client.post(TOKENS, body, content_type="application/json")
    assert response.status_code == 201


def test_a_wrong_code_verifier_is_a_400_invalid_grant(obtain_code, client):
    _, challenge = pkce_pair()
    code = obtain_code(challenge=challenge)
    response = client.post(
        TOKENS,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "app",
            "client_secret": SECRET,
            "code_verifier": "x" * 50,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["hint"] == "Failed to verify `code_verifier`."


def test_a_code_works_once(obtain_code, client):
    code = obtain_code()
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "app",
        "client_secret": SECRET,
    }
    assert client.post(TOKENS, body).status_code == 201
    second = client.post(TOKENS, body)
    assert second.status_code == 400 and second.json()["error"] == "invalid_request"
    assert second.json()["hint"] == "Authorization code has been revoked"


def test_a_refresh_token_works_exactly_once(token_pair, client):
    pair = token_pair()
    body = {
        "grant_type": "refresh_token",
        "refresh_token": pair["refresh_token"],
        "client_id": "app",
        "client_secret": SECRET,
    }
    first = client.post(TOKENS, body)
    assert first.status_code == 201
    assert first.json()["refresh_token"] != pair["refresh_token"]
    again = client.post(TOKENS, body)
    assert again.status_code == 401
    assert again.json() == {
        "error": "invalid_request",
        "message": "The refresh token is invalid.",
        "hint": "Token has been revoked",
    }


def test_a_wrong_client_secret_is_invalid_client(token_pair, client):
    pair = token_pair()
    response = client.post(
        TOKENS,
        {
            "grant_type": "refresh_token",
            "client_id": "app",
            "client_secret": "wrong",
            "refresh_token": pair["refresh_token"],
        },
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "message": "Client authentication failed"}


def test_revoking_kills_the_refresh_token_and_every_access_token(token_pair, client, owner):
    pair = token_pair()
    grant_revoke(Grant.objects.get(owner=owner))
    assert not AccessToken.objects.filter(revoked_at=None).exists()
    me = client.get("/sandbox/v2/auth/owner", HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    assert me.status_code == 401 and me.json()["meta"]["hint"] == "Access token has been revoked"
    refresh = client.post(
        TOKENS,
        {
            "grant_type": "refresh_token",
            "client_id": "app",
            "client_secret": SECRET,
            "refresh_token": pair["refresh_token"],
        },
    )
    assert refresh.status_code == 401 and refresh.json()["hint"] == "Token has been revoked"


def test_tokens_are_stored_as_digests_only(token_pair):
    pair = token_pair()
    stored = list(AccessToken.objects.values_list("token_digest", flat=True))
    assert pair["access_token"] not in stored and len(stored[0]) == 64


def test_client_credentials_give_an_access_token_only(client, oauth_client, owner):
    oauth_client.owner = owner
    oauth_client.save()
    response = client.post(
        TOKENS,
        {
            "grant_type": "client_credentials",
            "client_id": "app",
            "client_secret": SECRET,
            "scope": "profile invoice",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert "refresh_token" not in body and body["expires_in"] == 43200
    me = client.get("/sandbox/v2/auth/owner", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.json()["item"]["id"] == owner.pk


def test_client_credentials_need_a_client_with_its_own_account(client, oauth_client):
    response = client.post(
        TOKENS, {"grant_type": "client_credentials", "client_id": "app", "client_secret": SECRET}
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_a_scope_the_client_may_not_ask_for_is_invalid_scope(client, token_pair, oauth_client):
    oauth_client.allowed_scopes = "profile invoice"
    oauth_client.save()
    pair = token_pair()
    response = client.post(
        TOKENS,
        {
            "grant_type": "refresh_token",
            "refresh_token": pair["refresh_token"],
            "client_id": "app",
            "client_secret": SECRET,
            "scope": "profile invoice contact",
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    assert response.json()["hint"] == "Check the `contact` scope"


def test_the_access_token_lifetime_is_a_setting(token_pair, settings):
    settings.SANDBOX_ACCESS_TOKEN_LIFETIME = 900
    assert token_pair()["expires_in"] == 900


def test_a_refresh_returns_a_new_pair_that_works(token_pair, client):
    pair = token_pair()
    fresh = client.post(
        TOKENS,
        {
            "grant_type": "refresh_token",
            "refresh_token": pair["refresh_token"],
            "client_id": "app",
            "client_secret": SECRET,
        },
        content_type="application/json",
    ).json()
    assert fresh["access_token"] != pair["access_token"]
    me = client.get("/sandbox/v2/auth/owner", HTTP_AUTHORIZATION=f"Bearer {fresh['access_token']}")
    assert me.status_code == 200


def test_the_owner_revokes_on_the_connected_apps_page(browser_of, token_pair, client, owner):
    pair = token_pair()
    page = browser_of.get("/sandbox/connected-apps/")
    assert b"Partner App" in page.content and b"Read, send and change your invoices" in page.content
    grant = Grant.objects.get(owner=owner, revoked_at=None)
    assert browser_of.post(f"/sandbox/connected-apps/{grant.pk}/revoke/").status_code == 302
    assert b"No app has access" in browser_of.get("/sandbox/connected-apps/").content
    me = client.get("/sandbox/v2/auth/owner", HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    assert me.status_code == 401 and me.json()["meta"]["hint"] == "Access token has been revoked"


def test_nobody_else_can_revoke_an_owners_grant(client, token_pair, owner, other_owner):
    token_pair()
    grant = Grant.objects.get(owner=owner)
    session = client.session
    session[SESSION_KEY] = other_owner.pk
    session.save()
    assert client.post(f"/sandbox/connected-apps/{grant.pk}/revoke/").status_code == 404
    assert Grant.objects.get(pk=grant.pk).revoked_at is None


# -- a refresh revokes the access token of the old pair (league's revokeAccessToken) -------------


def refresh(client, refresh_token: str):
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    response = client.post(TOKENS, {**body, "client_id": "app", "client_secret": SECRET})
    assert response.status_code == 201, response.content
    return response.json()


def owner_with(client, access_token: str):
    return client.get("/sandbox/v2/auth/owner", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def test_a_refresh_revokes_the_access_token_that_came_with_the_old_refresh_token(
    token_pair, client
):
    pair = token_pair()
    fresh = refresh(client, pair["refresh_token"])
    old = owner_with(client, pair["access_token"])
    assert old.status_code == 401
    assert old.json()["meta"] == {
        "error_type": "access_denied",
        "hint": "Access token has been revoked",
    }
    assert owner_with(client, fresh["access_token"]).status_code == 200
    newer = refresh(client, fresh["refresh_token"])  # the chain goes on: each step revokes one
    assert owner_with(client, fresh["access_token"]).status_code == 401
    assert owner_with(client, newer["access_token"]).status_code == 200


def test_a_refresh_leaves_the_access_tokens_of_other_pairs_alone(token_pair, client):
    first, second = token_pair(), token_pair()  # one grant, two pairs
    refresh(client, first["refresh_token"])
    assert owner_with(client, second["access_token"]).status_code == 200


def test_an_owner_may_keep_old_access_tokens_alive_on_refresh(token_pair, client, owner):
    faults.profile_update(owner=owner, changes={"revoke_access_on_refresh": False})
    pair = token_pair()
    refresh(client, pair["refresh_token"])
    assert owner_with(client, pair["access_token"]).status_code == 200


def test_the_environment_decides_while_no_profile_is_saved(token_pair, client, settings):
    settings.SANDBOX_REVOKE_ACCESS_ON_REFRESH = False
    pair = token_pair()
    refresh(client, pair["refresh_token"])
    assert owner_with(client, pair["access_token"]).status_code == 200


def test_the_command_turns_revoking_on_refresh_off(token_pair, client, owner):
    call_command(
        "sandbox_faults", owner=owner.email, revoke_access_on_refresh=False, stdout=io.StringIO()
    )
    pair = token_pair()
    refresh(client, pair["refresh_token"])
    assert owner_with(client, pair["access_token"]).status_code == 200


# -- client credentials with an empty scope (the wrapper's owner endpoint sends `scope=`) --------


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_an_empty_scope_gets_every_scope_the_client_may_have(client, oauth_client, owner, as_json):
    oauth_client.owner, oauth_client.allowed_scopes = owner, "profile invoice"
    oauth_client.save()
    body = {
        "grant_type": "client_credentials",
        "client_id": "app",
        "client_secret": SECRET,
        "scope": "",
    }
    kwargs = {"content_type": "application/json"} if as_json else {}
    response = client.post(TOKENS, body, **kwargs)
    assert response.status_code == 201, response.content
    token = AccessToken.objects.get(client=oauth_client)
    assert token.scope_list == ["profile", "invoice"]
    assert owner_with(client, response.json()["access_token"]).status_code == 200

"""The sandbox's authorization server: consent page and token endpoint."""

from partnerapp.sandbox.models import AccessToken, Grant, RefreshToken
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


def test_a_wrong_code_verifier_is_invalid_grant(obtain_code, client):
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
    assert response.status_code == 401
    assert response.json()["meta"]["error_type"] == "invalid_grant"


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
    assert second.status_code == 401 and second.json()["meta"]["error_type"] == "invalid_grant"


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
        "code": 401,
        "message": "The provided authorization grant or refresh token is invalid.",
        "meta": {"error_type": "invalid_grant", "hint": again.json()["meta"]["hint"]},
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
    assert response.status_code == 401 and response.json()["meta"]["error_type"] == "invalid_client"


def test_revoking_kills_the_refresh_token_and_every_access_token(token_pair, client, owner):
    pair = token_pair()
    grant_revoke(Grant.objects.get(owner=owner))
    assert not AccessToken.objects.exists() and not RefreshToken.objects.exists()
    me = client.get("/sandbox/v2/auth/owner", HTTP_AUTHORIZATION=f"Bearer {pair['access_token']}")
    assert me.status_code == 401
    refresh = client.post(
        TOKENS,
        {
            "grant_type": "refresh_token",
            "client_id": "app",
            "client_secret": SECRET,
            "refresh_token": pair["refresh_token"],
        },
    )
    assert refresh.json()["meta"]["error_type"] == "invalid_grant"


def test_tokens_are_stored_as_digests_only(token_pair):
    pair = token_pair()
    stored = list(AccessToken.objects.values_list("token_digest", flat=True))
    assert pair["access_token"] not in stored and len(stored[0]) == 64

"""The token endpoint refuses as league/oauth2-server does, in the style a profile asks for.

Every way a token request goes wrong is answered three ways: `league` (the default:
league's status and `{error, message, hint}`), `wrapped` (the same status and code as
`{code, message, meta}`) and `legacy` (the sandbox's old 401 with oauthlib's error type).
The strings are league's (src/Exception/OAuthServerException.php, src/Grant/*.php).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import AuthorizationCode, Grant, RefreshToken, digest
from partnerapp.sandbox.oauth import SandboxValidator
from partnerapp.sandbox.services import client_register, grant_revoke
from tests.sandbox.conftest import REDIRECT, SECRET, pkce_pair

TOKENS = "/sandbox/v2/auth/access-tokens"
STYLES = ["league", "wrapped", "legacy"]
INVALID_REQUEST = (
    "The request is missing a required parameter, includes an invalid parameter value, "
    "includes a parameter more than once, or is otherwise malformed."
)
INVALID_GRANT = (
    "The provided authorization grant (e.g., authorization code, resource owner credentials) "
    "or refresh token is invalid, expired, revoked, does not match the redirection URI used in "
    "the authorization request, or was issued to another client."
)
MESSAGES = {  # league's message for each of its codes
    2: "The authorization grant type is not supported by the authorization server.",
    3: INVALID_REQUEST,
    4: "Client authentication failed",
    5: "The requested scope is invalid, unknown, or malformed",
    8: "The refresh token is invalid.",
    10: INVALID_GRANT,
}
LEGACY_MESSAGES = {
    "invalid_grant": "The provided authorization grant or refresh token is invalid.",
    "invalid_client": "Client authentication failed.",
    "invalid_scope": "The requested scope is invalid, unknown, or malformed.",
    "unsupported_grant_type": "The authorization grant type is not supported.",
    "unauthorized_client": "The client is not authorized to use this grant type.",
    "invalid_request": "The request is missing a required parameter or is malformed.",
}


class TokenEndpoint:
    """The token endpoint as the partner app "app" calls it; a field set to None is left out."""

    def __init__(self, client, obtain_code, token_pair):
        self.client, self.obtain_code, self.token_pair = client, obtain_code, token_pair

    def post(self, **fields):
        body = {"client_id": "app", "client_secret": SECRET, **fields}
        return self.client.post(TOKENS, {k: v for k, v in body.items() if v is not None})

    def exchange(self, code: str, **fields):
        return self.post(
            grant_type="authorization_code", code=code, **{"redirect_uri": REDIRECT, **fields}
        )

    def refresh(self, refresh_token: str | None, **fields):
        return self.post(grant_type="refresh_token", refresh_token=refresh_token, **fields)

    def used_refresh_token(self) -> str:
        old = self.token_pair()["refresh_token"]
        assert self.refresh(old).status_code == 201
        return old


@pytest.fixture
def tokens(client, obtain_code, token_pair):
    return TokenEndpoint(client, obtain_code, token_pair)


@dataclass(frozen=True)
class Refused:
    """What league answers (status, code, error type, hint) and what oauthlib called it."""

    status: int
    code: int
    error: str
    hint: str | None
    legacy_error: str


def other_client() -> None:
    client_register(
        client_id="other", secret="other-secret", name="B", redirect_uris=[REDIRECT], scopes=None
    )


def a_second_redirect_uri(oauth_client) -> str:
    oauth_client.redirect_uris = f"{REDIRECT}\nhttps://partner.example/other"
    oauth_client.save()
    return "https://partner.example/other"


def lose_the_race_for(model, monkeypatch) -> None:
    """Between the checks and the claim, another request uses the same code or token."""
    name = "validate_code" if model is AuthorizationCode else "validate_refresh_token"
    checked = getattr(SandboxValidator, name)

    def and_then_taken(self, client_id_or_token, *args, **kwargs):
        valid = checked(self, client_id_or_token, *args, **kwargs)
        model.objects.filter(used_at=None).update(used_at=timezone.now())
        return valid

    monkeypatch.setattr(SandboxValidator, name, and_then_taken)


# -- every refusal: how to provoke it, and what league says -------------------------------------

Case = Callable[..., object]


def refresh_reused(tokens, **_):
    return tokens.refresh(tokens.used_refresh_token())


def refresh_unknown(tokens, **_):
    return tokens.refresh("no-such-token")


def refresh_of_another_client(tokens, **_):
    other_client()
    refresh_token = tokens.token_pair()["refresh_token"]
    return tokens.refresh(refresh_token, client_id="other", client_secret="other-secret")


def refresh_after_the_owner_revoked(tokens, owner, **_):
    refresh_token = tokens.token_pair()["refresh_token"]
    grant_revoke(Grant.objects.get(owner=owner))
    return tokens.refresh(refresh_token)


def refresh_without_a_token(tokens, **_):
    return tokens.refresh(None)


def refresh_beyond_the_grant(tokens, **_):
    refresh_token = tokens.token_pair("profile invoice")["refresh_token"]
    return tokens.refresh(refresh_token, scope="profile invoice contact")


def refresh_that_loses_a_race(tokens, monkeypatch, **_):
    refresh_token = tokens.token_pair()["refresh_token"]
    lose_the_race_for(RefreshToken, monkeypatch)
    return tokens.refresh(refresh_token)


def code_used_twice(tokens, **_):
    code = tokens.obtain_code()
    assert tokens.exchange(code).status_code == 201
    return tokens.exchange(code)


def code_expired(tokens, **_):
    code = tokens.obtain_code()
    AuthorizationCode.objects.filter(code_digest=digest(code)).update(expires_at=timezone.now())
    return tokens.exchange(code)


def code_unknown(tokens, **_):
    return tokens.exchange("no-such-code")


def code_of_another_client(tokens, **_):
    other_client()
    return tokens.exchange(tokens.obtain_code(), client_id="other", client_secret="other-secret")


def code_with_a_wrong_verifier(tokens, **_):
    _, challenge = pkce_pair()
    return tokens.exchange(tokens.obtain_code(challenge=challenge), code_verifier="x" * 50)


def code_without_its_verifier(tokens, **_):
    _, challenge = pkce_pair()
    return tokens.exchange(tokens.obtain_code(challenge=challenge))


def code_with_a_malformed_verifier(tokens, **_):
    _, challenge = pkce_pair()
    return tokens.exchange(tokens.obtain_code(challenge=challenge), code_verifier="short")


def code_with_another_registered_redirect_uri(tokens, oauth_client, **_):
    other_uri = a_second_redirect_uri(oauth_client)
    return tokens.exchange(tokens.obtain_code(), redirect_uri=other_uri)


def code_with_an_unregistered_redirect_uri(tokens, **_):
    return tokens.exchange(tokens.obtain_code(), redirect_uri="https://evil.example/cb")


def code_without_the_redirect_uri(tokens, **_):
    return tokens.exchange(tokens.obtain_code(), redirect_uri=None)


def code_that_loses_a_race(tokens, monkeypatch, **_):
    code = tokens.obtain_code()
    lose_the_race_for(AuthorizationCode, monkeypatch)
    return tokens.exchange(code)


def code_whose_wrong_verifier_comes_after_a_wrong_redirect_uri(tokens, oauth_client, **_):
    other_uri = a_second_redirect_uri(oauth_client)
    _, challenge = pkce_pair()
    code = tokens.obtain_code(challenge=challenge)
    return tokens.exchange(code, redirect_uri=other_uri, code_verifier="x" * 50)


def a_wrong_client_secret(tokens, **_):
    return tokens.refresh(tokens.token_pair()["refresh_token"], client_secret="wrong")


def no_client_id(tokens, **_):
    return tokens.exchange(tokens.obtain_code(), client_id=None)


def a_wrong_client_secret_and_no_code(tokens, **_):
    return tokens.post(grant_type="authorization_code", client_secret="wrong")


def client_credentials_for_a_client_without_an_account(tokens, **_):
    return tokens.post(grant_type="client_credentials", scope="profile")


def an_unsupported_grant_type(tokens, **_):
    return tokens.post(grant_type="password", username="anna", password="pw")


def no_grant_type(tokens, **_):
    return tokens.post()


def client_credentials_with_an_unknown_scope(tokens, oauth_client, owner, **_):
    oauth_client.owner = owner
    oauth_client.save()
    return tokens.post(grant_type="client_credentials", scope="profile nonsense")


REVOKED, UNKNOWN = "Token has been revoked", "Cannot decrypt the refresh token"
NOT_THIS_CLIENT = "Authorization code was not issued to this client"
UNSUPPORTED = Refused(
    400, 2, "unsupported_grant_type", "Check the `grant_type` parameter", "unsupported_grant_type"
)
CASES: dict[Case, Refused] = {
    refresh_reused: Refused(401, 8, "invalid_request", REVOKED, "invalid_grant"),
    refresh_unknown: Refused(401, 8, "invalid_request", UNKNOWN, "invalid_grant"),
    refresh_of_another_client: Refused(
        401, 8, "invalid_request", "Token is not linked to client", "invalid_grant"
    ),
    refresh_after_the_owner_revoked: Refused(401, 8, "invalid_request", REVOKED, "invalid_grant"),
    refresh_without_a_token: Refused(
        400, 3, "invalid_request", "Check the `refresh_token` parameter", "invalid_request"
    ),
    refresh_beyond_the_grant: Refused(
        400, 5, "invalid_scope", "Check the `contact` scope", "invalid_scope"
    ),
    refresh_that_loses_a_race: Refused(401, 8, "invalid_request", REVOKED, "invalid_grant"),
    code_used_twice: Refused(
        400, 3, "invalid_request", "Authorization code has been revoked", "invalid_grant"
    ),
    code_expired: Refused(
        400, 3, "invalid_request", "Authorization code has expired", "invalid_grant"
    ),
    code_unknown: Refused(
        400, 3, "invalid_request", "Cannot decrypt the authorization code", "invalid_grant"
    ),
    code_of_another_client: Refused(400, 3, "invalid_request", NOT_THIS_CLIENT, "invalid_grant"),
    code_with_a_wrong_verifier: Refused(
        400, 10, "invalid_grant", "Failed to verify `code_verifier`.", "invalid_grant"
    ),
    code_without_its_verifier: Refused(
        400, 3, "invalid_request", "Check the `code_verifier` parameter", "invalid_request"
    ),
    code_with_a_malformed_verifier: Refused(
        400,
        3,
        "invalid_request",
        "Code Verifier must follow the specifications of RFC-7636.",
        "invalid_grant",
    ),
    code_with_another_registered_redirect_uri: Refused(
        400, 3, "invalid_request", "Invalid redirect URI", "invalid_request"
    ),
    code_with_an_unregistered_redirect_uri: Refused(
        401, 4, "invalid_client", None, "invalid_request"
    ),
    code_without_the_redirect_uri: Refused(
        400, 3, "invalid_request", "Check the `redirect_uri` parameter", "invalid_request"
    ),
    code_that_loses_a_race: Refused(
        400, 3, "invalid_request", "Authorization code has been revoked", "invalid_grant"
    ),
    code_whose_wrong_verifier_comes_after_a_wrong_redirect_uri: Refused(
        400, 3, "invalid_request", "Invalid redirect URI", "invalid_grant"
    ),
    a_wrong_client_secret: Refused(401, 4, "invalid_client", None, "invalid_client"),
    no_client_id: Refused(
        400, 3, "invalid_request", "Check the `client_id` parameter", "invalid_client"
    ),
    a_wrong_client_secret_and_no_code: Refused(401, 4, "invalid_client", None, "invalid_request"),
    client_credentials_for_a_client_without_an_account: Refused(
        401, 4, "invalid_client", None, "unauthorized_client"
    ),
    an_unsupported_grant_type: UNSUPPORTED,
    no_grant_type: UNSUPPORTED,
    client_credentials_with_an_unknown_scope: Refused(
        400, 5, "invalid_scope", "Check the `nonsense` scope", "invalid_scope"
    ),
}


def expected_answer(style: str, refused: Refused) -> tuple[int, dict]:
    message = MESSAGES[refused.code]
    if style == "league":
        body = {"error": refused.error, "message": message}
        return refused.status, body | ({"hint": refused.hint} if refused.hint else {})
    if style == "wrapped":
        meta = {"error_type": refused.error, "hint": refused.hint or ""}
        return refused.status, {"code": refused.code, "message": message, "meta": meta}
    meta = {"error_type": refused.legacy_error}
    return 401, {"code": 401, "message": LEGACY_MESSAGES[refused.legacy_error], "meta": meta}


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_each_refusal_is_answered_as_the_style_says(
    case, style, tokens, oauth_client, owner, monkeypatch
):
    faults.profile_update(owner=None, changes={"token_error_style": style})
    response = case(tokens=tokens, oauth_client=oauth_client, owner=owner, monkeypatch=monkeypatch)
    status, body = expected_answer(style, CASES[case])
    answered = response.json()
    if style == "legacy":  # its hint is oauthlib's description, whatever that says
        answered["meta"].pop("hint")
    assert (response.status_code, answered) == (status, body)
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")


# -- the three styles, spelled out once ------------------------------------------------------------


def test_league_answers_a_reused_refresh_token_with_401_invalid_request(tokens, oauth_client):
    response = tokens.refresh(tokens.used_refresh_token())
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_request",
        "message": "The refresh token is invalid.",
        "hint": "Token has been revoked",
    }


def test_wrapped_answers_it_with_code_8_in_the_resource_error_shape(tokens, owner):
    faults.profile_update(owner=None, changes={"token_error_style": "wrapped"})
    response = tokens.refresh(tokens.used_refresh_token())
    assert response.status_code == 401
    assert response.json() == {
        "code": 8,
        "message": "The refresh token is invalid.",
        "meta": {"error_type": "invalid_request", "hint": "Token has been revoked"},
    }


def test_legacy_answers_it_as_the_sandbox_did_before(tokens, owner):
    faults.profile_update(owner=None, changes={"token_error_style": "legacy"})
    response = tokens.refresh(tokens.used_refresh_token())
    assert response.status_code == 401
    assert response.json() == {
        "code": 401,
        "message": "The provided authorization grant or refresh token is invalid.",
        "meta": {"error_type": "invalid_grant", "hint": ""},
    }


# -- whose profile picks the style ---------------------------------------------------------------


def test_a_refresh_is_answered_in_the_style_of_the_grant_owner(tokens, owner):
    faults.profile_update(owner=owner, changes={"token_error_style": "wrapped"})
    response = tokens.refresh(tokens.used_refresh_token())
    assert response.json()["code"] == 8 and faults.profile_for(None).token_error_style == "league"


def test_a_code_is_answered_in_the_style_of_its_owner(tokens, owner):
    faults.profile_update(owner=owner, changes={"token_error_style": "legacy"})
    assert code_used_twice(tokens).json()["meta"]["error_type"] == "invalid_grant"


def test_an_unknown_refresh_token_is_answered_in_the_global_style(tokens, owner):
    faults.profile_update(owner=owner, changes={"token_error_style": "wrapped"})
    faults.profile_update(owner=None, changes={"token_error_style": "legacy"})
    assert tokens.refresh("no-such-token").json()["code"] == 401


def test_a_bad_client_is_answered_in_the_global_style(tokens, owner):
    faults.profile_update(owner=owner, changes={"token_error_style": "legacy"})
    response = a_wrong_client_secret(tokens)
    assert response.json() == {"error": "invalid_client", "message": "Client authentication failed"}


def test_the_environment_gives_the_style_while_no_profile_is_saved(tokens, settings):
    settings.SANDBOX_TOKEN_ERROR_STYLE = "wrapped"
    assert tokens.refresh("no-such-token").json()["meta"]["error_type"] == "invalid_request"


def test_the_command_sets_the_style(tokens, owner):
    printed = io.StringIO()
    call_command("sandbox_faults", owner=owner.email, token_error_style="wrapped", stdout=printed)
    assert '"token_error_style": "wrapped"' in printed.getvalue()
    assert tokens.refresh(tokens.used_refresh_token()).json()["code"] == 8


def test_the_command_refuses_a_style_it_does_not_know(owner):
    with pytest.raises(CommandError):
        call_command("sandbox_faults", token_error_style="php")


def test_success_is_not_cached_either(tokens):
    response = tokens.exchange(tokens.obtain_code())
    assert response.status_code == 201
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")


def test_a_wrong_method_at_the_token_endpoint_is_405_allowing_post(client):
    response = client.get(TOKENS)
    assert (response.status_code, response["Allow"]) == (405, "POST")
    assert response["Cache-Control"] == "no-store"


def test_a_refused_code_is_not_burnt(tokens):
    # league checks the verifier before it revokes the code: a retry with the right one works
    verifier, challenge = pkce_pair()
    code = tokens.obtain_code(challenge=challenge)
    assert tokens.exchange(code, code_verifier="x" * 50).status_code == 400
    assert tokens.exchange(code, code_verifier=verifier).status_code == 201


def test_an_old_code_is_refused_before_its_verifier_is_looked_at(tokens):
    _, challenge = pkce_pair()
    code = tokens.obtain_code(challenge=challenge)
    stale = timezone.now() - timedelta(minutes=1)
    AuthorizationCode.objects.filter(code_digest=digest(code)).update(expires_at=stale)
    response = tokens.exchange(code, code_verifier="x" * 50)
    assert response.json()["hint"] == "Authorization code has expired"

"""How the token endpoint refuses: league/oauth2-server's answers, in three styles.

The provider's authorization server is league/oauth2-server (6.x/7.x). oauthlib runs
the protocol here, but its error types and statuses are not league's: a reused refresh
token is oauthlib's 400 `invalid_grant` and league's 401 `invalid_request` (code 8).
So the validator records on the oauthlib request *why* it refused, as a `Refusal` from
league's catalogue below (`record`), and the view answers it in the style of the fault
profile in force (`refusal_response`):

- `league`: league's status and body `{error, message, hint}` (hint only when it has one);
- `wrapped`: the same status, in the provider's resource error shape
  `{code, message, meta: {error_type, hint}}` with league's code;
- `legacy`: what the sandbox answered before, 401 `{code: 401, message, meta}` with
  oauthlib's error type, whatever went wrong.

The first refusal recorded wins: the validator records in league's order (the client
before the code, the redirect URI before PKCE), which is not always oauthlib's.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from django.http import JsonResponse

from partnerapp.sandbox import faults

STYLES = ("league", "wrapped", "legacy")
INVALID_REQUEST = (
    "The request is missing a required parameter, includes an invalid parameter value, "
    "includes a parameter more than once, or is otherwise malformed."
)
INVALID_GRANT = (
    "The provided authorization grant (e.g., authorization code, resource owner credentials) "
    "or refresh token is invalid, expired, revoked, does not match the redirection URI used in "
    "the authorization request, or was issued to another client."
)
# league's hints for a refresh token or an authorization code it refuses.
REFRESH_UNKNOWN = "Cannot decrypt the refresh token"
REFRESH_OTHER_CLIENT = "Token is not linked to client"
REFRESH_REVOKED = "Token has been revoked"
CODE_UNKNOWN = "Cannot decrypt the authorization code"
CODE_EXPIRED = "Authorization code has expired"
CODE_REVOKED = "Authorization code has been revoked"
CODE_OTHER_CLIENT = "Authorization code was not issued to this client"
VERIFIER_FORMAT = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636, section 4.1


@dataclass(frozen=True)
class Refusal:
    """One of league's OAuthServerExceptions: HTTP status, code, error type, message, hint."""

    status: int
    code: int
    error: str
    message: str
    hint: str | None = None


# -- league's catalogue (OAuthServerException's factories, same names) ------------------------


def unsupported_grant_type() -> Refusal:
    message = "The authorization grant type is not supported by the authorization server."
    return Refusal(400, 2, "unsupported_grant_type", message, "Check the `grant_type` parameter")


def invalid_request(parameter: str, hint: str | None = None) -> Refusal:
    return Refusal(
        400, 3, "invalid_request", INVALID_REQUEST, hint or f"Check the `{parameter}` parameter"
    )


def invalid_client() -> Refusal:
    return Refusal(401, 4, "invalid_client", "Client authentication failed")


def invalid_scope(scope: str) -> Refusal:
    message = "The requested scope is invalid, unknown, or malformed"
    if not scope:
        hint = "Specify a scope in the request or set a default scope"
        return Refusal(400, 5, "invalid_scope", message, hint)
    # league escapes the scope it echoes (htmlspecialchars, ENT_QUOTES)
    escaped = html.escape(scope).replace("&#x27;", "&#039;")
    return Refusal(400, 5, "invalid_scope", message, f"Check the `{escaped}` scope")


def invalid_refresh_token(hint: str) -> Refusal:
    return Refusal(401, 8, "invalid_request", "The refresh token is invalid.", hint)


def invalid_grant(hint: str) -> Refusal:
    return Refusal(400, 10, "invalid_grant", INVALID_GRANT, hint)


def verifier_refusal(verifier: str | None) -> Refusal:
    """What league says when this `code_verifier` does not verify the code's challenge."""
    if verifier is None:
        return invalid_request("code_verifier")
    if not VERIFIER_FORMAT.match(verifier):
        return invalid_request(
            "code_verifier", "Code Verifier must follow the specifications of RFC-7636."
        )
    return invalid_grant("Failed to verify `code_verifier`.")


# -- remembering why, on the oauthlib request -----------------------------------------------


def record(request, refusal: Refusal, *, replace: bool = False) -> bool:
    """Remember why `request` is refused (the first reason, unless `replace`); False, so a
    validator can `return record(...)`."""
    if replace or getattr(request, "sandbox_refusal", None) is None:
        request.sandbox_refusal = refusal
    return False


def _from_oauthlib(error: dict[str, Any]) -> Refusal:
    """league's answer to a refusal oauthlib made without the validator saying why."""
    error_type, description = error.get("error", ""), error.get("error_description")
    if error_type == "unsupported_grant_type":
        return unsupported_grant_type()
    if error_type == "invalid_client":
        return invalid_client()
    if error_type == "invalid_scope":
        return invalid_scope("")
    if error_type == "invalid_grant":
        return invalid_grant(description or "")
    return Refusal(400, 3, "invalid_request", INVALID_REQUEST, description)


# -- answering -------------------------------------------------------------------------------


def refusal_response(request, oauthlib_error: dict[str, Any]) -> JsonResponse:
    """The answer to a refused token request, in the style of the profile of the account
    it was for (the code's or refresh token's owner; the global one while unknown)."""
    refusal = getattr(request, "sandbox_refusal", None) or _from_oauthlib(oauthlib_error)
    style = faults.profile_for(getattr(request, "sandbox_owner", None)).token_error_style
    if style == "wrapped":
        return JsonResponse(wrapped_body(refusal), status=refusal.status)
    if style == "legacy":
        return JsonResponse(legacy_body(oauthlib_error), status=401)
    return JsonResponse(league_body(refusal), status=refusal.status)


def league_body(refusal: Refusal) -> dict[str, Any]:
    body = {"error": refusal.error, "message": refusal.message}
    if refusal.hint is not None:
        body["hint"] = refusal.hint
    return body


def wrapped_body(refusal: Refusal) -> dict[str, Any]:
    meta = {"error_type": refusal.error, "hint": refusal.hint or ""}
    return {"code": refusal.code, "message": refusal.message, "meta": meta}


LEGACY_MESSAGES = {
    "invalid_grant": "The provided authorization grant or refresh token is invalid.",
    "invalid_client": "Client authentication failed.",
    "invalid_scope": "The requested scope is invalid, unknown, or malformed.",
    "unsupported_grant_type": "The authorization grant type is not supported.",
    "unauthorized_client": "The client is not authorized to use this grant type.",
}


def legacy_body(oauthlib_error: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's answer before league's: oauthlib's error type, always a 401."""
    error_type = oauthlib_error.get("error", "invalid_request")
    message = LEGACY_MESSAGES.get(
        error_type, "The request is missing a required parameter or is malformed."
    )
    meta = {"error_type": error_type, "hint": oauthlib_error.get("error_description", "")}
    return {"code": 401, "message": message, "meta": meta}

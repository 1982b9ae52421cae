"""Typed errors for every way a call to the provider can end badly.

One mapping (`error_from_response`) turns an HTTP response into the exception
for its status, carrying the provider's `code`, `message`, `meta`, per-field
errors and the `X-Request-Id` support will ask for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError

from partnerapp.smartbusiness.ratelimit import RateLimit

REQUEST_ID_HEADER = "X-Request-Id"


@dataclass(frozen=True)
class FieldError:
    key: str
    message: str
    code: int | None = None


class SmartBusinessError(Exception):
    """Anything that went wrong talking to the provider."""

    status: int | None = None
    transient = False  # worth trying again later without a person looking at it

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        meta: dict[str, Any] | None = None,
        request_id: str = "",
        rate_limit: RateLimit | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.code = code
        self.meta = meta or {}
        self.request_id = request_id
        self.rate_limit = rate_limit

    @property
    def field_errors(self) -> list[FieldError]:
        return [
            FieldError(
                key=str(e.get("key", "")), message=str(e.get("message", "")), code=e.get("code")
            )
            for e in self.meta.get("errors", [])
            if isinstance(e, dict)
        ]

    @property
    def retry_can_help(self) -> bool:
        """Whether the same request may succeed later (`retry_can_help`)."""
        return retry_can_help(self.status, self.code)

    def detail(self) -> dict[str, Any]:
        """A JSON-able summary to store next to an outcome."""
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "meta": self.meta,
            "request_id": self.request_id,
        }


class TransportError(SmartBusinessError):
    """No HTTP response. `may_have_arrived` says whether the provider may have acted."""

    transient = True
    may_have_arrived = True


class ConnectFailed(TransportError):
    """The request never left: connection refused or connect timeout."""

    may_have_arrived = False


class ResponseLost(TransportError):
    """The request was sent but no (complete) response came back: read timeout, reset."""


class ProtocolError(SmartBusinessError):
    """A response we cannot read (not JSON where JSON was promised, a missing key)."""


class ApiError(SmartBusinessError):
    """The provider answered with an error status."""


class BadRequest(ApiError):
    status = 400


class OAuthDetail:
    """The OAuth error type and hint of a refusal, from either body shape (see `_error_body`)."""

    meta: dict[str, Any]

    @property
    def error_type(self) -> str:
        return str(self.meta.get("error_type", ""))

    @property
    def hint(self) -> str:
        return str(self.meta.get("hint", ""))


class Unauthorized(OAuthDetail, ApiError):
    status = 401


class MissingScope(BadRequest):
    """The token lacks a scope the call needs (400, code 11 `required_scopes_missing`)."""

    CODE = 11

    @property
    def scope(self) -> str:
        """The missing scope(s), from the wrapper's hint "…with: [`invoice`] scopes included"
        (or a bare scope name as hint); empty when the answer does not say."""
        hint = str(self.meta.get("hint") or self.meta.get("scope") or "")
        named = re.findall(r"`([a-z_]+)`", hint)
        if named:
            return " ".join(named)
        return hint if re.fullmatch(r"[a-z_]+", hint) else ""


# -- the token endpoint's refusals (league/oauth2-server's OAuthServerException) --------------


class TokenRefused(OAuthDetail, ApiError):
    """The token endpoint said no."""


class GrantRefused(TokenRefused):
    """The refresh token or authorization code is dead (revoked, used, expired, foreign):
    the owner must consent again. league answers 401 `invalid_request` code 8 for a
    refresh token, 400 `invalid_request` for a code, `invalid_grant` for PKCE."""


InvalidGrant = GrantRefused  # the name DESIGN §2 and older code use


class ClientRefused(TokenRefused):
    """`invalid_client`: the client id or secret is refused — an operator's problem."""


class ScopeRefused(TokenRefused):
    """`invalid_scope`: a scope we asked for is unknown to the provider or not allowed."""


class PaymentRequired(ApiError):
    """A feature limit of the owner's plan (codes 4001 hard, 4002 soft, 4003 total)."""

    status = 402


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404

    @property
    def entity_type(self) -> str:
        return str(self.meta.get("entity_type", ""))


class MethodNotAllowed(ApiError):
    status = 405


class PayloadTooLarge(ApiError):
    status = 413


class ValidationFailed(ApiError):
    status = 422


class TooManyRequests(ApiError):
    status = 429
    transient = True

    SHORT_BACKOFF = 5  # seconds, when the provider still reports budget left

    @property
    def retry_after(self) -> int:
        """Seconds to wait: until the period resets when the budget is spent; a short
        backoff when the headers still show budget (a 429 for another reason, e.g. a
        burst limit in front of the provider)."""
        if self.rate_limit is None:
            return 60
        if self.rate_limit.remaining > 0:
            return max(1, min(self.rate_limit.reset, self.SHORT_BACKOFF))
        return max(1, self.rate_limit.reset)


class ServerError(ApiError):
    """500 and any other 5xx (502/504 from a proxy): the action may or may not have run."""

    status = 500
    transient = True


class ServiceUnavailable(ServerError):
    status = 503


ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        PaymentRequired,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        PayloadTooLarge,
        ValidationFailed,
        TooManyRequests,
        ServerError,
        ServiceUnavailable,
    )
}


def error_from_response(response: requests.Response) -> ApiError:
    """The typed exception for an error response (status >= 400) of the resource API."""
    body, meta = _error_body(response)
    status = response.status_code
    cls = ERRORS_BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    if cls is BadRequest and (
        body.get("code") == MissingScope.CODE or meta.get("error_type") == "required_scopes_missing"
    ):
        cls = MissingScope
    return _error(cls, response, body, meta)


# Refusals that trying the same request again cannot change: the provider judged the
# request itself — its data (422, e.g. an invalid e-mail address), its form (400), a
# document it does not know (404), a method or size it never takes (405, 413).
FINAL_STATUSES = frozenset({400, 404, 405, 413, 422})


def retry_can_help(status: int | None, code: int | None) -> bool:
    """Whether a refused call may succeed when tried again, from the HTTP status and the
    provider's error code. Yes without an answer (it never arrived, or it is unclear), for
    a 5xx or 429, and for refusals a person can lift elsewhere: a refused token (401), a
    plan limit or missing feature (402, 403), a missing scope (400 code 11: reconnect)."""
    if status is None or (status == 400 and code == MissingScope.CODE):
        return True
    return status not in FINAL_STATUSES


REFRESH_TOKEN_INVALID_CODE = 8  # league's invalidRefreshToken


def token_error_from_response(response: requests.Response) -> ApiError:
    """The typed exception for an error of the token endpoint, in either body shape.

    league/oauth2-server answers `{error, message, hint}`; the provider may wrap it as
    `{code, message, meta: {error_type, hint}}`. A dead refresh token is 401
    `invalid_request` code 8 "The refresh token is invalid." (not `invalid_grant`).
    """
    body, meta = _error_body(response)
    status, error_type = response.status_code, meta.get("error_type", "")
    if status >= 500 or status == 429:
        return error_from_response(response)
    cls: type[ApiError] = TokenRefused
    if error_type == "invalid_grant" or _dead_token(status, body, meta):
        cls = GrantRefused
    elif error_type == "invalid_client":
        cls = ClientRefused
    elif error_type == "invalid_scope":
        cls = ScopeRefused
    return _error(cls, response, body, meta)


def _dead_token(status: int, body: dict[str, Any], meta: dict[str, Any]) -> bool:
    if meta.get("error_type") != "invalid_request":
        return False
    text = f"{body.get('message', '')} {meta.get('hint', '')}".lower()
    dead_refresh = status == 401 and (
        body.get("code") == REFRESH_TOKEN_INVALID_CODE or "refresh token is invalid" in text
    )
    return dead_refresh or "authorization code" in text


def _error_body(response: requests.Response) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body and its `meta`, with `error_type` and `hint` from either shape.

    Resource errors come as `{code, message, meta}`; some answers nest the same in
    `{error: {code, message, meta}}`; OAuth errors are `{error, message, hint}`.
    """
    body = _json_or_empty(response)
    if isinstance(body.get("error"), dict):
        body = {**body, **body["error"]}
        del body["error"]
    meta = dict(body["meta"]) if isinstance(body.get("meta"), dict) else {}
    if body.get("error") and not meta.get("error_type"):
        meta["error_type"] = str(body["error"])
    if body.get("hint") and not meta.get("hint"):
        meta["hint"] = str(body["hint"])
    return body, meta


def _error(cls: type[ApiError], response, body: dict[str, Any], meta: dict[str, Any]) -> ApiError:
    status = response.status_code
    message = (
        body.get("message") or body.get("error_description") or response.reason or f"HTTP {status}"
    )
    code = body.get("code")
    return cls(
        str(message),
        status=status,
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        meta=meta,
        request_id=response.headers.get(REQUEST_ID_HEADER, ""),
        rate_limit=RateLimit.from_headers(response.headers),
    )


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def transport_error(exc: requests.RequestException) -> TransportError:
    """Classify a failure without a response by whether the request may have arrived.

    urllib3's NewConnectionError and NameResolutionError are ConnectTimeoutErrors:
    in those cases nothing was sent. A reset or read timeout after sending is not
    safe to repeat for an action.
    """
    reason: object = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # MaxRetryError wraps the cause
    name = type(exc).__name__
    if isinstance(exc, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError):
        return ConnectFailed(f"Could not reach the provider ({name}).")
    return ResponseLost(f"The provider did not answer completely ({name}).")

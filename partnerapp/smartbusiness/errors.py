"""Typed errors for every way a call to the provider can end badly.

One mapping (`error_from_response`) turns an HTTP response into the exception
for its status, carrying the provider's `code`, `message`, `meta`, per-field
errors and the `X-Request-Id` support will ask for.
"""

from __future__ import annotations

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


class Unauthorized(ApiError):
    status = 401

    @property
    def error_type(self) -> str:
        return str(self.meta.get("error_type", ""))

    @property
    def hint(self) -> str:
        return str(self.meta.get("hint", ""))


class InvalidGrant(Unauthorized):
    """The refresh token (or code) is dead: the owner must consent again."""


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
    """The typed exception for an error response (status >= 400)."""
    body = _json_or_empty(response)
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    status = response.status_code
    cls = ERRORS_BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    if cls is Unauthorized and meta.get("error_type") == "invalid_grant":
        cls = InvalidGrant
    message = body.get("message") or response.reason or f"HTTP {status}"
    return cls(
        str(message),
        status=status,
        code=body.get("code") if isinstance(body.get("code"), int) else None,
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

"""The client side of the provider's OAuth2: consent URL, code exchange, refresh.

The provider's refresh tokens work exactly once, so `refresh` returns the new
pair and it is the caller's job to store it before doing anything else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from oauthlib.oauth2 import OAuth2Error

from partnerapp.smartbusiness.errors import ProtocolError, transport_error
from partnerapp.smartbusiness.session import ApiConfig, new_session


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str  # empty for client credentials
    expires_at: float  # unix time
    scope: list[str]
    request_id: str = ""  # the token endpoint's X-Request-Id
    lifetime: float | None = None  # seconds the provider gave the access token

    def __repr__(self) -> str:  # never let a token reach a log or a traceback
        return f"TokenSet(expires_at={self.expires_at!r}, scope={self.scope!r})"

    @classmethod
    def from_response(
        cls, token: dict[str, Any], requested_scope: list[str], request_id: str = ""
    ) -> TokenSet:
        if not token.get("access_token"):
            raise ProtocolError("The token response holds no access_token.")
        expires_in = float(token.get("expires_in") or 43200)
        scope = token.get("scope") or requested_scope
        return cls(
            access_token=str(token["access_token"]),
            refresh_token=str(token.get("refresh_token") or ""),
            expires_at=float(token.get("expires_at") or time.time() + expires_in),
            scope=scope.split() if isinstance(scope, str) else list(scope),
            request_id=request_id,
            lifetime=expires_in,
        )


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


def authorization_request(
    config: ApiConfig, *, redirect_uri: str, scope: list[str], state: str
) -> AuthorizationRequest:
    """The consent URL to send the owner to, with `state` and a PKCE S256 challenge."""
    session = new_session(config, redirect_uri=redirect_uri, scope=scope, state=state, pkce=True)
    url, state = session.authorization_url(config.authorize_url, state=state)
    return AuthorizationRequest(url=url, state=state, code_verifier=session._code_verifier)


def exchange_code(
    config: ApiConfig, *, redirect_uri: str, code: str, code_verifier: str, scope: list[str]
) -> TokenSet:
    session = new_session(config, redirect_uri=redirect_uri, scope=scope)
    with _token_errors():
        token = session.fetch_token(
            config.token_url,
            code=code,
            code_verifier=code_verifier,
            client_secret=config.client_secret,
            include_client_id=True,
        )
    return TokenSet.from_response(token, scope, session.last_request_id)


def refresh(config: ApiConfig, *, refresh_token: str, scope: list[str]) -> TokenSet:
    """Trade a refresh token for a new pair. The old refresh token is dead afterwards."""
    session = new_session(config, scope=scope)
    with _token_errors():
        token = session.refresh_token(
            config.token_url,
            refresh_token=refresh_token,
            client_id=config.client_id,
            client_secret=config.client_secret,
        )
    return TokenSet.from_response(token, scope, session.last_request_id)


def client_credentials(config: ApiConfig, *, scope: list[str]) -> TokenSet:
    """An access token for the client's own account (no refresh token: ask again later)."""
    session = new_session(config, scope=scope, backend=True)
    with _token_errors():
        token = session.fetch_token(
            config.token_url,
            client_id=config.client_id,
            client_secret=config.client_secret,
            include_client_id=True,
        )
    return TokenSet.from_response(token, scope, session.last_request_id)


@contextmanager
def _token_errors() -> Iterator[None]:
    """Map transport and parse errors of the token endpoint to our types."""
    try:
        yield
    except requests.RequestException as exc:
        raise transport_error(exc) from exc
    except (OAuth2Error, ValueError) as exc:
        raise ProtocolError(f"Unreadable token response ({type(exc).__name__}).") from exc

"""The one place that builds HTTP sessions to the provider.

Every session is a requests-oauthlib `OAuth2Session` with connect/read timeouts
on every call, retries with backoff for GETs only (an action is never repeated
by the transport), and the provider's error bodies mapped to typed exceptions
on the token endpoint.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import BackendApplicationClient
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth2Session
from urllib3.util.retry import Retry

from partnerapp.smartbusiness.errors import token_error_from_response

USER_AGENT = "partnerapp/0.1 (+SmartBusiness API v2 partner app)"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiConfig:
    """Where the provider is and who we are to it."""

    base_url: str  # e.g. https://api-smartbusiness.postfinance.ch/v2
    client_id: str
    client_secret: str
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    get_retries: int = 3
    allow_http: bool = False  # only for a sandbox on this machine

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def authorize_url(self) -> str:
        return f"{self.root}/auth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.root}/auth/access-tokens"

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


class ProviderSession(OAuth2Session):
    """An OAuth2Session that never waits forever and remembers the last X-Request-Id."""

    default_timeout: tuple[float, float] = (5.0, 30.0)
    last_request_id = ""

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self.default_timeout)
        response = super().request(method, url, *args, **kwargs)
        self.last_request_id = response.headers.get("X-Request-Id", "")
        return response


def new_session(
    config: ApiConfig,
    *,
    access_token: str | None = None,
    redirect_uri: str | None = None,
    scope: list[str] | None = None,
    state: str | None = None,
    pkce: bool = False,
    backend: bool = False,
) -> ProviderSession:
    """`backend`: a session for the client-credentials grant (the client's own account)."""
    if config.allow_http:
        # oauthlib refuses http:// unless told otherwise; the sandbox runs on loopback.
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    token: dict[str, Any] | None = (
        {"access_token": access_token, "token_type": "Bearer"} if access_token else None
    )
    session = ProviderSession(
        client_id=None if backend else config.client_id,
        client=BackendApplicationClient(client_id=config.client_id) if backend else None,
        token=token,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        pkce="S256" if pkce else None,
    )
    session.default_timeout = config.timeout
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    adapter = HTTPAdapter(max_retries=_get_retry(config.get_retries))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    _environment_once(session, config)
    session.register_compliance_hook("access_token_response", raise_for_token_error)
    session.register_compliance_hook("refresh_token_response", raise_for_token_error)
    session.hooks["response"].append(log_exchange)
    return session


def _environment_once(session: requests.Session, config: ApiConfig) -> None:
    """The proxies (HTTPS_PROXY, NO_PROXY, …) and CA bundle (REQUESTS_CA_BUNDLE) the
    environment sets, read once for the session's one host: requests would read the whole
    environment again on every call (and look for a ~/.netrc), which cost a job's worker
    more CPU than the rest of the call. No credentials come from ~/.netrc: the token
    travels in the Authorization header, the client secret in the token request."""
    session.proxies.update(requests.utils.get_environ_proxies(config.root))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


def log_exchange(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """One log line per exchange, with the provider's X-Request-Id (support asks for it).

    Only method, path and status: query strings hold customer data, bodies hold tokens.
    """
    logger.info(
        "provider %s %s %s (X-Request-Id %s)",
        response.request.method,
        urlsplit(response.request.url).path,
        response.status_code,
        response.headers.get("X-Request-Id", "-"),
        extra={
            "provider_request_id": response.headers.get("X-Request-Id", ""),
            "provider_status": response.status_code,
            "duration_ms": round(response.elapsed.total_seconds() * 1000, 1),
        },
    )
    return response


def _get_retry(total: int) -> Retry:
    """Retries for idempotent reads; connect errors (nothing sent) for any method."""
    return Retry(
        total=total,
        connect=total,
        read=total,
        status=total,
        other=0,
        allowed_methods=frozenset({"GET", "HEAD"}),
        status_forcelist=(500, 502, 503, 504),
        backoff_factor=0.2,
        raise_on_status=False,
        respect_retry_after_header=False,
    )


def raise_for_token_error(response: requests.Response) -> requests.Response:
    """Token errors as typed refusals (league's `{error, message, hint}` or the provider's
    wrapped `{code, message, meta}`), before oauthlib tries to read them as a token."""
    if response.status_code >= 400:
        raise token_error_from_response(response)
    return response

"""What every sandbox API view shares: bearer authentication, rate limit, scope, faults.

`endpoint` answers in the provider's order: 405 (method, with `Allow`), 401 (token),
429 (budget), 400 code 11 (scope), then the faults of the profile in force (latency,
injected 429/500/503), then the view; a write that succeeded may still lose its response
(faults.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import AccessToken, FaultProfile, digest
from partnerapp.sandbox.ratelimit import take_permit
from partnerapp.sandbox.responses import ApiProblem, problem_response

View = Callable[..., HttpResponse]
EXPIRED = "Access token is expired"
REVOKED = "Access token has been revoked"
# The official wrapper's OAuthServerException::requiredScopesMissing (code 11, HTTP 400).
SCOPES_MISSING = "Some of the required scopes are missing in the request"
# The plans that include a feature an owner's profile marks as missing (403 meta.plans).
FEATURE_PLANS = ["business", "enterprise"]


def unauthorized(hint: str) -> ApiProblem:
    return ApiProblem(401, "Unauthorized", meta={"error_type": "access_denied", "hint": hint})


def authenticate(request: HttpRequest) -> AccessToken:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorized('Missing "Authorization" header')
    token = (
        AccessToken.objects.select_related("owner", "client", "grant")
        .filter(token_digest=digest(value.strip()))
        .first()
    )
    if token is None:
        raise unauthorized("Access token could not be verified")
    if token.revoked_at is not None or (token.grant and token.grant.revoked_at is not None):
        raise unauthorized(REVOKED)
    if token.expires_at <= timezone.now():
        raise unauthorized(EXPIRED)
    return token


def scopes_missing(scopes: list[str]) -> ApiProblem:
    """400 code 11, worded as the wrapper words it (not 403: that is an entity's permission)."""
    hint = "End user has to generate access token with: [`{}`] scopes included"
    return ApiProblem(
        400,
        SCOPES_MISSING,
        code=11,
        meta={"error_type": "required_scopes_missing", "hint": hint.format("` `".join(scopes))},
    )


def endpoint(*, methods: set[str], scope: str | None) -> Callable[[View], View]:
    """Wrap an API view; it finds `sandbox_token`, `sandbox_owner` and `sandbox_profile`
    on the request."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return _serve(request, view, methods, scope, args, kwargs)
            except ApiProblem as problem:
                return problem_response(problem)

        return wrapper

    return decorate


def _serve(request, view: View, methods, scope, args, kwargs) -> HttpResponse:
    if request.method not in methods:
        raise ApiProblem(405, headers={"Allow": ", ".join(sorted(methods))})
    token = authenticate(request)
    profile = faults.profile_for(token.owner)
    if faults.claim_forced_expiry(profile, token):
        raise unauthorized(EXPIRED)
    limit, period = faults.rate_budget(profile)
    request.sandbox_rate = take_permit(token.owner, token.client, limit=limit, period=period)
    if request.sandbox_rate.exceeded:
        raise ApiProblem(429, "Too many requests")
    if scope and scope not in token.scope_list:
        raise scopes_missing([scope])
    request.sandbox_token, request.sandbox_owner = token, token.owner
    request.sandbox_profile = profile
    plan = faults.plan(profile, owner=token.owner, method=request.method)
    faults.wait(plan)
    if plan.status:
        raise ApiProblem(plan.status)
    response = view(request, *args, **kwargs)
    if plan.lost and response.status_code < 400:
        return faults.lose(profile, response)
    return response


def require_feature(profile: FaultProfile, feature: str) -> None:
    """403 with `meta.feature` and `meta.plans` when the owner's plan lacks the feature."""
    if feature in profile.missing_feature_list:
        raise ApiProblem(
            403, "Feature is missing", meta={"feature": feature, "plans": FEATURE_PLANS}
        )


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; 413 when too large, 400 when not a JSON object.

    `[]` counts as `{}`: the PHP wrapper JSON-encodes empty options (an empty PHP
    array) as `[]`, and the provider, decoding into PHP arrays, cannot tell them apart.
    """
    length = int(request.headers.get("Content-Length") or 0)
    if length > settings.SANDBOX_MAX_BODY_BYTES:
        raise ApiProblem(413, "Request entity too large")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, "The request body is not valid JSON") from exc
    if body == []:
        body = {}
    if not isinstance(body, dict):
        raise ApiProblem(400, "The request body must be a JSON object")
    return body


def parse_ids(raw: str) -> list[int]:
    """`12,13,14` → [12, 13, 14]; 400 when it is not a list of ids."""
    parts = raw.split(",")
    if not parts or not all(part.strip().isdigit() for part in parts):
        raise ApiProblem(400, "Invalid id list: expected comma separated ids")
    return sorted({int(part) for part in parts})

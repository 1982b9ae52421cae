"""What every sandbox API view shares: bearer authentication, rate limit, scope, faults.

`endpoint` answers in the provider's order: 405 (method, with `Allow`), 401 (token),
429 (budget), 400 code 11 (scope), then the faults of the profile in force (latency,
injected 429/500/503), then the view; a write that succeeded may still lose its response
(faults.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import AccessToken, Client, FaultProfile, Grant, Owner, digest
from partnerapp.sandbox.ratelimit import take_permit
from partnerapp.sandbox.responses import ApiProblem, problem_response
from partnerapp.sandbox.rows import Columns, split

View = Callable[..., HttpResponse]
EXPIRED = "Access token is expired"
REVOKED = "Access token has been revoked"
# The official wrapper's OAuthServerException::requiredScopesMissing (code 11, HTTP 400).
SCOPES_MISSING = "Some of the required scopes are missing in the request"
# The plans that include a feature an owner's profile marks as missing (403 meta.plans).
FEATURE_PLANS = ["business", "enterprise"]


def unauthorized(hint: str) -> ApiProblem:
    return ApiProblem(401, "Unauthorized", meta={"error_type": "access_denied", "hint": hint})


TOKEN, CLIENT, OWNER = Columns(AccessToken, "t"), Columns(Client, "c"), Columns(Owner, "o")
GRANT, PROFILE = Columns(Grant, "g"), Columns(FaultProfile, "p")


@cache
def caller_sql() -> str:
    """One statement for everything a call is checked against: the access token, its
    client, owner and grant (revoked?), and the fault profile in force (the owner's own
    row, else the global one: faults.profile_for's rule; none: the settings' defaults)."""
    # Names come from the models, values go as parameters.
    return f"""
        SELECT {TOKEN.select()}, {CLIENT.select()}, {OWNER.select()}, {GRANT.select()},
               {PROFILE.select()}
        FROM {TOKEN.table()}
        JOIN {CLIENT.table()} ON c.id = t.client_id
        JOIN {OWNER.table()} ON o.id = t.owner_id
        LEFT JOIN {GRANT.table()} ON g.id = t.grant_id
        LEFT JOIN {PROFILE.table()} ON p.id = (
            SELECT f.id FROM {Columns(FaultProfile, "f").table()}
            WHERE f.owner_id = t.owner_id OR f.is_global
            ORDER BY f.is_global LIMIT 1
        )
        WHERE t.token_digest = %s
    """  # noqa: S608


def authenticate(request: HttpRequest) -> tuple[AccessToken, FaultProfile]:
    """The bearer token (its client, owner and grant loaded) and the owner's fault profile;
    401 when the token is missing, unknown, revoked or expired."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorized('Missing "Authorization" header')
    with connection.cursor() as cursor:
        cursor.execute(caller_sql(), [digest(value.strip())])
        row = cursor.fetchone()
    if row is None:
        raise unauthorized("Access token could not be verified")
    token, client, owner, grant, profile = split(row, TOKEN, CLIENT, OWNER, GRANT, PROFILE)
    token.client, token.owner, token.grant = client, owner, grant
    if token.revoked_at is not None or (grant and grant.revoked_at is not None):
        raise unauthorized(REVOKED)
    if token.expires_at <= timezone.now():
        raise unauthorized(EXPIRED)
    return token, profile or faults.default_profile()


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
    token, profile = authenticate(request)
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

"""What every sandbox API view shares: bearer authentication, rate limit, scope, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from partnerapp.sandbox.models import AccessToken, digest
from partnerapp.sandbox.ratelimit import take_permit
from partnerapp.sandbox.responses import ApiProblem, problem_response

View = Callable[..., HttpResponse]


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
    if token.grant is not None and token.grant.revoked_at is not None:
        raise unauthorized("Access token has been revoked")
    if token.expires_at <= timezone.now():
        raise unauthorized("Access token is expired")
    return token


def endpoint(*, methods: set[str], scope: str | None) -> Callable[[View], View]:
    """Wrap an API view: 405, 401, 429, 403 (scope) in the provider's order and shapes."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise ApiProblem(405)
                token = authenticate(request)
                request.sandbox_rate = take_permit(token.owner, token.client)
                if request.sandbox_rate.exceeded:
                    raise ApiProblem(429, "Too many requests")
                if scope and scope not in token.scope_list:
                    raise ApiProblem(403)
                request.sandbox_token = token
                request.sandbox_owner = token.owner
                return view(request, *args, **kwargs)
            except ApiProblem as problem:
                return problem_response(problem)

        return wrapper

    return decorate


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; 413 when too large, 400 when not a JSON object."""
    length = int(request.headers.get("Content-Length") or 0)
    if length > settings.SANDBOX_MAX_BODY_BYTES:
        raise ApiProblem(413, "Request entity too large")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, "The request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiProblem(400, "The request body must be a JSON object")
    return body

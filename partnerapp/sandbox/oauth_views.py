"""The provider's OAuth2 endpoints: the consent page and the token endpoint."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from oauthlib.oauth2 import AccessDeniedError, FatalClientError, OAuth2Error

from partnerapp.sandbox import owner_session
from partnerapp.sandbox.api import json_body
from partnerapp.sandbox.models import SCOPES
from partnerapp.sandbox.oauth import server
from partnerapp.sandbox.responses import ApiProblem, error_response, problem_response
from partnerapp.sandbox.token_errors import refusal_response


def _oauth_request(request: HttpRequest) -> tuple[str, str, dict[str, str]]:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "cookie"}
    return request.build_absolute_uri(), request.method or "GET", headers


def authorize(request: HttpRequest) -> HttpResponse:
    """GET shows login (if needed) and consent; POST records approve or deny."""
    uri, _, headers = _oauth_request(request)
    try:
        scopes, credentials = server.validate_authorization_request(uri, "GET", "", headers)
    except FatalClientError as exc:
        # Unknown client or redirect URI: never redirect, tell the owner.
        page = render(request, "sandbox/authorize_error.html", {"error": exc}, status=400)
        page.sandbox_page = True
        return page
    except OAuth2Error as exc:
        return HttpResponseRedirect(exc.in_uri(exc.redirect_uri))
    owner = owner_session.current_owner(request)
    if owner is None:
        return owner_session.login_page(request, next_url=request.get_full_path())
    if request.method == "POST" and request.POST.get("decision") == "approve":
        response_headers, _, _ = server.create_authorization_response(
            uri, "GET", "", headers, scopes, {"owner": owner}
        )
        return HttpResponseRedirect(response_headers["Location"])
    if request.method == "POST":
        denied = AccessDeniedError(request=credentials["request"])
        return HttpResponseRedirect(denied.in_uri(denied.redirect_uri))
    context = {
        "owner": owner,
        "client": credentials["request"].client,
        "scopes": [(scope, SCOPES.get(scope, scope)) for scope in scopes],
    }
    return render(request, "sandbox/consent.html", context)


@csrf_exempt
def access_tokens(request: HttpRequest) -> HttpResponse:
    """POST /auth/access-tokens: form or JSON in; 201 with the pair, or the refusal."""
    response = _token_answer(request)
    # Tokens must not be cached anywhere (RFC 6749 5.1); league says so on its answers.
    response["Cache-Control"], response["Pragma"] = "no-store", "no-cache"
    return response


def _token_answer(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return error_response(405, headers={"Allow": "POST"})
    try:
        body = _form_body(request)
    except ApiProblem as problem:
        return problem_response(problem)
    uri, _, headers = _oauth_request(request)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    oauth_request, raw, status = server.token_response(uri, body, headers)
    token = json.loads(raw)
    if status >= 400:
        return refusal_response(oauth_request, token)
    pair = {
        k: token[k]
        for k in ("token_type", "expires_in", "access_token", "refresh_token")
        if k in token
    }
    return JsonResponse(pair, status=201)


def _form_body(request: HttpRequest) -> str:
    if request.content_type == "application/json":
        data = json_body(request)
        return urlencode({k: str(v) for k, v in data.items() if v is not None})
    try:
        return urlencode(list(request.POST.items()))  # form-encoded or multipart
    except MultiPartParserError as exc:  # e.g. multipart without a boundary
        raise ApiProblem(400, "The request body cannot be read") from exc

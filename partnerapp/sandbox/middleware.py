"""Headers the provider puts on every API response, errors included.

Scoped to the sandbox API prefix: a fresh `X-Request-Id`, the `X-Rate-Limit-*`
triple, CORS headers; and Django's own HTML error pages (unknown path, wrong
method, a crash) turned into the provider's JSON error body.
"""

from __future__ import annotations

import logging
import uuid

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse

from partnerapp.sandbox.ratelimit import RateState
from partnerapp.sandbox.responses import empty_response, error_response

API_PREFIX = "/sandbox/v2/"
logger = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept",
    "Access-Control-Expose-Headers": (
        "X-Request-Id, X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Reset"
    ),
}


class ProviderApiMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        request.sandbox_request_id = str(uuid.uuid4())
        if request.method == "OPTIONS":
            response = empty_response(204)
        else:
            response = self._json_errors(self.get_response(request))
        return self._decorate(request, response)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not request.path.startswith(API_PREFIX) or isinstance(exception, SuspiciousOperation):
            return None  # a body over the upload limit is Django's 400/413, made JSON above
        logger.exception("sandbox API error", exc_info=exception)
        return error_response(500)

    def _json_errors(self, response: HttpResponse) -> HttpResponse:
        is_html = response.get("Content-Type", "").startswith("text/html")
        is_page = getattr(response, "sandbox_page", False)  # the consent page is HTML on purpose
        if response.status_code >= 400 and is_html and not is_page and response.status_code != 403:
            return error_response(response.status_code)
        return response

    def _decorate(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        rate = getattr(request, "sandbox_rate", None) or RateState.untouched()
        response["X-Rate-Limit-Limit"] = str(rate.limit)
        response["X-Rate-Limit-Remaining"] = str(rate.remaining)
        response["X-Rate-Limit-Reset"] = str(rate.reset)
        response["X-Request-Id"] = request.sandbox_request_id
        for name, value in CORS_HEADERS.items():
            response[name] = value
        return response

"""One error shape for every answer of the API that is not a success:

    {"error": {"code": "not_found", "message": "...", "fields": {...}, "request_id": "..."}}

`code` is stable (clients branch on it), `message` is for people (translated), `fields`
names what was wrong with which input, `request_id` is the X-Request-Id to quote to us.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from partnerapp.jobs.operations import JobInputError

logger = logging.getLogger(__name__)

CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "invalid_api_key",
    exceptions.NotAuthenticated: "missing_api_key",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


class ApiError(exceptions.APIException):
    """An answer with our own stable code (e.g. 409 "job_state", 422 "idempotency_mismatch")."""

    def __init__(self, status_code: int, code: str, message: str, fields: dict | None = None):
        super().__init__(detail=message, code=code)
        self.status_code, self.error_code, self.fields = status_code, code, fields or {}


def error_body(code: str, message: str, request, fields: dict | None = None) -> dict:
    return {
        "error": {
            "code": code,
            "message": str(message),
            "fields": fields or {},
            "request_id": getattr(request, "request_id", "") or "",
        }
    }


def handle(exc, context) -> Response:
    """DRF's exception handler: every error in the one shape (a 500 for the unexpected)."""
    request = getattr(context.get("request"), "_request", None)
    if isinstance(exc, JobInputError):
        exc = ApiError(422, "unprocessable", str(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:  # not an API exception: a bug; logged with its traceback
        logger.exception("API request failed", exc_info=exc)
        body = error_body("server_error", _("Something went wrong on our side."), request)
        return Response(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    response.data = error_body(_code(exc), _message(exc), request, _fields(exc))
    return response


def _code(exc) -> str:
    if isinstance(exc, ApiError):
        return exc.error_code
    return next((code for kind, code in CODES.items() if isinstance(exc, kind)), "error")


def _message(exc) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return _("Some fields are not valid.")
    detail = exc.detail
    return str(detail if not isinstance(detail, list | dict) else exc.default_detail)


def _fields(exc) -> dict:
    if isinstance(exc, ApiError):
        return exc.fields
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        return {name: _strings(value) for name, value in exc.detail.items()}
    if isinstance(exc, exceptions.ValidationError):
        return {"non_field_errors": _strings(exc.detail)}
    return {}


def _strings(value) -> list[str] | dict:
    if isinstance(value, dict):
        return {name: _strings(item) for name, item in value.items()}
    if isinstance(value, list):
        flat: list = []
        for item in value:
            flat += _strings(item) if isinstance(item, list) else [item]
        return [str(item) if not isinstance(item, dict) else _strings(item) for item in flat]
    return [str(value)]


@csrf_exempt  # a POST too gets the API's 404, not the site's CSRF page
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any path under /api/v1/ that names nothing: a 404 in the API's shape, not a page."""
    body = error_body("not_found", _("No such endpoint."), request)
    return JsonResponse(body, status=404)

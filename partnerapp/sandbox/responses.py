"""The provider's response shapes: `{item}`, `{items, pagination}` and `{code, message, meta}`."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse

MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    402: "Feature limit reached",
    403: "Forbidden",
    404: "Entity not found",
    405: "Method not allowed",
    413: "Request entity too large",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Application offline",
    504: "Gateway timeout",
}


class ApiProblem(Exception):
    """Raised anywhere in an API view; rendered as the provider's error body.

    `headers` go on the answer too (a 405's `Allow`)."""

    def __init__(
        self,
        status: int,
        message: str = "",
        *,
        meta: dict[str, Any] | None = None,
        code=None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message or MESSAGES.get(status, "Error"))
        self.status = status
        self.message = message or MESSAGES.get(status, "Error")
        self.meta = meta
        self.code = code if code is not None else status
        self.headers = headers or {}


def error_response(
    status: int,
    message: str = "",
    *,
    meta: dict[str, Any] | None = None,
    code=None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    return problem_response(ApiProblem(status, message, meta=meta, code=code, headers=headers))


def problem_response(problem: ApiProblem) -> HttpResponse:
    if problem.status == 403 and problem.meta is None:
        response = empty_response(403)  # "no permission": the provider sends no body
    else:
        body: dict[str, Any] = {"code": problem.code, "message": problem.message}
        if problem.meta is not None:
            body["meta"] = problem.meta
        response = JsonResponse(body, status=problem.status)
    for name, value in problem.headers.items():
        response[name] = value
    return response


def empty_response(status: int) -> HttpResponse:
    """No body, so no Content-Type either (Django would call nothing text/html)."""
    response = HttpResponse(status=status)
    del response["Content-Type"]
    return response


def item_response(item: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse({"item": item}, status=status)


def validation_problem(errors: list[tuple[str, str]]) -> ApiProblem:
    """422 with `meta.errors`: one `{key, code, message}` per invalid field."""
    return ApiProblem(
        422,
        meta={
            "errors": [
                {"key": key, "code": 1000 + index, "message": message}
                for index, (key, message) in enumerate(errors)
            ]
        },
    )

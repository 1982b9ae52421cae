"""Structured logs: a per-request id, job ids and provider request ids on every line.

One logging context per request or Celery task lives in a `contextvars.ContextVar`;
`ContextFilter` copies it onto every log record, so the JSON formatter emits it as
fields and the plain formatter appends it. Code binds what it knows:

    with bound(provider_request_id=result.request_id):
        logger.info("invoice sent")

`RequestIdMiddleware` binds `request_id` for each HTTP request (and answers it in
`X-Request-Id`); the Celery signals below bind `task`, `task_id` and, when the task
has a `job_id` argument, `job_id`. Both formatters redact anything that looks like
a credential, as a second line of defence: no code should log one in the first place.
"""

from __future__ import annotations

import inspect
import logging
import logging.config
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from celery import signals
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

_context: ContextVar[dict[str, Any] | None] = ContextVar("partnerapp_log_context", default=None)
access_logger = logging.getLogger("partnerapp.request")

# -- the context ---------------------------------------------------------------------------


def context() -> dict[str, Any]:
    """What is bound right now (a copy)."""
    return dict(_context.get() or {})


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add `fields` to every log line written inside the block."""
    token = _context.set({**context(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: Any) -> None:
    """Add `fields` until the surrounding request or task ends (prefer `bound`)."""
    _context.set({**context(), **fields})


def clear() -> None:
    _context.set(None)


class ContextFilter(logging.Filter):
    """Copies the bound context onto the record (never overwriting the record's own fields)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        record.log_context = context()
        return True


# -- never a secret --------------------------------------------------------------------------


class CredentialLibrariesFilter(logging.Filter):
    """Drops DEBUG and INFO records of the OAuth libraries, whatever their logger levels say.

    oauthlib and requests-oauthlib log token bodies, refresh tokens and the client secret
    in free text at DEBUG ("Validating refresh token <token> for client ..."), which no
    pattern can reliably redact. Settings pin them to WARNING; this filter on the handler
    keeps that true even when someone turns every logger up to DEBUG.
    """

    PREFIXES = ("oauthlib", "requests_oauthlib")

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.name.startswith(self.PREFIXES)


# key=value (query strings, form bodies, reprs) and "key": "value" (JSON, also JSON-escaped).
_SECRET_KEYS = "|".join(  # names of secrets, not secrets
    [
        "access_token",
        "refresh_token",
        "client_secret",
        "password",
        "secret_key",
        "authorization_code",
    ]
)
_SECRET_PAIR = re.compile(
    rf"(?i)((?:{_SECRET_KEYS})\\?[\"']?\s*[:=]\s*\\?[\"']?)([^\"'\s&,;\\}}]+)"
)
# The OAuth2 authorization code, in a query string or a form body.
_QUERY_CODE = re.compile(r"((?:^|[?&\s'\"])code=)([^&\s\"']+)")
_BEARER = re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._~+/=-]+)")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    for pattern in (_SECRET_PAIR, _QUERY_CODE, _BEARER):
        text = pattern.sub(rf"\1{REDACTED}", text)
    return text


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message and the bound context."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("timestamp", "time")  # ISO 8601, UTC
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "log_context"])
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class PlainFormatter(logging.Formatter):
    """Human-readable lines for development, with the bound context appended."""

    def __init__(self, fmt: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        bound_fields = getattr(record, "log_context", None) or {}
        if bound_fields:
            line += " [" + " ".join(f"{k}={v}" for k, v in bound_fields.items()) + "]"
        return redact(line)


# -- HTTP requests --------------------------------------------------------------------------

_TRUSTED_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


class RequestIdMiddleware:
    """Gives each request an id, binds it for logging, answers it, and logs one access line.

    With REQUEST_ID_TRUST_HEADER on, a well-formed `X-Request-Id` set by the proxy in
    front is kept, so the proxy's and our logs share the id. The access line carries
    the path without its query string (search terms are customer data; OAuth2
    callbacks carry a code).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = self._request_id(request)
        started = time.monotonic()
        with bound(request_id=request.request_id):
            response = self.get_response(request)
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "http_method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        # The sandbox answers its own provider X-Request-Id; that one stays.
        if "X-Request-Id" not in response:
            response["X-Request-Id"] = request.request_id
        return response

    def _request_id(self, request) -> str:
        from django.conf import settings

        incoming = request.headers.get("X-Request-Id", "")
        if settings.REQUEST_ID_TRUST_HEADER and _TRUSTED_ID.fullmatch(incoming):
            return incoming
        return uuid.uuid4().hex


# -- Celery ----------------------------------------------------------------------------------


@signals.setup_logging.connect
def _celery_uses_django_logging(**kwargs: Any) -> None:
    """Workers and beat log through settings.LOGGING (JSON in production), not Celery's format.

    Connecting this signal also stops Celery from hijacking the root logger.
    """
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.task_prerun.connect
def _bind_task(task_id: str = "", task=None, args=(), kwargs=None, **_: Any) -> None:
    fields: dict[str, Any] = {"task": getattr(task, "name", ""), "task_id": task_id}
    job_id = _job_id_argument(task, args or (), kwargs or {})
    if job_id is not None:
        fields["job_id"] = job_id
    clear()
    bind(**fields)


@signals.task_postrun.connect
def _unbind_task(**_: Any) -> None:
    clear()


def _job_id_argument(task, args: tuple, kwargs: dict) -> Any:
    """The value of the task's `job_id` parameter, whether passed by position or name."""
    if "job_id" in kwargs:
        return kwargs["job_id"]
    try:
        parameters = list(inspect.signature(task.run).parameters)
    except (TypeError, ValueError, AttributeError):
        return None
    if "job_id" in parameters and parameters.index("job_id") < len(args):
        return args[parameters.index("job_id")]
    return None

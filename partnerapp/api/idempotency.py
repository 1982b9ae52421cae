"""Idempotency keys on POST (Stripe's semantics), kept per organization for 24 hours.

The first request with a key INSERTs its row (ON CONFLICT DO NOTHING): exactly one
concurrent request wins and runs; the others find the row and answer

- 409 `idempotency_in_flight` while the winner still runs (the row has no status yet);
- 422 `idempotency_mismatch` when their method, path or body differ from the winner's;
- the winner's status and body, with `Idempotent-Replayed: true`, once it finished.

Answers below 500 are kept (a 400 stays a 400 on retry, as at Stripe); a 5xx or a
crash releases the key, so the client's retry runs again. A process killed mid-request
cannot release it: its row counts as in flight for API_IDEMPOTENCY_LOCK_SECONDS, after
which the next request takes it over (a conditional UPDATE, again one winner). Rows
expire after API_IDEMPOTENCY_HOURS; `idempotency_purge` (celery beat) deletes them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import connection as db
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response

from partnerapp.api.errors import ApiError
from partnerapp.api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Claim:
    """The outcome of presenting a key: `record` is ours to run (`won`) or someone's."""

    record: IdempotencyRecord
    won: bool


def fingerprint(request) -> str:
    """What makes two requests "the same": method, path and the exact body bytes."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotency_claim(*, organization_id: int, key: str, fingerprint: str) -> Claim:
    """Take `key` for this request, or say who holds it (see the module's docstring)."""
    now = timezone.now()
    expires = now + timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    with db.cursor() as cursor:
        cursor.execute(
            "INSERT INTO api_idempotencyrecord"
            " (organization_id, key, fingerprint, status, body, content_type,"
            " created_at, expires_at)"
            " VALUES (%s, %s, %s, NULL, ''::bytea, '', %s, %s)"
            " ON CONFLICT (organization_id, key) DO NOTHING RETURNING id",
            [organization_id, key, fingerprint, now, expires],
        )
        inserted = cursor.fetchone()
    if inserted:
        return Claim(IdempotencyRecord.objects.get(pk=inserted[0]), won=True)
    record = IdempotencyRecord.objects.get(organization_id=organization_id, key=key)
    if _take_over(record, fingerprint=fingerprint, now=now, expires=expires):
        record.refresh_from_db()
        return Claim(record, won=True)
    return Claim(record, won=False)


def _take_over(record: IdempotencyRecord, *, fingerprint: str, now, expires) -> bool:
    """An expired row, or one whose request died in flight, is free again: the first
    request to UPDATE it (conditionally) runs."""
    stale = now - timedelta(seconds=settings.API_IDEMPOTENCY_LOCK_SECONDS)
    expired = record.expires_at <= now
    abandoned = record.status is None and record.created_at <= stale
    if not (expired or abandoned):
        return False
    rows = IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at)
    return bool(
        rows.update(
            fingerprint=fingerprint, status=None, body=b"", created_at=now, expires_at=expires
        )
    )


def idempotency_finish(record: IdempotencyRecord, *, status: int, data) -> None:
    """Keep the answer for retries; a server error releases the key instead."""
    if status >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk, status=None).delete()
        return
    body = json.dumps(data, default=str).encode()
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status=status, body=body, content_type="application/json"
    )


def idempotency_purge() -> int:
    """Delete the rows past their 24 hours; returns how many."""
    removed, _counts = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return removed


def answer_for(claim: Claim, fingerprint: str) -> Response:
    """What a request that lost the claim gets: an error, or the kept answer."""
    record = claim.record
    if record.fingerprint != fingerprint:
        raise ApiError(
            422,
            "idempotency_mismatch",
            _("This Idempotency-Key was used with another request; use a new key."),
        )
    if record.status is None:
        raise ApiError(
            409,
            "idempotency_in_flight",
            _("A request with this Idempotency-Key is still running; retry later."),
        )
    data = json.loads(bytes(record.body)) if record.body else None
    return Response(data, status=record.status, headers={"Idempotent-Replayed": "true"})


def idempotent(handler):
    """Decorate a view's `post`: with an Idempotency-Key header it runs at most once per
    key and body; without one it simply runs."""

    @wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                400,
                "invalid",
                _("The Idempotency-Key is too long."),
                {HEADER: [_("At most 255 characters.")]},
            )
        digest = fingerprint(request._request)
        claim = idempotency_claim(
            organization_id=request.user.organization.pk, key=key, fingerprint=digest
        )
        if not claim.won:
            return answer_for(claim, digest)
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:  # the answer an error gets is kept like any other
            try:
                response = view.handle_exception(exc)
            except Exception:
                idempotency_finish(claim.record, status=500, data=None)
                raise
        idempotency_finish(claim.record, status=response.status_code, data=response.data)
        return response

    return wrapper

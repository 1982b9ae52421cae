"""The provider's rate limit: a fixed window of calls per (owner, client).

The budget comes from the fault profile in force (default SANDBOX_RATE_LIMIT calls
per SANDBOX_RATE_LIMIT_PERIOD seconds), so it can change while the sandbox runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from partnerapp.sandbox.models import Client, Owner, RateWindow


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    exceeded: bool = False

    @classmethod
    def untouched(cls) -> RateState:
        """For answers given before we know whose budget it is (e.g. a 401)."""
        limit = settings.SANDBOX_RATE_LIMIT
        return cls(limit=limit, remaining=limit, reset=settings.SANDBOX_RATE_LIMIT_PERIOD)


@transaction.atomic
def take_permit(owner: Owner, client: Client, *, limit: int, period: int) -> RateState:
    """Count one call; `exceeded` when the window's budget was already spent."""
    now = timezone.now()
    RateWindow.objects.get_or_create(owner=owner, client=client, defaults={"window_start": now})
    window = RateWindow.objects.select_for_update().get(owner=owner, client=client)
    if now >= window.window_start + timedelta(seconds=period):
        window.window_start, window.count = now, 0
    exceeded = window.count >= limit
    if not exceeded:
        window.count += 1
    window.save(update_fields=["window_start", "count"])
    ends = window.window_start + timedelta(seconds=period)
    return RateState(
        limit=limit,
        remaining=max(0, limit - window.count),
        reset=max(0, int((ends - now).total_seconds() + 0.999)),
        exceeded=exceeded,
    )

"""Fault injection: latency, 429/500/503, lost responses and forced token expiry;
and how the token endpoint behaves (the shape of its refusals, revoking on refresh).

Faults live in `FaultProfile` rows so every process serving the sandbox (the web
server, a separate sandbox server, the test process) sees a change at once. The
`endpoint` decorator asks for a `FaultPlan` after authentication, so faulted
responses still carry the rate-limit and request-id headers.

Determinism: with a seed, each request's dice come from (seed, owner, n) where n
counts the requests the profile has seen; setting a seed restarts the count. The
same sequence of requests therefore meets the same faults, in any process.

"Lost response" is only rolled for writes (POST, PUT, PATCH, DELETE) that
succeeded: the action is done and committed, then the client gets a 502/504, or
the response is held past its read timeout (`hold`) so it sees a timeout. A truly
reset TCP connection is not offered: WSGI gives no portable handle on the socket.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.utils import timezone

from partnerapp.sandbox.models import AccessToken, FaultProfile, Owner
from partnerapp.sandbox.responses import error_response

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a command or page may change; `requests_seen` and the ownership fields are ours.
EDITABLE = (
    "latency_ms",
    "jitter_ms",
    "p429",
    "p500",
    "p503",
    "p_lost",
    "lost_mode",
    "lost_hold_seconds",
    "expire_next_tokens",
    "token_lifetime",
    "rate_limit",
    "rate_limit_period",
    "invoice_limit",
    "missing_features",
    "seed",
    "token_error_style",
    "revoke_access_on_refresh",
)


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one request: wait `delay` s, then fail with `status` or go on;
    `lost`: do the action, then lose the response."""

    delay: float = 0.0
    status: int | None = None
    lost: bool = False


# -- which profile applies -------------------------------------------------------------------


def default_profile() -> FaultProfile:
    """The global profile as settings describe it (unsaved), for when no row exists."""
    return FaultProfile(
        is_global=True,
        latency_ms=settings.SANDBOX_FAULT_LATENCY_MS,
        jitter_ms=settings.SANDBOX_FAULT_JITTER_MS,
        p429=settings.SANDBOX_FAULT_P429,
        p500=settings.SANDBOX_FAULT_P500,
        p503=settings.SANDBOX_FAULT_P503,
        p_lost=settings.SANDBOX_FAULT_P_LOST,
        lost_mode=settings.SANDBOX_FAULT_LOST_MODE,
        lost_hold_seconds=settings.SANDBOX_FAULT_LOST_HOLD_SECONDS,
        seed=settings.SANDBOX_FAULT_SEED,
        token_error_style=settings.SANDBOX_TOKEN_ERROR_STYLE,
        revoke_access_on_refresh=settings.SANDBOX_REVOKE_ACCESS_ON_REFRESH,
    )


def profile_for(owner: Owner | None) -> FaultProfile:
    """The owner's own profile, else the global row, else the settings' defaults."""
    condition = Q(is_global=True) | (Q(owner=owner) if owner else Q(pk__in=[]))
    rows = {row.owner_id: row for row in FaultProfile.objects.filter(condition)}
    return rows.get(owner.pk if owner else None) or rows.get(None) or default_profile()


def rate_budget(profile: FaultProfile) -> tuple[int, int]:
    """(calls, seconds) of the rate limit in force."""
    return (
        profile.rate_limit if profile.rate_limit is not None else settings.SANDBOX_RATE_LIMIT,
        profile.rate_limit_period or settings.SANDBOX_RATE_LIMIT_PERIOD,
    )


def token_lifetime(profile: FaultProfile) -> int:
    return profile.token_lifetime or settings.SANDBOX_ACCESS_TOKEN_LIFETIME


# -- rolling the dice ------------------------------------------------------------------------


def injects_anything(profile: FaultProfile) -> bool:
    return bool(
        profile.latency_ms
        or profile.jitter_ms
        or profile.p429
        or profile.p500
        or profile.p503
        or profile.p_lost
    )


def plan(profile: FaultProfile, *, owner: Owner, method: str) -> FaultPlan:
    """Roll this request's faults. Three draws, always in the same order."""
    if not injects_anything(profile):
        return FaultPlan()
    dice = _dice(profile, owner)
    jitter, failure, loss = dice.random(), dice.random(), dice.random()
    return FaultPlan(
        delay=(profile.latency_ms + jitter * profile.jitter_ms) / 1000,
        status=_injected_status(profile, failure),
        lost=method in WRITES and loss < profile.p_lost,
    )


def _injected_status(profile: FaultProfile, roll: float) -> int | None:
    threshold = 0.0
    for status, probability in ((429, profile.p429), (500, profile.p500), (503, profile.p503)):
        threshold += probability
        if roll < threshold:
            return status
    return None


def _dice(profile: FaultProfile, owner: Owner) -> random.Random:
    if profile.seed is None:
        return random.Random()
    if profile.pk is None:  # seeded by settings: the count must live in the database
        profile = _saved_global(profile)
    return random.Random(f"{profile.seed}:{owner.pk}:{_count_request(profile)}")


@transaction.atomic
def _count_request(profile: FaultProfile) -> int:
    """This request's number under the profile, unique across processes."""
    rows = FaultProfile.objects.filter(pk=profile.pk)
    rows.update(requests_seen=F("requests_seen") + 1)
    return rows.values_list("requests_seen", flat=True).get()


def _saved_global(profile: FaultProfile) -> FaultProfile:
    fields = {name: getattr(profile, name) for name in EDITABLE}
    row, _ = FaultProfile.objects.get_or_create(is_global=True, defaults=fields)
    return row


# -- applying a plan ---------------------------------------------------------------------------


def wait(fault_plan: FaultPlan) -> None:
    if fault_plan.delay > 0:
        time.sleep(fault_plan.delay)


def lose(profile: FaultProfile, response: HttpResponse) -> HttpResponse:
    """The action happened; the client must not learn it."""
    if profile.lost_mode == "hold":
        time.sleep(profile.lost_hold_seconds)  # past the client's read timeout
        return response
    return error_response(int(profile.lost_mode))


def claim_forced_expiry(profile: FaultProfile, token: AccessToken) -> bool:
    """True when this call must find its token expired (and the token now is)."""
    if profile.pk is None or profile.expire_next_tokens <= 0:
        return False
    claimed = FaultProfile.objects.filter(pk=profile.pk, expire_next_tokens__gt=0).update(
        expire_next_tokens=F("expire_next_tokens") - 1
    )
    if claimed:
        AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    return bool(claimed)


# -- changing profiles (the command and the page) ---------------------------------------------


@transaction.atomic
def profile_update(*, owner: Owner | None, changes: dict[str, Any]) -> FaultProfile:
    """Change the owner's profile (None: the global one), creating it as a copy first.

    Setting a seed restarts the request count, so the fault sequence starts over.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not a fault setting: {', '.join(sorted(unknown))}")
    profile = _own_row(owner)
    for name, value in changes.items():
        setattr(profile, name, value)
    if "seed" in changes:
        profile.requests_seen = 0
    profile.full_clean()
    profile.save()
    return profile


def _own_row(owner: Owner | None) -> FaultProfile:
    lookup = {"owner": owner} if owner else {"is_global": True}
    row = FaultProfile.objects.select_for_update().filter(**lookup).first()
    if row is not None:
        return row
    template = profile_for(None)
    fields = {name: getattr(template, name) for name in EDITABLE}
    return FaultProfile(owner=owner, is_global=owner is None, **fields)


def profile_reset(*, owner: Owner | None) -> None:
    """Forget the owner's profile (back to the global one), or the global one (to settings)."""
    if owner is None:
        FaultProfile.objects.filter(is_global=True).delete()
    else:
        FaultProfile.objects.filter(owner=owner).delete()


def profile_reset_all() -> None:
    FaultProfile.objects.all().delete()


def tokens_expire_now(*, owner: Owner) -> int:
    """Every live access token of the owner counts as expired from now on; how many."""
    now = timezone.now()
    live = AccessToken.objects.filter(owner=owner, expires_at__gt=now, revoked_at=None)
    return live.update(expires_at=now)


def describe(profile: FaultProfile) -> dict[str, Any]:
    """The profile as plain values (the command prints it; the page shows it)."""
    values = model_to_dict(profile, fields=EDITABLE)
    values["scope"] = "global" if profile.is_global else f"owner {profile.owner_id}"
    values["saved"] = profile.pk is not None
    values["requests_seen"] = profile.requests_seen
    return values

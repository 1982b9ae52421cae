"""Running a job: claim an item, act on it, record the outcome — at most once per item.

The claim is one conditional UPDATE (pending → sending). The call to the
provider happens outside any transaction, and its outcome is written right
after. When the outcome is unknown (5xx, a lost response, a crash between
claim and record) the item is reconciled by reading the document back: a
draft that became "sent" is `sent`; anything else is `uncertain` and waits for
a person. Nothing is re-sent automatically.

Work happens in slices of JOB_SLICE_SECONDS: a slice holds one of the account's
work slots, then re-enqueues itself behind every other job's slices, so a huge
job of one account never starves a small job of another.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import (
    CallContext,
    ClientCredentialsRefused,
    ConnectionUnusable,
    connection_call,
)
from partnerapp.jobs import ledger, notifications, slots, states
from partnerapp.jobs.actions import missing_scope_message
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.smartbusiness.errors import (
    ApiError,
    ConnectFailed,
    Forbidden,
    MissingScope,
    ServerError,
    SmartBusinessError,
    TooManyRequests,
    TransportError,
    Unauthorized,
)

logger = logging.getLogger(__name__)
Item = JobItem.State
Job = BatchJob.Status
CONNECT_RETRY_DELAYS = (5, 15, 60)  # seconds; then the item fails
SEND_MAX_PACING_WAIT = 2.0  # longer waits end the slice and come back at the reset
RECONCILE_MAX_PACING_WAIT = 120.0  # a verdict on an unclear send is worth waiting for
SLOT_BUSY_DELAY = 1.0  # all of the account's slots are taken: look again in a second
REFUSED_TOKEN_DELAY = 5.0  # even a freshly refreshed token was refused: try again soon
# Pause and cancel must take effect within 2 s; looking twice a second (one UPDATE that
# is also the heartbeat) is enough and spares a query per item on fast providers.
STATUS_CHECK_INTERVAL = 0.5


@dataclass(frozen=True)
class SliceOutcome:
    more: bool  # the job has work left for this chain
    delay: float = 0  # seconds to wait before the next slice (429: until the reset)


STOP = SliceOutcome(more=False)


def job_work(*, job_id: int, seconds: float) -> SliceOutcome:
    """Act on items of one job for up to `seconds`, holding one of the account's slots."""
    job = BatchJob.objects.select_related("connection", "user").get(pk=job_id)
    if job.status == Job.QUEUED:
        states.job_move(
            job,
            target=Job.RUNNING,
            sources={Job.QUEUED},
            started_at=job.started_at or timezone.now(),
        )
    if job.status != Job.RUNNING:
        return STOP
    holder = uuid.uuid4().hex
    lease = seconds + 2 * settings.SMARTBUSINESS_READ_TIMEOUT + RECONCILE_MAX_PACING_WAIT
    if not slots.slot_take(job.connection_id, holder=holder, seconds=lease):
        return SliceOutcome(more=True, delay=SLOT_BUSY_DELAY)
    try:
        return _work(job, deadline=time.monotonic() + seconds)
    finally:
        slots.slot_release(job.connection_id, holder=holder)


def _work(job: BatchJob, *, deadline: float) -> SliceOutcome:
    checked = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() - checked >= STATUS_CHECK_INTERVAL:
            still_running = BatchJob.objects.filter(pk=job.pk, status=Job.RUNNING)
            if not still_running.update(heartbeat_at=timezone.now()):
                return STOP  # paused or cancelled meanwhile
            checked = time.monotonic()
        item = item_claim_next(job)
        if item is None:
            return _wait_or_finish(job)
        outcome = item_perform(job, item)
        if outcome is not None:
            return outcome
    return SliceOutcome(more=True)


def item_claim_next(job: BatchJob) -> JobItem | None:
    """Claim the first due pending item (pending → sending), or None if none is due.

    The claim and the ledger row of the item's document action are one transaction:
    an item whose document another job holds ends `skipped` instead (ledger.py).
    """
    while True:
        with transaction.atomic():
            item = states.item_claim_due(job_id=job.pk, now=timezone.now())
            if item is None:
                return None
            held = ledger.claim_take(job=job, item=item)
            if held is None:
                return item
            ledger.item_lose(job=job, item=item, held=held)


def _wait_or_finish(job: BatchJob) -> SliceOutcome:
    """No item is due: finish the job, or come back when a backed-off item is."""
    waiting = job.items.filter(state=Item.PENDING).order_by("not_before").first()
    if waiting is not None:
        wait = (waiting.not_before - timezone.now()).total_seconds() if waiting.not_before else 0
        return SliceOutcome(more=True, delay=max(0.5, wait))
    if not job.items.filter(state=Item.SENDING).exists():
        job_finish(job)
    return STOP


def job_finish(job: BatchJob) -> None:
    if states.job_move(job, target=Job.DONE, sources={Job.RUNNING}, finished_at=timezone.now()):
        from partnerapp.jobs.services import job_counts

        notifications.job_finished_notify(job, job_counts(job))


def item_perform(job: BatchJob, item: JobItem) -> SliceOutcome | None:
    """Act on one claimed item and record what happened. A SliceOutcome ends the slice."""
    context = CallContext(job_id=job.pk, job_item_id=item.pk, max_wait=SEND_MAX_PACING_WAIT)
    try:
        result = connection_call(
            job.connection, lambda api: job.spec.perform(api, item, job.parameters), context
        )
    except ConnectionUnusable as exc:
        _release(item, outcome=str(exc))
        job_pause_for_reauth(job, reason=str(exc))
        return STOP
    except ClientCredentialsRefused as exc:  # the operator's problem: wait, lose nothing
        retry = ClientCredentialsRefused.RETRY_AFTER
        _release(item, outcome=str(exc), delay=retry)
        return SliceOutcome(more=True, delay=retry)
    except Unauthorized:  # refused before it acted, even with a fresh token: not an attempt
        outcome = _("The provider refused the access token; trying again shortly.")
        _release(item, outcome=outcome, delay=REFUSED_TOKEN_DELAY)
        return None
    except PacingWait as exc:
        _release(item, outcome=_("Waiting for the provider's rate limit to reset."))
        return SliceOutcome(more=True, delay=exc.retry_after)
    except TooManyRequests as exc:
        _release(item, outcome=_("Rate limit reached; waiting for the provider's reset."))
        return SliceOutcome(more=True, delay=exc.retry_after)
    except ConnectFailed as exc:
        _retry_later_or_fail(item, exc)
        return None
    except (ServerError, TransportError) as exc:
        item_reconcile(job, item, cause=exc)
        return None
    except (ApiError, SmartBusinessError) as exc:
        _finish(item, Item.FAILED, outcome=_failure_sentence(exc, job), error=exc)
        return None
    _finish(item, Item.SENT, outcome="", request_id=result.request_id)
    return None


def _release(item: JobItem, *, outcome: str, delay: float = 0) -> None:
    """Back to pending: the provider provably did not act, so this was no attempt."""
    not_before = timezone.now() + timedelta(seconds=delay) if delay else None
    _unclaim(
        item,
        target=Item.PENDING,
        attempts=F("attempts") - 1,
        outcome=outcome,
        not_before=not_before,
    )


def _unclaim(item: JobItem, *, target: str, **changes) -> None:
    """Leave `sending` without having acted: the document's ledger row goes with it."""
    with transaction.atomic():
        items = JobItem.objects.filter(pk=item.pk)
        if states.item_move(items, source=Item.SENDING, target=target, **changes):
            ledger.claims_release([item.pk])


def _retry_later_or_fail(item: JobItem, exc: ConnectFailed) -> None:
    if item.attempts > len(CONNECT_RETRY_DELAYS):
        _finish(item, Item.FAILED, outcome=_failure_sentence(exc, job=None), error=exc)
        return
    delay = CONNECT_RETRY_DELAYS[item.attempts - 1]
    _unclaim(
        item,
        target=Item.PENDING,
        not_before=timezone.now() + timedelta(seconds=delay),
        outcome=_("Provider unreachable; trying again in %(s)d s.") % {"s": delay},
    )


def _finish(
    item: JobItem,
    state: str,
    *,
    outcome: str,
    error=None,
    request_id: str = "",
    source: str = Item.SENDING,
) -> None:
    changes = {"outcome": outcome, "finished_at": timezone.now()}
    if error is not None:
        changes.update(
            error_status=error.status, error_detail=error.detail(), request_id=error.request_id
        )
    if request_id:
        changes["request_id"] = request_id
    if state == Item.FAILED:  # the provider refused: it did not act
        _unclaim(item, target=state, **changes)
        return
    states.item_move(JobItem.objects.filter(pk=item.pk), source=source, target=state, **changes)


def item_reconcile(job: BatchJob, item: JobItem, *, cause: Exception | None) -> str:
    """Decide an item whose call may or may not have happened, by reading the document back."""
    reason = cause.message if isinstance(cause, SmartBusinessError) else _("the worker stopped")
    context = CallContext(job_id=job.pk, job_item_id=item.pk, max_wait=RECONCILE_MAX_PACING_WAIT)
    try:
        document = connection_call(
            job.connection, lambda api: api.document(job.spec.kind, item.document_id), context
        )
        after = str(document.get("status", ""))
    except (SmartBusinessError, ConnectionUnusable, PacingWait) as exc:
        logger.info("item %s: could not reconcile: %s", item.pk, exc)
        after = None
    took_effect = job.spec.took_effect(item.document_status, after, job.parameters)
    state = Item.SENT if took_effect else Item.UNCERTAIN
    outcome = (
        _("Confirmed done after an unclear answer (%(reason)s).")
        if took_effect
        else _("Unclear whether it was done (%(reason)s); not repeated automatically. Review it.")
    ) % {"reason": reason}
    error = cause if isinstance(cause, SmartBusinessError) else None
    _finish(item, state, outcome=outcome, error=error)
    return state


def _failure_sentence(exc: SmartBusinessError, job: BatchJob | None) -> str:
    scope = _missing_scope(exc, job)
    if scope:
        return missing_scope_message(scope)
    fields = "; ".join(f"{e.key}: {e.message}" for e in exc.field_errors)
    status = f"{exc.status} " if exc.status else ""
    return f"{status}{exc.message}" + (f" — {fields}" if fields else "")


def _missing_scope(exc: SmartBusinessError, job: BatchJob | None) -> str:
    """The scope a refusal is about: the provider's 400 code 11, or a bare 403 for an
    action whose scope the connection was never granted."""
    needed = job.spec.required_scope if job is not None else ""
    if isinstance(exc, MissingScope):
        return exc.scope or needed
    bare_forbidden = isinstance(exc, Forbidden) and not exc.meta
    if bare_forbidden and job is not None and needed not in job.connection.scope_list:
        return needed
    return ""


def job_pause_for_reauth(job: BatchJob, *, reason: str) -> None:
    paused = states.job_move(
        job,
        target=Job.PAUSED,
        sources={Job.RUNNING, Job.QUEUED},
        pause_reason=BatchJob.PauseReason.NEEDS_REAUTH,
        error=reason,
    )
    if paused:
        notifications.job_paused_notify(job)


def sweep_stale_sending(*, older_than: int | None = None) -> int:
    """Reconcile items stuck in `sending` (their worker died between claim and record)."""
    age = settings.JOB_STALE_SENDING_SECONDS if older_than is None else older_than
    stale = JobItem.objects.filter(
        state=Item.SENDING, claimed_at__lt=timezone.now() - timedelta(seconds=age)
    ).select_related("job__connection")
    count = 0
    for item in stale[:500]:
        item_reconcile(item.job, item, cause=None)
        count += 1
    return count


def sweep_stalled_jobs(*, older_than: int | None = None) -> list[int]:
    """Jobs whose work chains all died (no heartbeat for a while): the ids to start again."""
    age = settings.JOB_STALE_SENDING_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=age)
    quiet = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    stalled = BatchJob.objects.filter(quiet, status__in=[Job.QUEUED, Job.RUNNING])
    return list(stalled.values_list("pk", flat=True))

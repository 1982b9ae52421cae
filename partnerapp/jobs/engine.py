"""Running a job: claim an item, send it, record the outcome — at most once per item.

The claim is one conditional UPDATE (pending → sending). The call to the
provider happens outside any transaction, and its outcome is written right
after. When the outcome is unknown (5xx, a lost response, a crash between
claim and record) the item is reconciled by reading the document back: a
draft that became "sent" is `sent`; anything else is `uncertain` and waits for
a person. Nothing is re-sent automatically.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import CallContext, ConnectionUnusable, connection_call
from partnerapp.jobs import states
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.smartbusiness.client import DocumentKind, EmailSender, Recipient
from partnerapp.smartbusiness.errors import (
    ApiError,
    ConnectFailed,
    ServerError,
    SmartBusinessError,
    TooManyRequests,
    TransportError,
)

logger = logging.getLogger(__name__)
Item = JobItem.State
Job = BatchJob.Status
CONNECT_RETRY_DELAYS = (5, 15, 60)  # seconds; then the item fails
SEND_MAX_PACING_WAIT = 2.0  # longer waits end the slice and come back at the reset
RECONCILE_MAX_PACING_WAIT = 120.0  # a verdict on an unclear send is worth waiting for


@dataclass(frozen=True)
class SliceOutcome:
    more: bool  # the job has work left for this chain
    delay: float = 0  # seconds to wait before the next slice (429: until the reset)


STOP = SliceOutcome(more=False)


def job_work(*, job_id: int, seconds: float) -> SliceOutcome:
    """Send items of one job for up to `seconds`; then yield the worker to other jobs."""
    job = BatchJob.objects.select_related("connection").get(pk=job_id)
    if job.status == Job.QUEUED:
        states.job_move(
            job,
            target=Job.RUNNING,
            sources={Job.QUEUED},
            started_at=job.started_at or timezone.now(),
        )
    if job.status != Job.RUNNING:
        return STOP
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
        if _job_status(job) != Job.RUNNING:  # paused or cancelled meanwhile
            return STOP
        item = item_claim_next(job)
        if item is None:
            return _wait_or_finish(job)
        outcome = item_send(job, item)
        if outcome is not None:
            return outcome
    return SliceOutcome(more=True)


def _job_status(job: BatchJob) -> str:
    return BatchJob.objects.values_list("status", flat=True).get(pk=job.pk)


def item_claim_next(job: BatchJob) -> JobItem | None:
    """Claim the next due pending item with one conditional UPDATE, or None if none is due."""
    due = Q(not_before__isnull=True) | Q(not_before__lte=timezone.now())
    for candidate in job.items.filter(due, state=Item.PENDING).values_list("pk", flat=True)[:5]:
        claimed = states.item_move(
            JobItem.objects.filter(pk=candidate),
            source=Item.PENDING,
            target=Item.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=timezone.now(),
        )
        if claimed:
            return JobItem.objects.get(pk=candidate)
    return None


def _wait_or_finish(job: BatchJob) -> SliceOutcome:
    """No item is due: finish the job, or come back when a backed-off item is."""
    waiting = job.items.filter(state=Item.PENDING).order_by("not_before").first()
    if waiting is not None:
        wait = (waiting.not_before - timezone.now()).total_seconds() if waiting.not_before else 0
        return SliceOutcome(more=True, delay=max(0.5, wait))
    if not job.items.filter(state=Item.SENDING).exists():
        states.job_move(job, target=Job.DONE, sources={Job.RUNNING}, finished_at=timezone.now())
    return STOP


def item_send(job: BatchJob, item: JobItem) -> SliceOutcome | None:
    """Send one claimed item and record what happened. A SliceOutcome stops the slice."""
    params = job.parameters
    recipients = [Recipient(email=item.recipient_email, name=item.recipient_name)]

    def send(api):
        return api.send_by_email(
            DocumentKind.INVOICE,
            item.document_id,
            subject=params["subject"],
            body=params["body"],
            recipients=recipients,
            receipt=bool(params.get("receipt")),
            sender=EmailSender(params["sender"]) if params.get("sender") else None,
        )

    context = CallContext(job_id=job.pk, job_item_id=item.pk, max_wait=SEND_MAX_PACING_WAIT)
    try:
        result = connection_call(job.connection, send, context)
    except ConnectionUnusable as exc:
        _release(item, outcome=str(exc))
        job_pause_for_reauth(job, reason=str(exc))
        return STOP
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
        _finish(item, Item.FAILED, outcome=_failure_sentence(exc), error=exc)
        return None
    _finish(item, Item.SENT, outcome="", request_id=result.request_id)
    return None


def _release(item: JobItem, *, outcome: str) -> None:
    """Back to pending: the provider provably did not act, so this was no attempt."""
    states.item_move(
        JobItem.objects.filter(pk=item.pk),
        source=Item.SENDING,
        target=Item.PENDING,
        attempts=F("attempts") - 1,
        outcome=outcome,
    )


def _retry_later_or_fail(item: JobItem, exc: ConnectFailed) -> None:
    if item.attempts > len(CONNECT_RETRY_DELAYS):
        _finish(item, Item.FAILED, outcome=_failure_sentence(exc), error=exc)
        return
    delay = CONNECT_RETRY_DELAYS[item.attempts - 1]
    states.item_move(
        JobItem.objects.filter(pk=item.pk),
        source=Item.SENDING,
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
    states.item_move(JobItem.objects.filter(pk=item.pk), source=source, target=state, **changes)


def item_reconcile(
    job: BatchJob, item: JobItem, *, cause: Exception | None, source: str = Item.SENDING
) -> str:
    """Decide an item whose send may or may not have happened, by reading the invoice back."""
    reason = cause.message if isinstance(cause, SmartBusinessError) else _("the worker stopped")
    try:
        invoice = connection_call(
            job.connection,
            lambda api: api.invoice(item.document_id),
            CallContext(job_id=job.pk, job_item_id=item.pk, max_wait=RECONCILE_MAX_PACING_WAIT),
        )
    except (SmartBusinessError, ConnectionUnusable, PacingWait) as exc:
        logger.info("item %s: could not reconcile: %s", item.pk, exc)
        invoice = {}
    became_sent = item.document_status == "DR" and invoice.get("status") not in (None, "DR")
    state = Item.SENT if became_sent else Item.UNCERTAIN
    outcome = (
        _("Confirmed sent after an unclear answer (%(reason)s).")
        if became_sent
        else _("Unclear whether it was sent (%(reason)s); not re-sent automatically. Review it.")
    ) % {"reason": reason}
    _finish(
        item,
        state,
        outcome=outcome,
        error=cause if isinstance(cause, SmartBusinessError) else None,
        source=source,
    )
    return state


def _failure_sentence(exc: SmartBusinessError) -> str:
    fields = "; ".join(f"{e.key}: {e.message}" for e in exc.field_errors)
    status = f"{exc.status} " if exc.status else ""
    return f"{status}{exc.message}" + (f" — {fields}" if fields else "")


def job_pause_for_reauth(job: BatchJob, *, reason: str) -> None:
    states.job_move(
        job,
        target=Job.PAUSED,
        sources={Job.RUNNING, Job.QUEUED},
        pause_reason=BatchJob.PauseReason.NEEDS_REAUTH,
        error=reason,
    )


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

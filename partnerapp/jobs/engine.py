"""Running a job: claim an item, act on it, record the outcome — at most once per item.

The claim is one conditional UPDATE (pending → sending). The call to the provider
happens outside any transaction, and its outcome is written right after — a sent
item's in the same statement as the slice's next claim (`claiming.py`), or on its
own when the slice ends first. When the outcome is unknown (5xx, a lost response, a
crash between claim and record) the item is reconciled by asking the provider
whether the step took effect (each step knows how: `operations/`); what cannot be
proven is `uncertain` and waits for a person. Nothing is re-sent automatically. A
read (an idempotent step: fetching a PDF) has nothing to prove: an unclear answer is
simply read again after a pause.

An item may have several steps (a reminder: change the status, then email). Each
step is performed and recorded on its own (`JobItem.step` is the first step not
proven done); after a crash the item resumes there, and a step that took effect is
never repeated.

Work happens in slices of at most JOB_SLICE_SECONDS and JOB_SLICE_ITEMS items: a
slice holds one of the account's work slots, then re-enqueues itself behind every
other job's slices — and, by its broker priority (JOB_CONTINUE_PRIORITY), behind
every new job's first slice — so a huge job of one account never starves a small
job of another, and with hundreds of accounts each one's turns come round quickly.

A job's chains show they are alive on `BatchJob.heartbeat_at`: a working slice
writes it (and its slot lease renews it, `slots.py`); a chain that waits (a busy
slot, a rate-limit reset, a backed-off item) writes when it is due back. A job
silent for JOB_STALLED_SECONDS past that has lost its chains (their worker died)
and the sweeper starts one new chain — one per stall, however often it sweeps.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from partnerapp.connections import pacing, requestlog
from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import (
    CallContext,
    ClientCredentialsRefused,
    ConnectionUnusable,
    connection_call,
)
from partnerapp.jobs import (
    claiming,
    heartbeat,
    ledger,
    notifications,
    outcomes,
    slots,
    states,
)
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.operations import Context
from partnerapp.smartbusiness.client import ActionResult
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
REFUSED_TOKEN_DELAY = 5.0  # even a freshly refreshed token was refused: try again soon
# Pause and cancel must take effect within 2 s; looking twice a second (one UPDATE that
# is also the heartbeat) is enough and spares a query per item on fast providers.
STATUS_CHECK_INTERVAL = 0.5
PERMIT_BATCH = 8  # permits taken together by a slice bounded by time only
DUE_BACK_MIN = 1.0  # seconds; see _due_back


@dataclass(frozen=True)
class SliceOutcome:
    more: bool  # the job has work left for this chain
    delay: float = 0  # seconds to wait before the next slice (429: until the reset)
    mark: str = ""  # a restarted chain's next slice: when this one ended (see job_work)


STOP = SliceOutcome(more=False)


def job_work(
    *, job_id: int, seconds: float, restart_mark: str = "", queued_for: float = 0
) -> SliceOutcome:
    """Act on items of one job for up to `seconds`, holding one of the account's slots.

    `restart_mark` is set on every slice of a chain the sweeper started
    (`sweep_stalled_jobs`): when another chain of the job claimed an item since (the
    sweeper's mark for the first slice, the end of the previous one for a later slice:
    `SliceOutcome.mark`), the job was only slow, not stalled, and this chain ends rather
    than add to them: a job whose chains only waited in a long queue keeps its number of
    chains, and its turns stay as many as other jobs'. (Not the heartbeat: the sweeper
    writes that too, each time it finds the job silent, also while a restarted chain
    waits its turn in a long queue.)
    `queued_for`: how long this slice waited in the queue behind other jobs' slices
    past its due time; its next turn is expected to take as long (see `_due_back`).
    """
    job = BatchJob.objects.select_related("connection", "user").get(pk=job_id)
    if restart_mark and _claimed_since(job, datetime.fromisoformat(restart_mark)):
        return STOP
    outcome = _slice(job, seconds=seconds)
    if outcome.more:
        _due_back(job, delay=outcome.delay + queued_for)
        if restart_mark:
            outcome = SliceOutcome(more=True, delay=outcome.delay, mark=timezone.now().isoformat())
    return outcome


def _claimed_since(job: BatchJob, mark: datetime) -> bool:
    """Whether a chain of the job claimed an item after `mark`: it is alive. Asked of the
    items finished since (index job, finished_at) and of those sending, never of all the
    job's items: a scan of a 1,000,000-item job's claim times took 283 ms a slice."""
    items = job.items
    finished = items.filter(finished_at__gt=mark, claimed_at__gt=mark)
    return finished.exists() or items.filter(state=Item.SENDING, claimed_at__gt=mark).exists()


def _slice(job: BatchJob, *, seconds: float) -> SliceOutcome:
    if job.status == Job.QUEUED:
        started = states.job_move(
            job,
            target=Job.RUNNING,
            sources={Job.QUEUED},
            started_at=job.started_at or timezone.now(),
        )
        if not started:  # another chain's first slice started it a moment ago: go on too
            job.refresh_from_db(fields=["status", "started_at"])
    if job.status != Job.RUNNING:
        return STOP
    holder = uuid.uuid4().hex
    lease = slots.SlotLease.take(job_id=job.pk, connection_id=job.connection_id, holder=holder)
    if lease is None:
        # Every slot is busy; a holder gives its slot back when its slice ends, so one
        # look per slice length (a single scheduled task per wait), not a poll.
        return SliceOutcome(more=True, delay=settings.JOB_SLICE_SECONDS)
    try:
        # The slice's calls are logged in batches, and their permits taken a few at once.
        with requestlog.batched(), pacing.batched(job.connection_id, size=_calls_per_slice(job)):
            return _work(job, deadline=time.monotonic() + seconds, lease=lease)
    finally:
        lease.release()


def _calls_per_slice(job: BatchJob) -> int:
    """About how many calls a slice makes: its items' steps (a slice bounded by time
    only takes its permits PERMIT_BATCH at a time)."""
    items = settings.JOB_SLICE_ITEMS or PERMIT_BATCH
    return items * len(job.operation.steps)


def _due_back(job: BatchJob, *, delay: float) -> None:
    """The chain waits `delay` seconds: say when it is due back, so that the sweeper
    does not take a long wait (a rate-limit reset, or its turn behind the slices of
    hundreds of other accounts) for a dead chain. A wait shorter than DUE_BACK_MIN is
    covered by the heartbeat the slice wrote (the sweeper waits JOB_STALLED_SECONDS):
    no write, where the turns come round fast."""
    if delay >= DUE_BACK_MIN:
        due = timezone.now() + timedelta(seconds=delay)
        BatchJob.objects.filter(pk=job.pk, status__in=[Job.QUEUED, Job.RUNNING]).update(
            heartbeat_at=due
        )


def _work(job: BatchJob, *, deadline: float, lease: slots.SlotLease) -> SliceOutcome:
    checked, performed = 0.0, 0
    sent: list[states.Sent] = []  # the last item, recorded with the next claim
    try:
        while time.monotonic() < deadline and not _slice_full(job, performed):
            if lease.lost.is_set():  # the slot went to another slice: come back for another
                return SliceOutcome(more=True)
            if time.monotonic() - checked >= STATUS_CHECK_INTERVAL:
                if not heartbeat.job_beat(job.pk, interval=STATUS_CHECK_INTERVAL):
                    return STOP  # paused or cancelled meanwhile
                checked = time.monotonic()
            item = claiming.item_claim_next(job, sent=sent[0] if sent else None)
            sent.clear()
            if item is None:
                return _wait_or_finish(job)
            outcome = item_perform(job, item, sent=sent)
            if outcome is not None:
                return outcome
            performed += 1
        return SliceOutcome(more=True)
    finally:
        for record in sent:  # the slice ends before another claim: recorded on its own
            record.write()


def _slice_full(job: BatchJob, performed: int) -> bool:
    """A slice also ends after JOB_SLICE_ITEMS items (0: no such bound) while another job
    is queued or running, so that with many accounts each job's turn in the queue is short
    and the turns go round fast. A job alone goes on for JOB_SLICE_SECONDS: nobody waits
    for its turns, and each turn costs a task, a slot and a look at the job. (A job that
    arrives meanwhile is seen within STATUS_CHECK_INTERVAL, and the slice ends.)"""
    if not 0 < settings.JOB_SLICE_ITEMS <= performed:
        return False
    return heartbeat.others_active(job.pk, interval=STATUS_CHECK_INTERVAL)


def item_claim_next(job: BatchJob) -> JobItem | None:
    """Claim the first due pending item (pending → sending), or None if none is due.

    The claim and the ledger rows of the item's document action are one unit (one
    statement on PostgreSQL, one transaction elsewhere: `claiming.py`): an item whose
    document another job holds ends `skipped` instead (ledger.py).
    """
    return claiming.item_claim_next(job)


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
    """Done: the operation finishes its part (e.g. packs an archive), then the owner hears."""
    requestlog.entries_flush()  # this process's calls are in the log before the job is done
    if states.job_move(job, target=Job.DONE, sources={Job.RUNNING}, finished_at=timezone.now()):
        from partnerapp.jobs.services import job_counts

        job.operation.job_finished(job)
        notifications.job_finished_notify(job, job_counts(job))


def item_perform(
    job: BatchJob, item: JobItem, *, sent: list[states.Sent] | None = None
) -> SliceOutcome | None:
    """Do the claimed item's steps from its first undone one, recording each right after.

    A SliceOutcome ends the slice; None lets the slice go on with the next item. With
    `sent`, the record of an item whose last step took effect goes there instead, to be
    written by the slice's next claim in the same statement (`_work`).
    """
    context = Context(job.operation, job.parameters)
    steps = job.operation.steps
    while item.step < len(steps):
        result = _step_perform(job, item, context)
        if not isinstance(result, ActionResult):
            return result  # the item was released, failed or reconciled
        if item.step == len(steps) - 1:
            done = _step_record(job, item, request_id=result.request_id, proven=False)
            record = _sent(item, request_id=result.request_id, **done)
            if sent is None:
                record.write()
            else:
                sent.append(record)
            return None
        if not _step_done(job, item, request_id=result.request_id, proven=False):
            return None  # someone else moved the item (a sweeper): it is theirs now
    return None


def _step_perform(job: BatchJob, item: JobItem, context: Context):
    """The item's current step: the provider's answer, or how the slice goes on."""
    step = context.operation.steps[item.step]
    call = CallContext(job_id=job.pk, job_item_id=item.pk, max_wait=SEND_MAX_PACING_WAIT)
    try:
        return connection_call(job.connection, lambda api: step.perform(api, item, context), call)
    except ConnectionUnusable as exc:
        _release(item, outcome=outcomes.outcome("connection_unusable"))
        job_pause_for_reauth(job, reason=str(exc))
        return STOP
    except ClientCredentialsRefused:  # the operator's problem: wait, lose nothing
        retry = ClientCredentialsRefused.RETRY_AFTER
        _release(item, outcome=outcomes.outcome("client_refused"), delay=retry)
        return SliceOutcome(more=True, delay=retry)
    except Unauthorized:  # refused before it acted, even with a fresh token: not an attempt
        _release(item, outcome=outcomes.outcome("token_refused"), delay=REFUSED_TOKEN_DELAY)
        return None
    except PacingWait as exc:
        _release(item, outcome=outcomes.outcome("pacing_wait"))
        return SliceOutcome(more=True, delay=exc.retry_after)
    except TooManyRequests as exc:
        _release(item, outcome=outcomes.outcome("rate_limited"))
        return SliceOutcome(more=True, delay=exc.retry_after)
    except ConnectFailed as exc:
        _retry_later_or_fail(item, exc, job)
        return None
    except (ServerError, TransportError) as exc:
        if step.idempotent:  # a read: do it again, there is nothing to prove
            _retry_later_or_fail(item, exc, job)
        else:
            item_reconcile(job, item, cause=exc)
        return None
    except (ApiError, SmartBusinessError) as exc:
        _finish(item, Item.FAILED, outcome=_failure(exc, job, item), error=exc, job=job)
        return None


def _step_done(job: BatchJob, item: JobItem, *, request_id: str, proven: bool) -> int:
    """Record that the item's current step took effect; the item goes on at the next one.

    Conditional on the item still being `sending` at that step: of two recorders (a
    worker and a sweeper) one wins. Returns how many rows changed (0 or 1).
    """
    done = _step_record(job, item, request_id=request_id, proven=proven)
    moved = JobItem.objects.filter(pk=item.pk, state=Item.SENDING, step=item.step).update(
        request_id=request_id or item.request_id, **done
    )
    if moved:
        item.step, item.step_log = done["step"], done["step_log"]
        item.request_id = request_id or item.request_id
    return moved


def _step_record(job: BatchJob, item: JobItem, *, request_id: str, proven: bool) -> dict:
    """The item's fields once its current step took effect: the next step, and the log."""
    entry = {
        "step": job.operation.steps[item.step].name,
        "request_id": request_id,
        "at": timezone.now().isoformat(),
        "proven": proven,
    }
    return {"step": item.step + 1, "step_log": [*item.step_log, entry]}


def _sent(item: JobItem, *, request_id: str, **done) -> states.Sent:
    """The record of an item whose last step took effect (as `_finish` would write it)."""
    changes = {**outcomes.NONE, "finished_at": timezone.now(), **done}
    changes["request_id"] = request_id or item.request_id
    return states.Sent(item.pk, changes)


def _release(item: JobItem, *, outcome: outcomes.Outcome, delay: float = 0) -> None:
    """Back to pending: the provider provably did not act, so this was no attempt."""
    not_before = timezone.now() + timedelta(seconds=delay) if delay else None
    _unclaim(
        item,
        target=Item.PENDING,
        attempts=F("attempts") - 1,
        not_before=not_before,
        **outcome.fields(),
    )


def _unclaim(item: JobItem, *, target: str, **changes) -> None:
    """Leave `sending` without having acted on the current step. The document's ledger
    rows go with it, unless an earlier step took effect: then the item keeps them and
    resumes at this step."""
    with transaction.atomic():
        items = JobItem.objects.filter(pk=item.pk)
        moved = states.item_move(items, source=Item.SENDING, target=target, **changes)
        if moved and item.step == 0:
            ledger.claims_release([item.pk])


def _retry_later_or_fail(item: JobItem, exc: SmartBusinessError | None, job: BatchJob) -> None:
    """Try the item's step again after a pause, and fail it after the last pause: for a
    call that never reached the provider (ConnectFailed), and for an idempotent step
    whose answer was unclear (a 5xx, a lost answer, a worker that died: `exc` None)."""
    if item.attempts > len(CONNECT_RETRY_DELAYS):
        outcome = _failure(exc, job, item) if exc else outcomes.outcome("worker_stopped")
        _finish(item, Item.FAILED, outcome=outcome, error=exc, job=job)
        return
    delay = CONNECT_RETRY_DELAYS[item.attempts - 1]
    if isinstance(exc, ConnectFailed):
        outcome = outcomes.outcome("unreachable_retry", s=delay)
    else:
        reason = outcomes.worker_stopped_reason(exc).nested()
        outcome = outcomes.outcome("unclear_retry", reason=reason, s=delay)
    _unclaim(
        item,
        target=Item.PENDING,
        not_before=timezone.now() + timedelta(seconds=delay),
        **outcome.fields(),
    )


def _finish(
    item: JobItem,
    state: str,
    *,
    outcome: outcomes.Outcome | None,
    error=None,
    request_id: str = "",
    source: str = Item.SENDING,
    job: BatchJob | None = None,
    **done,
) -> None:
    """Record the item's end (from `source`); `job` names the steps in the English sentence."""
    said = outcome.fields(job=job) if outcome is not None else outcomes.NONE
    changes = {**said, "finished_at": timezone.now(), **done}
    if error is not None:
        changes.update(
            error_status=error.status, error_detail=error.detail(), request_id=error.request_id
        )
    if request_id:
        changes["request_id"] = request_id
    if state == Item.FAILED:  # the provider refused: it did not act
        _unclaim(item, target=state, **changes)
        return
    states.item_move_one(item.pk, source=source, target=state, **changes)


def item_reconcile(job: BatchJob, item: JobItem, *, cause: Exception | None) -> str:
    """Decide an item whose current step may or may not have happened, by asking the
    provider (each step knows how). Proven: the item goes on — `sent` after its last
    step, else back to `pending` at the next step. Not proven: `uncertain` at this step,
    or for an idempotent step (a read) `pending` to do it again (failed after the last
    try). Returns the item's new state."""
    error = cause if isinstance(cause, SmartBusinessError) else None
    reason = outcomes.worker_stopped_reason(error).nested()
    context = Context(job.operation, job.parameters)
    step = job.operation.steps[item.step]
    call = CallContext(job_id=job.pk, job_item_id=item.pk, max_wait=RECONCILE_MAX_PACING_WAIT)
    try:
        proven = connection_call(
            job.connection, lambda api: step.took_effect(api, item, context), call
        )
    except (SmartBusinessError, ConnectionUnusable, PacingWait) as exc:
        logger.info("item %s: could not reconcile: %s", item.pk, exc)
        proven = False
    last = item.step == len(job.operation.steps) - 1
    if proven and not last:
        if _step_done(job, item, request_id="", proven=True):
            _unclaim(item, target=Item.PENDING, not_before=None, **outcomes.NONE)
        return Item.PENDING
    if proven:
        outcome = outcomes.outcome("confirmed_after_unclear", reason=reason)
        done = _step_record(job, item, request_id="", proven=True)
        _finish(item, Item.SENT, outcome=outcome, error=error, job=job, **done)
        return Item.SENT
    if step.idempotent:
        _retry_later_or_fail(item, error, job)
        return Item.FAILED if item.attempts > len(CONNECT_RETRY_DELAYS) else Item.PENDING
    _finish(item, Item.UNCERTAIN, outcome=_uncertain(job, item, reason), error=error, job=job)
    return Item.UNCERTAIN


def _uncertain(job: BatchJob, item: JobItem, reason: dict) -> outcomes.Outcome:
    steps = len(job.operation.steps)
    if steps == 1:
        return outcomes.outcome("uncertain", reason=reason)
    return outcomes.outcome(
        "uncertain_step", n=item.step + 1, of=steps, step=item.step, reason=reason
    )


def _failure(exc: SmartBusinessError, job: BatchJob, item: JobItem) -> outcomes.Outcome:
    """The refusal as an outcome; a bare 403 for an action whose scope the connection was
    never granted means that scope is missing."""
    needed = job.operation.required_scope
    missing = needed not in job.connection.scope_list
    bare_forbidden = isinstance(exc, Forbidden) and not exc.meta and missing
    about_scope = bare_forbidden or isinstance(exc, MissingScope)
    step = item.step if len(job.operation.steps) > 1 and not about_scope else None
    return outcomes.failure(exc, scope=needed if about_scope else "", step=step)


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


def sweep_stalled_jobs(*, older_than: float | None = None) -> dict[int, str]:
    """Jobs whose work chains all died (silent for JOB_STALLED_SECONDS): {id: restart mark}.

    Each is claimed by one conditional UPDATE that writes the mark as its heartbeat, so
    a concurrent sweeper, and every sweep of the next JOB_STALLED_SECONDS, finds it
    alive: one new chain per stall. The new chain's slices get a mark (`job_work`) and
    step aside if another chain claimed an item meanwhile.
    """
    age = settings.JOB_STALLED_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=age)
    quiet = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    stalled = BatchJob.objects.filter(quiet, status__in=[Job.QUEUED, Job.RUNNING])
    claimed = {}
    for job_id in stalled.values_list("pk", flat=True):
        mark = timezone.now()
        if BatchJob.objects.filter(quiet, pk=job_id).update(heartbeat_at=mark):
            claimed[job_id] = mark.isoformat()
    return claimed

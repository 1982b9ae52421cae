"""Batch jobs: create, prepare (resolve the selection into items), preview, control, read.

Sending itself lives in `engine.py`. Nothing here calls an irreversible action.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partnerapp import statements
from partnerapp.connections.models import Connection
from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import (
    CallContext,
    ClientCredentialsRefused,
    ConnectionUnusable,
)
from partnerapp.jobs import ledger, naming, notifications, outcomes, selection, states
from partnerapp.jobs.counts import counts_for
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.operations import Context, JobInputError, operation_for
from partnerapp.jobs.operations.email import (
    RECIPIENTS_MAX_CHARS,
    address_refused,
    addresses_problem,
    recipient_addresses,
)
from partnerapp.organizations import audit, permissions
from partnerapp.organizations.permissions import Perm
from partnerapp.smartbusiness.describe import describe, missing_scope_message
from partnerapp.smartbusiness.errors import (
    MissingScope,
    ServerError,
    SmartBusinessError,
    TooManyRequests,
    TransportError,
    Unauthorized,
)
from partnerapp.smartbusiness.vocabulary import CHANGEABLE_STATUSES

logger = logging.getLogger(__name__)
Item = JobItem.State
Job = BatchJob.Status
PREPARE_MAX_PACING_WAIT = 30.0
PREPARE_RETRY_DELAY = 10.0
NAME_MAX = BatchJob._meta.get_field("name").max_length
__all__ = ["CHANGEABLE_STATUSES", "RECIPIENTS_MAX_CHARS", "JobInputError", "recipient_addresses"]


@dataclass(frozen=True)
class PrepareLater:
    """Preparation paused for the provider's rate limit; run it again in `delay` seconds."""

    delay: float


def _tasks():
    from partnerapp.jobs import tasks  # tasks import services: import at use

    return tasks


# -- creating ---------------------------------------------------------------------------------


def job_create(
    *,
    user,
    connection: Connection,
    action: str,
    selection_spec: dict,
    parameters: dict,
    auto_start: bool = False,
    schedule_run=None,
    by_api: bool = False,
    name: str = "",
) -> BatchJob:
    """A draft job; its preparation (reading the selected documents) starts after commit.

    The parameters are checked by the operation's own form, whoever sends them (the
    wizard, a schedule, the API): one validation for every path. `by_api`: made through
    the partner API (`user` None), whose key the API checked; the audit log names the key.
    `name`: what to call it; empty: the default name (`naming.py`), in the active language.
    """
    name = _name_check(name)
    try:
        operation = operation_for(action)
    except KeyError:
        raise JobInputError(_("Unknown action: %(a)s") % {"a": action}) from None
    # A schedule's run was allowed when the schedule was made; an API key's by its scope.
    if schedule_run is None and not by_api:
        permissions.require_member(user, connection.organization_id, Perm.OPERATE)
    if not connection.is_usable:
        raise JobInputError(_("Reconnect this account before starting a job."))
    if operation.required_scope not in connection.scope_list:
        raise JobInputError(missing_scope_message(operation.required_scope))
    if operation.reads_selection:
        _check_selection(selection_spec)
    operation.check(parameters)
    with transaction.atomic():
        job = BatchJob(
            user=user,
            connection=connection,
            action=action,
            selection=selection_spec,
            parameters=parameters,
            auto_start=auto_start,
            schedule_run=schedule_run,
            name=name,
        )
        if not name:
            with translation.override(naming.creation_language(job)):
                job.name = naming.default_name(job)[:NAME_MAX]
        job.save()
        transaction.on_commit(lambda: _tasks().job_prepare.delay(job.pk))
        audit.record(
            "job.create",
            organization=job.organization_id,
            obj=job,
            after={"status": job.status, "action": action, "connection": str(connection)},
            actor=user if schedule_run is None else None,  # a schedule's run: the system
        )
    return job


def _name_check(name: str) -> str:
    """A name a person gave, trimmed; JobInputError when it is too long."""
    name = " ".join(str(name or "").split())  # one line, as lists and titles show it
    if len(name) > NAME_MAX:
        raise JobInputError(
            _("The name is %(n)d characters long; it can have at most %(max)d.")
            % {"n": len(name), "max": NAME_MAX}
        )
    return name


def job_rename(*, user, job: BatchJob, name: str, by_api: bool = False) -> BatchJob:
    """Call `job` `name`; an empty name brings back the default one (in the active
    language, with the count once prepared). Preparation never overwrites a person's name.
    `by_api`: the partner API renames it (`user` None), its key checked by the API."""
    if not by_api:
        permissions.require_member(user, job.organization_id, Perm.OPERATE)
    before = job.name
    name = _name_check(name) or _default_name(job)
    BatchJob.objects.filter(pk=job.pk).update(name=name)
    job.name = name
    if name != before:
        audit.record(
            "job.rename",
            organization=job.organization_id,
            obj=job,
            before={"name": before},
            after={"name": name},
            actor=user,
        )
    return job


def _default_name(job: BatchJob) -> str:
    count = job.items.count() if job.prepared_at else None
    return naming.default_name(job, count=count)[:NAME_MAX]


def _audit(action: str, job: BatchJob, *, before: str, **after) -> None:
    """Record a control action on `job`: its status move and what else it touched."""
    audit.record(
        f"job.{action}",
        organization=job.organization_id,
        obj=job,
        before={"status": before},
        after={"status": job.status, **after},
    )


def _check_selection(spec: dict) -> None:
    ids = spec.get("ids") or []
    if not ids and spec.get("filter") is None:
        raise JobInputError(_("Select at least one document, or a filter."))
    if len(ids) > selection.MAX_IDS:
        raise JobInputError(
            _("Select at most %(n)d documents by hand; use a filter for more.")
            % {"n": selection.MAX_IDS}
        )
    if not all(_is_id(value) for value in ids):
        raise JobInputError(_("Document ids must be positive whole numbers."))
    unknown = set(spec.get("filter") or {}) - set(selection.FILTER_KEYS)
    if unknown:
        raise JobInputError(_("Unknown filter field: %(f)s") % {"f": sorted(unknown)[0]})
    try:
        selection.provider_filter(spec.get("filter") or {}, today=timezone.localdate())
    except (ValueError, TypeError) as exc:
        raise JobInputError(_("The filter has an invalid date or contact.")) from exc


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


# -- preparing --------------------------------------------------------------------------------


def job_prepare(*, job_id: int) -> PrepareLater | None:
    """Resolve the selection into items, page by page; start the job if it auto-starts.

    Safe to run again after a crash or a rate-limit pause: items are unique per document.
    """
    job = BatchJob.objects.select_related("connection").get(pk=job_id)
    if job.status != Job.DRAFT or job.prepared_at:
        return None
    context = CallContext(job_id=job.pk, max_wait=PREPARE_MAX_PACING_WAIT)
    today = timezone.localdate()
    try:
        pages = job.operation.own_pages(job)
        if pages is None:
            pages = selection.pages(job, today=today, context=context)
        for documents in pages:
            items = _items_for(job, documents, today=today)
            statements.rows_insert(JobItem, items, ignore_conflicts=True)
    except PacingWait as wait:
        return PrepareLater(delay=wait.retry_after)
    except ConnectionUnusable as exc:
        states.job_move(
            job, target=Job.PAUSED, error=str(exc), pause_reason=BatchJob.PauseReason.NEEDS_REAUTH
        )
        return None
    except TooManyRequests as exc:
        return PrepareLater(delay=exc.retry_after)
    except ClientCredentialsRefused as exc:  # the operator must fix our credentials: wait
        BatchJob.objects.filter(pk=job.pk).update(error=str(exc))
        return PrepareLater(delay=ClientCredentialsRefused.RETRY_AFTER)
    except (ServerError, TransportError, Unauthorized) as exc:  # a bad minute: wait
        BatchJob.objects.filter(pk=job.pk).update(
            error=_("Waiting for SmartBusiness: %(m)s") % {"m": describe(exc)}
        )
        return PrepareLater(delay=PREPARE_RETRY_DELAY)
    except MissingScope as exc:
        message = missing_scope_message(exc.scope or job.operation.required_scope)
        states.job_move(job, target=Job.FAILED, finished_at=timezone.now(), error=message)
        return None
    except SmartBusinessError as exc:
        message = _("Could not read the selected documents: %(m)s") % {"m": describe(exc)}
        states.job_move(job, target=Job.FAILED, finished_at=timezone.now(), error=message)
        return None
    BatchJob.objects.filter(pk=job.pk).update(prepared_at=timezone.now(), error="")
    job.prepared_at = timezone.now()
    _name_with_count(job)
    if job.auto_start:
        job_start(job=job)
    return None


def _name_with_count(job: BatchJob) -> None:
    """Add the item count to a default name. Conditional on the name read: a person who
    renamed the job meanwhile keeps their name."""
    counted = naming.counted_name(job, job.items.count())
    if counted is not None:
        BatchJob.objects.filter(pk=job.pk, name=job.name).update(name=counted[:NAME_MAX])


def _items_for(job: BatchJob, documents: list[dict], *, today) -> list[JobItem]:
    """One item per document (or per key the operation gives it); those the preview
    can already tell are skipped say why.

    The ledger's holders (another job sent it, or is sending it) are shown here so the
    preview is honest; the claim enforces it again when the item runs.
    """
    operation = job.operation
    context = Context(operation, job.parameters, extra=operation.page_extra(job, documents))
    pairs = [
        (_item_for(context, job, document, key, today=today), document)
        for document in documents
        for key in operation.item_keys(document, context)
    ]
    items = [item for item, _document in pairs]
    existing = [item for item, document in pairs if not document.get("missing")]
    held = ledger.holders_for(job, existing)
    for item in existing:
        claim = held.get(ledger.identity(item))
        if claim is not None:  # the most precise reason: it names the other job
            _skip(item, ledger.conflict_reason(claim, job), job=job)
            item.conflict_item = claim.item
    return items


def _item_for(context: Context, job, document: dict, key: str, *, today) -> JobItem:
    document = _without_nul(document)  # PostgreSQL text cannot hold NUL; providers might send it
    contact = document.get("contact") or {}
    item = JobItem(
        job=job,
        document_id=int(document["id"]),
        key=key,
        document_number=str(document.get("number", "")),
        document_status=str(document.get("status", "")),
        contact_name=str(document.get("contact_name") or contact.get("name") or ""),
        recipient_name=str(contact.get("name") or document.get("contact_name") or ""),
        snapshot=_snapshot(document),
    )
    if document.get("missing"):
        reason = outcomes.outcome("document_missing")
    else:
        context.operation.prepare_item(item, document, context)
        reason = context.operation.skip_reason(document, item, context, today=today)
    if reason:
        _skip(item, reason, job=job)
    return item


def _skip(item: JobItem, reason: outcomes.Outcome, *, job: BatchJob) -> None:
    item.state = Item.SKIPPED
    for name, value in reason.fields(job=job).items():
        setattr(item, name, value)


def _without_nul(value):
    """`value` with NUL taken out of its strings. Most documents hold none, and one look
    at their JSON (at C speed; NUL is written as an escape there) spares walking them."""
    if "\\u0000" not in json.dumps(value, default=str):
        return value
    return _nul_removed(value)


def _nul_removed(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {key: _nul_removed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nul_removed(item) for item in value]
    return value


def _snapshot(document: dict) -> dict:
    contact = document.get("contact") or {}
    keys = ("number", "date", "due", "total", "total_paid", "currency", "language")
    keys += ("contact_name", "status")
    return {
        **{key: document.get(key) for key in keys},
        "contact": {
            key: contact.get(key)
            for key in ("number", "name", "salutation", "email", "communication_language")
        },
    }


# -- starting and controlling -----------------------------------------------------------------


def job_start(*, job: BatchJob) -> bool:
    """Queue a prepared job (the preview's confirm) and start its work chains."""
    before = job.status
    started = _queue(job)
    if started:
        _audit("confirm", job, before=before)
    return started


def _queue(job: BatchJob) -> bool:
    sources = {Job.DRAFT, Job.PAUSED, Job.DONE}
    if job.status == Job.DRAFT and not job.prepared_at:
        raise JobInputError(_("The job is still reading the selected documents."))
    if job.status == Job.DRAFT:
        ledger.skip_held(job)  # what another job did since the preview was shown
    if not states.job_move(job, target=Job.QUEUED, sources=sources, pause_reason="", error=""):
        return False
    job_kick(job=job)
    return True


def job_kick(*, job: BatchJob) -> None:
    """Enqueue as many work chains as the connection may run at once."""
    # Enqueued chains are alive: the stalled-job sweeper leaves the job alone meanwhile.
    BatchJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    pending = job.items.filter(state=Item.PENDING).count()
    chains = max(1, min(settings.JOB_CONCURRENCY_PER_CONNECTION, pending))
    transaction.on_commit(lambda: _tasks().job_chains_start(job.pk, chains))


def job_pause(*, job: BatchJob) -> bool:
    """Stop taking new items; a call in flight finishes and is recorded."""
    before = job.status
    paused = states.job_move(
        job,
        target=Job.PAUSED,
        sources={Job.QUEUED, Job.RUNNING},
        pause_reason=BatchJob.PauseReason.USER,
    )
    if paused:
        _audit("pause", job, before=before)
    return paused


def job_resume(*, job: BatchJob) -> bool:
    resumed = _resume(job)
    if resumed:
        _audit("resume", job, before=Job.PAUSED)
    return resumed


def _resume(job: BatchJob) -> bool:
    if job.status != Job.PAUSED:
        return False
    if not job.connection.is_usable:
        raise JobInputError(_("Reconnect the account first; the job resumes by itself then."))
    if not job.prepared_at:
        moved = states.job_move(job, target=Job.DRAFT, pause_reason="", error="")
        if moved:
            transaction.on_commit(lambda: _tasks().job_prepare.delay(job.pk))
        return moved
    return _queue(job)


@transaction.atomic
def job_cancel(*, job: BatchJob) -> bool:
    """Cancel: nothing more is sent; items not yet sent are marked skipped."""
    sources = {Job.DRAFT, Job.QUEUED, Job.RUNNING, Job.PAUSED}
    before = job.status
    if job.status not in sources or not states.job_move(
        job, target=Job.CANCELLED, sources=sources, finished_at=timezone.now()
    ):
        return False
    states.item_move(
        job.items.all(),
        source=Item.PENDING,
        target=Item.SKIPPED,
        **outcomes.record("cancelled"),
    )
    ledger.claims_release_skipped(job)  # a reopened uncertain item held its document
    _audit("cancel", job, before=before)
    return True


def job_retry_failed(*, job: BatchJob) -> int:
    """Failed items that trying again can help go back to pending; the job runs again.

    Items the provider refused for the request itself (invalid data, an unknown document:
    `outcomes.NOT_RETRYABLE`) stay failed: the same request would be refused the same way.
    """
    return _reopen(job, source=Item.FAILED, action="retry", only=outcomes.MAY_RETRY)


def job_failed_counts(job: BatchJob) -> dict[str, int]:
    """The job's failed items: how many "Retry failed" would try again, how many not."""
    # from the kept counts and a partial index of the final ones: a job may have
    # 60,000 failed items, and reading each one's outcome took half a second
    total = job_counts(job)[Item.FAILED]
    final = job.items.filter(outcomes.NOT_RETRYABLE, state=Item.FAILED).count()
    return {"retryable": total - final, "not_retryable": final}


def item_recipient_retry(*, job: BatchJob, item_pk: int, recipients: str) -> bool:
    """Send one email item the provider refused for its address again, to `recipients`
    (checked by the wizard's override rules; JobInputError says what is wrong).

    At most once: the item moves failed → pending in one conditional UPDATE, so of two
    concurrent requests one retries and the other changes nothing. A done job is queued
    again. Returns whether this request moved the item.
    """
    addresses = recipient_addresses(recipients)
    problem = addresses_problem(addresses)
    if problem:
        raise JobInputError(problem)
    if job.status in {Job.CANCELLED, Job.FAILED, Job.DRAFT}:
        raise JobInputError(_("This job cannot run again."))
    item = job.items.filter(pk=item_pk).first()
    if item is None or not item_recipient_editable(item, job):
        return False
    before = job.status
    with transaction.atomic():
        moved = states.item_move(
            job.items.filter(pk=item.pk),
            source=Item.FAILED,
            target=Item.PENDING,
            recipient_email=", ".join(addresses),
            error_status=None,
            error_detail={},
            not_before=None,
            finished_at=None,
            **outcomes.NONE,
        )
        if moved:
            _requeue(job)
            recipient = {"item": item.pk, "document": item.document_number}
            _audit("recipient", job, before=before, **recipient, recipient=", ".join(addresses))
    return bool(moved)


def item_recipient_editable(item: JobItem, job: BatchJob) -> bool:
    """Whether the item is an email the provider refused for its address, in a job that may
    run again: a person may correct the address and send it again."""
    reopenable = job.status not in {Job.CANCELLED, Job.FAILED, Job.DRAFT}
    failed = item.state == Item.FAILED and reopenable
    return failed and job.operation.sends_email and address_refused(item)


def _requeue(job: BatchJob) -> None:
    """Items went back to pending: a done job runs again, a running one gets its chains."""
    if job.status == Job.DONE:
        states.job_move(job, target=Job.QUEUED, finished_at=None)
    if job.status in {Job.QUEUED, Job.RUNNING}:
        job_kick(job=job)


def job_resend_uncertain(*, job: BatchJob, confirmed: bool) -> int:
    """Send uncertain items again — only after a person confirmed they were not sent."""
    if not confirmed:
        raise JobInputError(_("Confirm that you checked these documents were not sent."))
    return _reopen(job, source=Item.UNCERTAIN, action="resend")


def item_resend(*, job: BatchJob, item_pk: int, confirmed: bool) -> bool:
    """Act again on one document another job already did — a person's explicit choice.

    Only an item skipped for the ledger (it names the item that did it) qualifies; the
    earlier holder's ledger row is retired at the claim, and only if that one finished.
    """
    if not confirmed:
        raise JobInputError(_("Confirm that the document should be acted on again."))
    if not job.operation.repeatable:
        raise JobInputError(_("This is done once for good; it cannot be done again."))
    if job.status in {Job.CANCELLED, Job.FAILED}:
        raise JobInputError(_("This job cannot run again."))
    before = job.status
    with transaction.atomic():
        items = job.items.filter(pk=item_pk, conflict_item__isnull=False)
        moved = states.item_move(
            items,
            source=Item.SKIPPED,
            target=Item.PENDING,
            resend=True,
            **outcomes.NONE,
            finished_at=None,
            not_before=None,
        )
        if moved and job.status == Job.DONE:
            states.job_move(job, target=Job.QUEUED, finished_at=None)
        if moved and job.status in {Job.QUEUED, Job.RUNNING}:
            job_kick(job=job)
        if moved:
            _audit("resend", job, before=before, item=item_pk)
    return bool(moved)


def _reopen(job: BatchJob, *, source: str, action: str, only: Q | None = None) -> int:
    if job.status in {Job.CANCELLED, Job.FAILED, Job.DRAFT}:
        raise JobInputError(_("This job cannot run again."))
    before = job.status
    items = job.items.filter(only) if only is not None else job.items.all()
    with transaction.atomic():
        moved = states.item_move(
            items, source=source, target=Item.PENDING, not_before=None, finished_at=None
        )
        if moved:
            _requeue(job)
            _audit(action, job, before=before, items=moved, source=source)
    return moved


# -- reading ----------------------------------------------------------------------------------


def job_counts(job: BatchJob) -> dict[str, int]:
    """Items per state, "total" and "finished", kept by the database as the items change
    (`counts.py`): they never drift from the items, and a million items cost no more
    to count than ten."""
    return counts_for([job.pk])[job.pk]


def job_counts_many(job_ids) -> dict[int, dict[str, int]]:
    """`job_counts` for many jobs in one query (lists of jobs)."""
    return counts_for(job_ids)


def job_throughput(job: BatchJob, *, window: int = 60) -> float | None:
    """Items finished per minute over the last `window` seconds; None when nothing ran yet.

    Early in a run (started less than a window ago) the rate is over the time since start.
    """
    if not job.started_at:
        return None
    now = timezone.now()
    since = max(now - timedelta(seconds=window), job.started_at)
    seconds = max((now - since).total_seconds(), 1.0)
    done = job.items.filter(finished_at__gte=since).count()
    return done * 60.0 / seconds


@dataclass(frozen=True)
class ItemsPage:
    """One page of a job's items, paged by id (keyset): no OFFSET, no COUNT over the job."""

    items: list[JobItem]
    has_previous: bool
    has_next: bool

    @property
    def first_pk(self) -> int | None:
        return self.items[0].pk if self.items else None

    @property
    def last_pk(self) -> int | None:
        return self.items[-1].pk if self.items else None


def job_items_page(
    job: BatchJob,
    *,
    state: str = "",
    search: str = "",
    after: int | None = None,
    before: int | None = None,
    last: bool = False,
    size: int = 50,
) -> ItemsPage:
    """The items after `after` (or before `before`, or the last page), filtered."""
    items = job.items.select_related("conflict_item__job")
    if state:
        items = items.filter(state=state)
    if search:
        items = items.filter(
            Q(document_number__icontains=search)
            | Q(recipient_email__icontains=search)
            | Q(recipient_name__icontains=search)
        )
    if before is not None or last:
        backwards = items.filter(pk__lt=before) if before is not None else items
        rows = list(backwards.order_by("-pk")[: size + 1])
        has_previous, rows = len(rows) > size, rows[:size][::-1]
        has_next = not last and bool(rows) and items.filter(pk__gt=rows[-1].pk).exists()
    else:
        forwards = items.filter(pk__gt=after) if after is not None else items
        rows = list(forwards.order_by("pk")[: size + 1])
        has_next, rows = len(rows) > size, rows[:size]
        has_previous = after is not None and bool(rows)
        has_previous = has_previous and items.filter(pk__lt=rows[0].pk).exists()
    return ItemsPage(items=rows, has_previous=has_previous, has_next=has_next)


def job_eta_seconds(job: BatchJob, pending: int) -> float | None:
    """Seconds until `pending` more calls are made, from the connection's rate budget."""
    window = job.connection.rate
    per_call = settings.JOB_SECONDS_PER_CALL / settings.JOB_CONCURRENCY_PER_CONNECTION
    if not pending:
        return 0.0
    if window.limit is None or window.remaining is None:
        return pending * per_call
    remaining, limit = window.remaining, window.limit
    if pending <= remaining:
        return pending * per_call
    reset_in = 0.0
    if window.reset_at:
        reset_in = max(0.0, (window.reset_at - timezone.now()).total_seconds())
    windows = -(-(pending - remaining) // max(1, limit)) - 1  # full windows after the reset
    return reset_in + windows * settings.SMARTBUSINESS_RATE_LIMIT_PERIOD + pending * per_call


def jobs_for(organization):
    return BatchJob.objects.filter(organization=organization).select_related("connection")


def jobs_awaiting_preparation(*, older_than: int | None = None) -> list[int]:
    """Draft jobs whose preparation never ran to the end (lost message, dead worker)."""
    age = settings.JOB_STALE_SENDING_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=age)
    drafts = BatchJob.objects.filter(status=Job.DRAFT, prepared_at=None, created_at__lt=cutoff)
    return list(drafts.values_list("pk", flat=True))


def jobs_expire_drafts(*, now=None) -> int:
    """Cancel the drafts nobody confirmed within JOB_DRAFT_EXPIRY_HOURS; returns how many.

    One conditional UPDATE (draft → cancelled): a draft confirmed at the same moment is
    either queued first, and the UPDATE no longer matches it, or cancelled first, and its
    confirm (draft → queued) matches nothing. Never both. `error` holds a code, said in
    the reader's language (`BatchJob.error_message`). Drafts that start by themselves
    (a schedule's, an API job with auto_start) wait for no one and are left alone.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.JOB_DRAFT_EXPIRY_HOURS)
    drafts = BatchJob.objects.filter(auto_start=False, created_at__lt=cutoff)
    expired = states.jobs_move(
        drafts,
        source=Job.DRAFT,
        target=Job.CANCELLED,
        finished_at=now,
        error=BatchJob.DRAFT_EXPIRED,
    )
    if expired:
        # this run's jobs: cancelled as expired at exactly `now`
        ours = BatchJob.objects.filter(
            status=Job.CANCELLED, error=BatchJob.DRAFT_EXPIRED, finished_at=now
        )
        states.item_move(
            JobItem.objects.filter(job__in=ours),
            source=Item.PENDING,
            target=Item.SKIPPED,
            **outcomes.record("cancelled"),
        )
        for job in ours:
            _audit("expire", job, before=Job.DRAFT)
    return expired


# -- following the connection -------------------------------------------------------------------


def jobs_pause_for_reauth(*, connection: Connection) -> None:
    """The connection lost its grant: pause its active jobs until someone reconnects."""
    for job in BatchJob.objects.filter(
        connection=connection, status__in=[Job.DRAFT, Job.QUEUED, Job.RUNNING]
    ):
        if states.job_move(
            job,
            target=Job.PAUSED,
            error=connection.last_error,
            pause_reason=BatchJob.PauseReason.NEEDS_REAUTH,
        ):
            notifications.job_paused_notify(job)


def jobs_resume_after_reauth(*, connection: Connection) -> None:
    """The owner reconnected: jobs paused for re-authorization carry on where they stopped."""
    paused = BatchJob.objects.filter(
        connection=connection, status=Job.PAUSED, pause_reason=BatchJob.PauseReason.NEEDS_REAUTH
    ).select_related("connection")
    for job in paused:
        job_resume(job=job)

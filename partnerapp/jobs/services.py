"""Batch jobs: create, prepare (resolve the selection into items), start, control, read.

Sending itself lives in `engine.py`. Nothing here sends anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerapp.connections.models import Connection
from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import CallContext, ConnectionUnusable, connection_call
from partnerapp.jobs import states
from partnerapp.jobs.models import Action, BatchJob, JobItem
from partnerapp.smartbusiness.errors import NotFound, SmartBusinessError

logger = logging.getLogger(__name__)
Item = JobItem.State
Job = BatchJob.Status
MAX_SELECTION = 1000
PREPARE_MAX_PACING_WAIT = 300.0


class JobInputError(Exception):
    """Input the user must fix; the message says what."""


@dataclass(frozen=True)
class EmailTemplate:
    subject: str
    body: str
    receipt: bool = False
    sender: str = ""  # "" = the company's default; CO, U, S or CE


def job_create_invoice_emails(
    *, user, connection: Connection, invoice_ids: list[int], template: EmailTemplate
) -> BatchJob:
    """A draft job sending `invoice_ids` by email; preparation starts after commit."""
    if connection.user_id != user.pk:
        raise JobInputError(_("This connection is not yours."))
    if not connection.is_usable:
        raise JobInputError(_("Reconnect this account before starting a job."))
    ids = list(dict.fromkeys(int(i) for i in invoice_ids))
    if not ids:
        raise JobInputError(_("Select at least one invoice."))
    if len(ids) > MAX_SELECTION:
        raise JobInputError(_("Select at most %(n)d invoices at once.") % {"n": MAX_SELECTION})
    if not template.subject.strip() or not template.body.strip():
        raise JobInputError(_("Subject and message must not be empty."))
    with transaction.atomic():
        job = BatchJob.objects.create(
            user=user,
            connection=connection,
            action=Action.INVOICE_SEND_BY_EMAIL,
            selection={"ids": ids},
            parameters={
                "subject": template.subject,
                "body": template.body,
                "receipt": template.receipt,
                "sender": template.sender,
            },
        )
        from partnerapp.jobs import tasks  # tasks import services: import at use

        transaction.on_commit(lambda: tasks.job_prepare.delay(job.pk))
    return job


def job_prepare(*, job_id: int) -> None:
    """Resolve the selection into items (reads only), then start the job if asked to.

    Safe to run twice: items are unique per document.
    """
    job = BatchJob.objects.select_related("connection").get(pk=job_id)
    if job.status != Job.DRAFT or job.prepared_at:
        return
    try:
        items = [_item_for(job, document_id) for document_id in job.selection.get("ids", [])]
    except ConnectionUnusable as exc:
        states.job_move(
            job, target=Job.PAUSED, pause_reason=BatchJob.PauseReason.NEEDS_REAUTH, error=str(exc)
        )
        return
    except (SmartBusinessError, PacingWait) as exc:
        states.job_move(
            job,
            target=Job.FAILED,
            finished_at=timezone.now(),
            error=_("Could not load the invoices: %(msg)s") % {"msg": str(exc)},
        )
        return
    with transaction.atomic():
        JobItem.objects.bulk_create(items, ignore_conflicts=True)
        BatchJob.objects.filter(pk=job.pk).update(prepared_at=timezone.now())
    if job.auto_start:
        job_start(job=job)


def _item_for(job: BatchJob, document_id: int) -> JobItem:
    try:
        invoice = connection_call(
            job.connection,
            lambda api: api.invoice(document_id, with_=["contact"]),
            CallContext(job_id=job.pk, max_wait=PREPARE_MAX_PACING_WAIT),
        )
    except NotFound:
        return JobItem(
            job=job,
            document_id=document_id,
            state=Item.SKIPPED,
            outcome=_("The invoice no longer exists."),
        )
    contact = invoice.get("contact") or {}
    item = JobItem(
        job=job,
        document_id=document_id,
        document_number=str(invoice.get("number", "")),
        document_status=str(invoice.get("status", "")),
        contact_name=str(invoice.get("contact_name") or contact.get("name") or ""),
        recipient_email=str(contact.get("email") or "").strip(),
        recipient_name=str(contact.get("name") or invoice.get("contact_name") or ""),
    )
    if item.document_status != "DR":
        item.state, item.outcome = (
            Item.SKIPPED,
            _("Not a draft (status %(s)s).") % {"s": item.document_status},
        )
    elif not item.recipient_email:
        item.state, item.outcome = Item.SKIPPED, _("The contact has no email address.")
    return item


def job_start(*, job: BatchJob) -> None:
    """Queue a prepared job and start its workers (after the transaction commits)."""
    sources = {Job.DRAFT, Job.PAUSED, Job.DONE}
    if not states.job_move(job, target=Job.QUEUED, sources=sources, pause_reason="", error=""):
        return
    job_kick(job=job)


def job_kick(*, job: BatchJob) -> None:
    """Enqueue as many work chains as the connection may run at once."""
    from partnerapp.jobs import tasks

    pending = job.items.filter(state=Item.PENDING).count()
    chains = max(1, min(settings.JOB_CONCURRENCY_PER_CONNECTION, pending))
    for _chain in range(chains):
        transaction.on_commit(lambda: tasks.job_run.delay(job.pk))


def job_counts(job: BatchJob) -> dict[str, int]:
    """Items per state, in one query: the job's counters never drift from its items."""
    counts = {state: 0 for state in Item.values}
    for row in job.items.values("state").annotate(n=Count("pk")):
        counts[row["state"]] = row["n"]
    counts["total"] = sum(counts[state] for state in Item.values)
    counts["finished"] = counts["total"] - counts[Item.PENDING] - counts[Item.SENDING]
    return counts


def jobs_for(user):
    return BatchJob.objects.filter(user=user).select_related("connection")


def jobs_awaiting_preparation(*, older_than: int | None = None) -> list[int]:
    """Draft jobs whose preparation never ran to the end (lost message, dead worker)."""
    age = settings.JOB_STALE_SENDING_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=age)
    drafts = BatchJob.objects.filter(status=Job.DRAFT, prepared_at=None, created_at__lt=cutoff)
    return list(drafts.values_list("pk", flat=True))


def jobs_pause_for_reauth(*, connection: Connection) -> None:
    """The connection lost its grant: pause its active jobs until someone reconnects."""
    for job in BatchJob.objects.filter(
        connection=connection, status__in=[Job.DRAFT, Job.QUEUED, Job.RUNNING]
    ):
        states.job_move(
            job,
            target=Job.PAUSED,
            pause_reason=BatchJob.PauseReason.NEEDS_REAUTH,
            error=connection.last_error,
        )


def jobs_resume_after_reauth(*, connection: Connection) -> None:
    """The owner reconnected: jobs paused for re-authorization carry on where they stopped."""
    paused = BatchJob.objects.filter(
        connection=connection, status=Job.PAUSED, pause_reason=BatchJob.PauseReason.NEEDS_REAUTH
    )
    for job in paused:
        if job.prepared_at:
            job_start(job=job)
        elif states.job_move(job, target=Job.DRAFT, pause_reason="", error=""):
            from partnerapp.jobs import tasks

            transaction.on_commit(lambda job_id=job.pk: tasks.job_prepare.delay(job_id))

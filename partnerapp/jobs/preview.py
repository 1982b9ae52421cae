"""The dry run shown before a job is queued: what will be sent, to whom, and what not."""

from __future__ import annotations

from dataclasses import dataclass

from partnerapp.jobs.actions import SEND_BY_EMAIL
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.services import job_counts, job_eta_seconds
from partnerapp.smartbusiness.placeholders import expand

RENDERED = 20
SKIPPED_SHOWN = 200


@dataclass(frozen=True)
class RenderedEmail:
    item: JobItem
    subject: str
    body: str


@dataclass(frozen=True)
class Preview:
    counts: dict[str, int]
    emails: list[RenderedEmail]
    skipped: list[JobItem]
    eta_seconds: float | None


def job_preview(job: BatchJob) -> Preview:
    counts = job_counts(job)
    pending = job.items.filter(state=JobItem.State.PENDING)
    emails = []
    if job.spec.operation == SEND_BY_EMAIL:
        emails = [email_rendered(job, item) for item in pending.order_by("pk")[:RENDERED]]
    skipped_items = job.items.filter(state=JobItem.State.SKIPPED).select_related(
        "conflict_item__job"
    )
    skipped = list(skipped_items.order_by("pk")[:SKIPPED_SHOWN])
    return Preview(
        counts=counts,
        emails=emails,
        skipped=skipped,
        eta_seconds=job_eta_seconds(job, counts[JobItem.State.PENDING]),
    )


def email_rendered(job: BatchJob, item: JobItem) -> RenderedEmail:
    creator = job.connection.owner_name
    params = job.parameters
    return RenderedEmail(
        item=item,
        subject=expand(params.get("subject", ""), item.snapshot, creator_name=creator),
        body=expand(params.get("body", ""), item.snapshot, creator_name=creator),
    )

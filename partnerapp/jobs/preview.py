"""The dry run shown before a job is queued: what will be sent, to whom, and what not."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Subquery

from partnerapp.jobs import ledger
from partnerapp.jobs.models import ActionClaim, BatchJob, JobItem
from partnerapp.jobs.operations import Context
from partnerapp.jobs.operations.texts import LANGUAGE_NAMES
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
class LanguageShare:
    """How many emails go in one language, and one of them rendered."""

    language: str
    name: str
    count: int
    example: RenderedEmail | None


@dataclass(frozen=True)
class Overlap:
    """Another unfinished job waiting to act on some of the same documents."""

    job: BatchJob | None  # None: another user's job (not theirs to see)
    count: int


@dataclass(frozen=True)
class Preview:
    counts: dict[str, int]
    emails: list[RenderedEmail]
    skipped: list[JobItem]
    eta_seconds: float | None
    overlaps: list[Overlap]
    # A resend job: the documents it acts on again, beside the earlier action's holder.
    again: list[tuple[JobItem, ActionClaim]]
    languages: list[LanguageShare] = ()  # type: ignore[assignment]


def job_preview(job: BatchJob) -> Preview:
    """What confirming would do now: documents another job has sent since preparation
    are skipped first (ledger.skip_held), and unconfirmed overlaps are named."""
    ledger.skip_held(job)
    counts = job_counts(job)
    pending = job.items.filter(state=JobItem.State.PENDING)
    emails = []
    if job.operation.sends_email:
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
        overlaps=overlaps_for(job),
        again=_again(job, pending),
        languages=languages_for(job, pending) if job.operation.sends_email else [],
    )


def languages_for(job: BatchJob, pending) -> list[LanguageShare]:
    """Per language: how many pending items' emails go in it, and one rendering."""
    rows = pending.order_by().values("language").annotate(n=Count("pk")).order_by("-n")
    shares = []
    for row in rows:
        example = pending.filter(language=row["language"]).order_by("pk").first()
        code = row["language"]
        shares.append(
            LanguageShare(
                language=code,
                name=LANGUAGE_NAMES.get(code, code or "—"),
                count=row["n"],
                example=email_rendered(job, example) if example else None,
            )
        )
    return shares


def _again(job: BatchJob, pending) -> list[tuple[JobItem, ActionClaim]]:
    """For a job told to resend: which documents were done before, and by whom."""
    if not job.parameters.get("resend"):
        return []
    items = list(pending.order_by("pk")[:SKIPPED_SHOWN])
    earlier = ledger.rows_for(job, items)
    pairs = [(item, earlier.get(ledger.identity(item))) for item in items]
    return [(item, row) for item, row in pairs if row is not None]


UNFINISHED = [BatchJob.Status.DRAFT, BatchJob.Status.QUEUED, BatchJob.Status.RUNNING]


def overlaps_for(job: BatchJob) -> list[Overlap]:
    """Other unfinished jobs (any user) with pending items for this job's pending documents.

    Each document is still acted on once (the ledger); this tells the person before
    they confirm, e.g. after Back and Continue again made a second job.
    """
    mine = job.items.filter(state=JobItem.State.PENDING).values("document_id")
    rows = (
        JobItem.objects.filter(
            state=JobItem.State.PENDING,
            document_id__in=Subquery(mine),
            job__action=job.action,
            job__status__in=[*UNFINISHED, BatchJob.Status.PAUSED],
            job__connection__base_url=job.connection.base_url,
            job__connection__account_id=job.connection.account_id,
        )
        .exclude(job=job)
        .values("job_id", "job__organization_id")
        .annotate(n=Count("pk"))
        .order_by("job_id")
    )
    rows = list(rows)
    ours = [r["job_id"] for r in rows if r["job__organization_id"] == job.organization_id]
    jobs = BatchJob.objects.in_bulk(ours)
    return [Overlap(job=jobs.get(r["job_id"]), count=r["n"]) for r in rows]


def email_rendered(job: BatchJob, item: JobItem) -> RenderedEmail | None:
    """The item's email as its recipient will read it (None: the operation sends none)."""
    text = job.operation.email_preview(item, Context(job.operation, job.parameters))
    if text is None:
        return None
    creator = job.connection.owner_name
    return RenderedEmail(
        item=item,
        subject=expand(text["subject"], item.snapshot, creator_name=creator),
        body=expand(text["body"], item.snapshot, creator_name=creator),
    )

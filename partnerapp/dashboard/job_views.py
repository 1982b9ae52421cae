"""Job pages: preview and confirm, live progress, items and their errors, control, CSV export.

The job page has two parts that refresh on their own: the live part (status, counts,
throughput, ETA, controls) polls itself at an interval the server picks — fast while
items move, slow when nothing changed or the job is paused, not at all once finished —
and the items table, which reloads only when the user filters or pages (or when the
job's status changes), so polling never touches what the user typed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from partnerapp.dashboard import selectors
from partnerapp.jobs import archives, export
from partnerapp.jobs import services as jobs
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.preview import email_rendered, job_preview
from partnerapp.organizations import audit, current
from partnerapp.organizations.permissions import Perm, member_required

ITEMS_PER_PAGE = 50
JOBS_PER_PAGE = 25
FAST, SLOW = 1, 5  # seconds between polls: while items move / when nothing changes
REOPENABLE = {BatchJob.Status.QUEUED, BatchJob.Status.RUNNING, BatchJob.Status.PAUSED}
REOPENABLE |= {BatchJob.Status.DONE}
UNCONFIRMED_SHOWN = 20


def _job(request: HttpRequest, pk: int) -> BatchJob:
    return current.get_or_404(request, BatchJob.objects.select_related("connection"), pk=pk)


def _int(value: str | None, *, default: int = 0, low: int = 0, high: int = 2**63 - 1) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if low <= number <= high else default


# -- the jobs list ----------------------------------------------------------------------------


@member_required(Perm.VIEW)
def job_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in BatchJob.Status.values else ""
    accounts = _account_filter(request)
    selected = jobs.jobs_for(request.organization).defer(*selectors.JOB_BULK)
    if accounts["chosen"]:
        selected = selected.filter(connection=accounts["chosen"])
    if accounts["account"]:
        selected = selected.filter(
            selectors.account_matching(accounts["account"], via="connection__")
        )
    # Drafts nobody confirmed are listed apart (unless asked for by status): they did
    # nothing yet and must not read like finished work between the jobs that ran.
    unconfirmed = selected.filter(status=BatchJob.Status.DRAFT, auto_start=False)
    drafts = [] if status else list(unconfirmed[:UNCONFIRMED_SHOWN])
    selected = selected.filter(status=status) if status else selected.exclude(pk__in=unconfirmed)
    page = Paginator(selected, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    counts = jobs.job_counts_many([job.pk for job in [*page, *drafts]])
    chosen = accounts["chosen"]
    query = {"status": status, "connection": chosen.pk if chosen else ""}
    if accounts["account"]:
        query["account"] = accounts["account"]
    context = {
        "page": page,
        "rows": [(job, counts[job.pk]) for job in page],
        "drafts": [(job, counts[job.pk]) for job in drafts],
        "status": status,
        "statuses": BatchJob.Status.choices,
        "connection": chosen.pk if chosen else 0,
        **accounts,
        "expiry_hours": settings.JOB_DRAFT_EXPIRY_HOURS,
        "query": urlencode(query),
    }
    return render(request, "dashboard/jobs.html", context)


def _account_filter(request: HttpRequest) -> dict:
    """The account filter: a list to pick from for a few accounts; for many, a search by
    name or account number (`account`), as a list of a thousand helps nobody. Either way
    `connection` (an id, as links give it) picks one account: `chosen`."""
    choices = selectors.account_choices(request.organization)
    chosen_pk = _int(request.GET.get("connection"))
    chosen = next((c for c in choices.options if c.pk == chosen_pk), None)
    if chosen is None and chosen_pk and choices.many:
        chosen = request.organization.connections.filter(pk=chosen_pk).first()
    return {
        "account_options": None if choices.many else choices.options,
        "chosen": chosen,
        "account": request.GET.get("account", "").strip()[:100],
    }


# -- the job page -----------------------------------------------------------------------------


def _live_context(request: HttpRequest, job: BatchJob) -> dict:
    """Status, counts, throughput, ETA, the controls that apply, and the next poll."""
    counts = jobs.job_counts(job)
    todo = counts[JobItem.State.PENDING] + counts[JobItem.State.SENDING]
    context = {"job": job, "counts": counts, "todo": todo, "interval": None}
    if job.status == BatchJob.Status.DRAFT and job.prepared_at:
        context["preview"] = job_preview(job)
    elif job.status in (BatchJob.Status.QUEUED, BatchJob.Status.RUNNING):
        context["throughput"] = jobs.job_throughput(job)
        eta = jobs.job_eta_seconds(job, todo) if todo else None
        context["eta_minutes"] = None if eta is None else round(eta / 60)
    reopenable = job.status in REOPENABLE
    context["failed"] = jobs.job_failed_counts(job) if counts[JobItem.State.FAILED] else {}
    context["can_retry"] = reopenable and context["failed"].get("retryable", 0) > 0
    context["can_resend"] = reopenable and counts[JobItem.State.UNCERTAIN] > 0
    if not job.is_finished and "preview" not in context:
        context["interval"], context["idle"] = _next_interval(request, job, counts)
        context["poll_query"] = urlencode(
            {"seen": counts["finished"], "idle": context["idle"], "status": _phase(job)}
        )
    return context


def _phase(job: BatchJob) -> str:
    """What the items table follows: the status, and for a draft whether its items exist
    yet (preparation ends without a status change, and the preview shows up)."""
    if job.status == BatchJob.Status.DRAFT and job.prepared_at:
        return "prepared"
    return job.status


def _next_interval(request: HttpRequest, job: BatchJob, counts: dict) -> tuple[int, int]:
    """Poll fast while items move; back off (1, 2, 4, 5 s) while nothing changes."""
    if job.status == BatchJob.Status.PAUSED:
        return SLOW, 0
    seen = request.GET.get("seen")
    idle = _int(request.GET.get("idle"), high=100)
    if seen is None:
        return FAST, 0
    idle = 0 if _int(seen, default=-1) != counts["finished"] else idle + 1
    return min(SLOW, FAST * 2**idle), idle


def _items_context(request: HttpRequest, job: BatchJob) -> dict:
    """A page of items; no count here (the live part counts by state): no COUNT per page."""
    state = request.GET.get("state", "")
    state = state if state in JobItem.State.values else ""
    search = request.GET.get("q", "").strip()[:100]
    page = jobs.job_items_page(
        job,
        state=state,
        search=search,
        after=_int(request.GET.get("after"), default=None),
        before=_int(request.GET.get("before"), default=None),
        last=request.GET.get("last") == "1",
        size=ITEMS_PER_PAGE,
    )
    filters = {key: value for key, value in (("state", state), ("q", search)) if value}
    context = {
        "job": job,
        "items": page,
        "state": state,
        "q": search,
        "states": JobItem.State.choices,
        "state_label": dict(JobItem.State.choices).get(state, ""),
        "filters": urlencode(filters),
    }
    return context


@member_required(Perm.VIEW)
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(request, "dashboard/job.html", _detail_context(request, job))


def _detail_context(request: HttpRequest, job: BatchJob) -> dict:
    context = _live_context(request, job)
    context.update(_items_context(request, job))
    context["name_max"] = jobs.NAME_MAX
    if archives.is_archive_job(job):
        context["archive_job"] = True
        context["archive"] = archives.archive_for(job)
        context["archive_packing"] = archives.archive_packing(job)
        context["archive_keep_days"] = settings.ARCHIVE_KEEP_DAYS
    return context


@member_required(Perm.OPERATE)
@require_http_methods(["POST"])
def job_rename(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page's name form. A name it refuses comes back on the job page, as typed,
    with the reason (400); an empty one brings back the default name."""
    job = _job(request, pk)
    typed = request.POST.get("name", "")
    try:
        jobs.job_rename(user=request.user, job=job, name=typed)
    except jobs.JobInputError as exc:
        context = {**_detail_context(request, job), "name_typed": typed, "name_error": str(exc)}
        return render(request, "dashboard/job.html", context, status=400)
    messages.success(request, _("The job is now called “%(name)s”.") % {"name": job.name})
    return redirect("dashboard:job", pk=job.pk)


@member_required(Perm.VIEW)
@require_http_methods(["GET"])
def job_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's ZIP of PDFs, streamed from disk, for the organization's members (everyone
    else gets 404). A link that outlived its ZIP leads back to the job page, which says why."""
    job = _job(request, pk)
    archive = archives.archive_for(job)
    try:
        if archive is None or not archive.available:
            raise FileNotFoundError
        file = open(archive.path, "rb")  # noqa: SIM115 (FileResponse closes it)
    except FileNotFoundError:  # none yet, or expired (perhaps just now)
        messages.warning(request, _("This job has no ZIP to download (any more)."))
        return redirect("dashboard:job", pk=job.pk)
    _record_export(job, "zip")
    return FileResponse(
        file, as_attachment=True, filename=archive.file_name, content_type="application/zip"
    )


@member_required(Perm.VIEW)
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the job page, polled by htmx; it carries the next interval."""
    job = _job(request, pk)
    response = render(request, "dashboard/_job_progress.html", _live_context(request, job))
    if request.GET.get("status") not in (None, _phase(job)):
        response["HX-Trigger"] = "job-changed"  # the items table reloads itself once
    return response


@member_required(Perm.VIEW)
def job_items(request: HttpRequest, pk: int) -> HttpResponse:
    """The items table alone: filtered, searched and paged without reloading the page."""
    job = _job(request, pk)
    context = _items_context(request, job)
    response = render(request, "dashboard/_job_items.html", context)
    if request.headers.get("HX-Trigger") == "job-items":
        return response  # the table reloading itself (job-changed): no new history entry
    query = request.GET.copy()
    response["HX-Push-Url"] = reverse("dashboard:job", args=[job.pk]) + (
        "?" + query.urlencode() if query else ""
    )
    return response


@member_required(Perm.VIEW)
def job_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """One item: its outcome, the provider's error with per-field errors, its email."""
    job = _job(request, pk)
    item = get_object_or_404(job.items, pk=item_pk)
    return render(request, "dashboard/job_item.html", _item_context(job, item))


def _item_context(job: BatchJob, item: JobItem) -> dict:
    detail = item.error_detail if isinstance(item.error_detail, dict) else {}
    meta = detail.get("meta") if isinstance(detail.get("meta"), dict) else {}
    field_errors = [e for e in meta.get("errors") or [] if isinstance(e, dict)]
    return {
        "job": job,
        "item": item,
        "detail": detail,
        "field_errors": field_errors,
        "email": email_rendered(job, item),
        "recipient_editable": jobs.item_recipient_editable(item, job),
    }


@member_required(Perm.OPERATE)
@require_http_methods(["POST"])
def job_item_recipient(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Correct the address the provider refused for one email item, and send it again.
    An address it refuses comes back on the item's page, as typed, with the reason (400)."""
    job = _job(request, pk)
    item = get_object_or_404(job.items, pk=item_pk)
    typed = request.POST.get("recipients", "")
    try:
        moved = jobs.item_recipient_retry(job=job, item_pk=item.pk, recipients=typed)
    except jobs.JobInputError as exc:
        context = {**_item_context(job, item), "recipient_typed": typed, "recipient_error": exc}
        return render(request, "dashboard/job_item.html", context, status=400)
    if moved:
        messages.success(request, _("The item is sent again to the new address."))
    else:
        messages.warning(request, _("Nothing changed: this item is not waiting for a new address."))
    return redirect("dashboard:job_item", pk=job.pk, item_pk=item.pk)


@member_required(Perm.OPERATE)
@require_http_methods(["POST"])
def job_item_resend(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Act again on one document another job did, after the person confirmed it."""
    job = _job(request, pk)
    item = get_object_or_404(job.items, pk=item_pk)
    try:
        moved = jobs.item_resend(
            job=job, item_pk=item.pk, confirmed=request.POST.get("confirm") == "yes"
        )
    except jobs.JobInputError as exc:
        messages.error(request, str(exc))
    else:
        if moved:
            messages.success(request, _("The document will be acted on again."))
        else:
            messages.warning(request, _("Nothing changed: this item cannot be done again."))
    return redirect("dashboard:job_item", pk=job.pk, item_pk=item.pk)


# -- control ----------------------------------------------------------------------------------


def _resend_uncertain(job: BatchJob, post) -> int:
    return jobs.job_resend_uncertain(job=job, confirmed=post.get("confirm") == "yes")


CONTROLS = {
    "confirm": (lambda job, post: jobs.job_start(job=job), gettext_lazy("The job is queued.")),
    "pause": (lambda job, post: jobs.job_pause(job=job), gettext_lazy("The job is paused.")),
    "resume": (lambda job, post: jobs.job_resume(job=job), gettext_lazy("The job resumes.")),
    "cancel": (lambda job, post: jobs.job_cancel(job=job), gettext_lazy("The job is cancelled.")),
    "retry-failed": (
        lambda job, post: jobs.job_retry_failed(job=job),
        gettext_lazy("Failed items are tried again."),
    ),
    "resend-uncertain": (_resend_uncertain, gettext_lazy("Uncertain items are sent again.")),
}
CONFIRM_PAGES = {"resend-uncertain"}  # GET shows the confirmation step, POST does it


def _resend_page(request: HttpRequest, job: BatchJob, *, error: str = "", status=200):
    uncertain = job.items.filter(state=JobItem.State.UNCERTAIN).order_by("pk")
    context = {
        "job": job,
        "uncertain": uncertain[:ITEMS_PER_PAGE],
        "count": jobs.job_counts(job)[JobItem.State.UNCERTAIN],
        "error": error,
    }
    return render(request, "dashboard/job_resend_confirm.html", context, status=status)


@member_required(Perm.VIEW, post=Perm.OPERATE)
@require_http_methods(["GET", "POST"])
def job_control(request: HttpRequest, pk: int, command: str) -> HttpResponse:
    job = _job(request, pk)
    if command not in CONTROLS:
        return HttpResponse(status=404)
    if request.method == "GET":
        if command not in CONFIRM_PAGES:
            return HttpResponse(status=405, headers={"Allow": "POST"})
        return _resend_page(request, job)
    perform, done = CONTROLS[command]
    try:
        changed = perform(job, request.POST)
    except jobs.JobInputError as exc:
        if command in CONFIRM_PAGES:
            return _resend_page(request, job, error=str(exc), status=400)
        messages.error(request, str(exc))
    else:
        if changed:
            messages.success(request, done)
        else:
            messages.warning(
                request, _("Nothing changed: the job is %(s)s.") % {"s": job.get_status_display()}
            )
    return redirect("dashboard:job", pk=job.pk)


@member_required(Perm.VIEW)
def job_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = _job(request, pk)
    _record_export(job, "csv")
    response = StreamingHttpResponse(export.csv_lines(job), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{export.file_name(job)}"'
    return response


def _record_export(job: BatchJob, file_format: str) -> None:
    # A read, but customer data leaves partnerapp: the audit log names who took it.
    audit.record(
        "job.export", organization=job.organization_id, obj=job, after={"format": file_format}
    )

"""Job pages: preview and confirm, live progress, control, CSV export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from partnerapp.jobs import export
from partnerapp.jobs import services as jobs
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.preview import job_preview

ITEMS_PER_PAGE = 50


def _job(request: HttpRequest, pk: int) -> BatchJob:
    return get_object_or_404(jobs.jobs_for(request.user), pk=pk)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(jobs.jobs_for(request.user), 25)
    page = paginator.get_page(request.GET.get("page"))
    rows = [(job, jobs.job_counts(job)) for job in page]
    return render(request, "dashboard/jobs.html", {"page": page, "rows": rows})


def _job_context(request: HttpRequest, pk: int) -> dict:
    job = _job(request, pk)
    state = request.GET.get("state", "")
    items = job.items.all()
    if state in JobItem.State.values:
        items = items.filter(state=state)
    if search := request.GET.get("q", "").strip()[:100]:
        items = items.filter(document_number__icontains=search) | items.filter(
            recipient_email__icontains=search
        )
    page = Paginator(items.order_by("pk"), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "job": job,
        "counts": jobs.job_counts(job),
        "items": page,
        "state": state,
        "q": search,
        "states": JobItem.State.choices,
    }
    if job.status == BatchJob.Status.DRAFT and job.prepared_at:
        context["preview"] = job_preview(job)
    return context


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "dashboard/job.html", _job_context(request, pk))


@login_required
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the job page, polled by htmx while the job runs."""
    return render(request, "dashboard/_job_progress.html", _job_context(request, pk))


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


@login_required
@require_POST
def job_control(request: HttpRequest, pk: int, command: str) -> HttpResponse:
    job = _job(request, pk)
    if command not in CONTROLS:
        return HttpResponse(status=404)
    perform, done = CONTROLS[command]
    try:
        changed = perform(job, request.POST)
    except jobs.JobInputError as exc:
        messages.error(request, str(exc))
    else:
        if changed:
            messages.success(request, done)
        else:
            messages.warning(
                request, _("Nothing changed: the job is %(s)s.") % {"s": job.get_status_display()}
            )
    return redirect("dashboard:job", pk=job.pk)


@login_required
def job_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    job = _job(request, pk)
    response = StreamingHttpResponse(export.csv_lines(job), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="partnerapp-job-{job.pk}.csv"'
    return response

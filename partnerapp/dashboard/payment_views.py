"""Payments from bank files: upload, the review page (matched, ambiguous, unmatched …), confirm.

Thin: parse the request, call `receivables.services`, render. The review page polls
itself while the file is being matched and while its payment job runs.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from partnerapp.bankfiles import MAX_BYTES
from partnerapp.connections.models import Connection
from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.operations import JobInputError
from partnerapp.organizations import current
from partnerapp.organizations.permissions import Perm, member_required
from partnerapp.receivables import services as receivables
from partnerapp.receivables.models import BankUpload

UPLOADS_SHOWN = 20
POLL_SECONDS = 2
UNFINISHED_ITEMS = {JobItem.State.PENDING, JobItem.State.SENDING}
FINISHED_JOBS = {BatchJob.Status.DONE, BatchJob.Status.CANCELLED, BatchJob.Status.FAILED}


class BankFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Bank file"),
        help_text=gettext_lazy(
            "camt.054 or camt.053 (XML, as your bank delivers it), or a CSV with the columns "
            "date; amount; currency; reference; payer; text."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB; upload a shorter period.")
                % {"mb": MAX_BYTES // 1024 // 1024}
            )
        return upload


def _upload(request: HttpRequest, pk: int) -> BankUpload:
    return current.get_or_404(request, BankUpload.objects.select_related("connection"), pk=pk)


@member_required(Perm.VIEW, post=Perm.OPERATE)
@require_http_methods(["GET", "POST"])
def bank_files(request: HttpRequest, pk: int) -> HttpResponse:
    """A connection's bank files: upload a new one, see the earlier ones."""
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    form = BankFileForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            file = form.cleaned_data["file"]
            try:
                upload = receivables.upload_receive(
                    user=request.user,
                    connection=connection,
                    data=file.read(),
                    filename=file.name or "",
                )
            except JobInputError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("dashboard:bank_file", pk=upload.pk)
        status = 400
    uploads = receivables.uploads_for(request.organization).filter(connection=connection)
    context = {
        "connection": connection,
        "form": form,
        "uploads": uploads[:UPLOADS_SHOWN],
    }
    return render(request, "dashboard/bank_files.html", context, status=status)


@member_required(Perm.VIEW)
def bank_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The review page of one upload (GET); the partial refresh for polling (?part=1)."""
    upload = _upload(request, pk)
    review = receivables.review(upload) if upload.state == BankUpload.State.READY else None
    context = _review_context(request, upload, review)
    template = (
        "dashboard/_bank_review.html" if request.GET.get("part") else "dashboard/bank_file.html"
    )
    return render(request, template, context)


def _review_context(request, upload: BankUpload, review) -> dict:
    running = bool(review) and any(_being_recorded(row) for row in review.submitted)
    waiting = upload.state == BankUpload.State.MATCHING or running
    return {
        "upload": upload,
        "connection": upload.connection,
        "review": review,
        "poll": POLL_SECONDS if waiting else 0,
        "user_jobs": _own_jobs(request, review),
    }


def _being_recorded(row) -> bool:
    """Still to look again: the item is unfinished, or its job has not made the items yet
    (right after the confirm, before a worker prepared the job)."""
    if row.item is not None:
        return row.item.state in UNFINISHED_ITEMS
    job = row.transaction.job
    return job is not None and job.status not in FINISHED_JOBS


def _own_jobs(request, review) -> set[int]:
    """The payment jobs on the page that are the viewer's (others' are not linked)."""
    job_ids = {row.transaction.job_id for row in review.submitted} if review else set()
    job_ids.discard(None)
    if not job_ids:
        return set()
    return set(
        BatchJob.objects.filter(organization=request.organization, pk__in=job_ids).values_list(
            "pk", flat=True
        )
    )


@member_required(Perm.OPERATE)
@require_POST
def bank_file_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the ticked payments: `pay_<transaction id>` = the invoice id."""
    upload = _upload(request, pk)
    picks: dict[int, int] = {}
    for name, value in request.POST.items():
        if not name.startswith("pay_") or not value:
            continue
        try:
            picks[int(name[4:])] = int(value)
        except ValueError:
            messages.error(request, _("The form was changed in a way it cannot be read."))
            return redirect("dashboard:bank_file", pk=upload.pk)
    try:
        job = receivables.payments_confirm(upload=upload, user=request.user, picks=picks)
    except JobInputError as exc:
        messages.error(request, str(exc))
        return redirect("dashboard:bank_file", pk=upload.pk)
    if job is None:
        messages.info(request, _("Nothing left to record: these payments were confirmed before."))
        return redirect("dashboard:bank_file", pk=upload.pk)
    count = len(job.parameters["payments"])
    messages.success(
        request,
        ngettext(
            "Recording %(n)d payment (job #%(job)d). It is recorded once.",
            "Recording %(n)d payments (job #%(job)d). Each is recorded once.",
            count,
        )
        % {"n": count, "job": job.pk},
    )
    return redirect("dashboard:bank_file", pk=upload.pk)


@member_required(Perm.OPERATE)
@require_POST
def bank_file_rematch(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _upload(request, pk)
    receivables.upload_rematch(upload=upload)
    messages.info(request, _("Matching again against your open invoices."))
    return redirect("dashboard:bank_file", pk=upload.pk)


@member_required(Perm.OPERATE)
@require_POST
def bank_file_release(request: HttpRequest, pk: int, transaction_pk: int) -> HttpResponse:
    upload = _upload(request, pk)
    if receivables.transaction_release(
        upload=upload, user=request.user, transaction_id=transaction_pk
    ):
        receivables.upload_rematch(upload=upload)
        messages.success(request, _("The entry is open again; it is matched anew."))
    else:
        messages.error(
            request, _("Only an entry whose payment was refused or skipped can be opened again.")
        )
    return redirect("dashboard:bank_file", pk=upload.pk)

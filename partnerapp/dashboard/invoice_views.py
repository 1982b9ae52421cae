"""The invoices browser: one connection's invoices, paged through the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from partnerapp.connections.models import Connection
from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import ConnectionUnusable, connection_call
from partnerapp.dashboard.forms import InvoiceFilterForm, SendInvoicesForm
from partnerapp.dashboard.views import query_without_page
from partnerapp.jobs import services as jobs
from partnerapp.smartbusiness.client import Filter, Page
from partnerapp.smartbusiness.errors import SmartBusinessError

INVOICES_PER_PAGE = 25


@login_required
def invoices(request: HttpRequest, pk: int) -> HttpResponse:
    """Browse a connection's invoices through the API; POST starts a send-by-email job."""
    connection = get_object_or_404(Connection, pk=pk, user=request.user)
    filters = InvoiceFilterForm(request.GET)
    filters.is_valid()
    page_number = filters.cleaned_data.get("page") or 1
    page, problem = _invoice_page(connection, filters.cleaned_data, page_number)
    if problem:
        connection.refresh_from_db()  # the call may have found it needs re-authorization
    shown_ids = [invoice["id"] for invoice in page.items] if page else []
    form = SendInvoicesForm(request.POST or None, invoice_ids=shown_ids)
    if request.method == "POST" and form.is_valid():
        try:
            job = jobs.job_create(
                user=request.user,
                connection=connection,
                action="invoice.send_by_email",
                selection_spec={"ids": form.cleaned_data["invoices"]},
                parameters=form.email_parameters(),
            )
        except jobs.JobInputError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("dashboard:job", pk=job.pk)
    selected = {str(i) for i in form.data.getlist("invoices")} if form.is_bound else set()
    shown = {str(i) for i in shown_ids}
    context = {
        "connection": connection,
        "filters": filters,
        "page": page,
        "page_number": page_number,
        "problem": problem,
        "form": form,
        "selected": selected,
        "selected_elsewhere": sorted(selected - shown, key=int),
        "query": query_without_page(request),
    }
    return render(request, "dashboard/invoices.html", context, status=400 if form.errors else 200)


def _invoice_page(connection: Connection, filters: dict, page_number: int):
    """One page of invoices, or None and a sentence saying what went wrong."""
    status = filters.get("status") or ""
    try:
        page: Page = connection_call(
            connection,
            lambda api: api.invoices(
                q=filters.get("q") or None,
                filter=Filter(status=status) if status else None,
                sort="-number",
                limit=INVOICES_PER_PAGE,
                offset=(page_number - 1) * INVOICES_PER_PAGE,
                with_=["contact"],
            ),
        )
    except (ConnectionUnusable, PacingWait) as exc:
        return None, str(exc)
    except SmartBusinessError as exc:
        reference = f" (X-Request-Id {exc.request_id})" if exc.request_id else ""
        return None, _("SmartBusiness answered: %(message)s") % {"message": exc.message} + reference
    return page, ""

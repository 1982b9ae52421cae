"""The invoices browser: one connection's invoices, paged, searched and sorted by the API.

Paging is a plain link; htmx follows it without a page load and swaps only the results
(the partial template), pushing the link into the history. The ticks of every page are kept
in the browser (static/js/app.js), so the bulk action posts them all."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from partnerapp.connections.models import Connection
from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import ConnectionUnusable, connection_call
from partnerapp.dashboard.forms import IdsField, InvoiceFilterForm
from partnerapp.jobs.operations import OPERATIONS
from partnerapp.jobs.operations.reminders import reminder_history
from partnerapp.jobs.selection import provider_filter
from partnerapp.organizations import current
from partnerapp.organizations.permissions import Perm, member_required
from partnerapp.smartbusiness.client import Page
from partnerapp.smartbusiness.errors import SmartBusinessError

INVOICES_PER_PAGE = 25
DEFAULT_SORT = "-number"
MORE_ACTIONS = [
    "invoice.send_reminders",
    "invoice.send_by_post",
    "invoice.change_status",
]  # the ticked ids are invoices


@member_required(Perm.VIEW)
def invoices(request: HttpRequest, pk: int) -> HttpResponse:
    """Browse a connection's invoices; ticked ones (kept across pages) open the job wizard."""
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    # Paging posts the ticked ids: hundreds of them would not fit in a URL.
    params = request.POST if request.method == "POST" else request.GET
    filters = InvoiceFilterForm(params)
    page, problem, valid = None, "", filters.is_valid()
    if valid:
        page, problem = _invoice_page(connection, filters)
        if problem:
            connection.refresh_from_db()  # the call may have found it needs re-authorization
    selected = _selected_ids(params)
    shown = {invoice["id"] for invoice in page.items} if page else set()
    filter_spec = filters.filter_spec() if valid else {}
    context = {
        "connection": connection,
        "filters": filters,
        "page": page,
        "page_number": (valid and filters.cleaned_data.get("page")) or 1,
        "problem": problem,
        "selected": {str(i) for i in selected},
        "selected_elsewhere": [i for i in selected if i not in shown],
        "filter_spec": filter_spec,
        # where the browser keeps the ticks: one selection per connection and filter
        "selection_key": f"{connection.pk}?{urlencode(sorted(filter_spec.items()))}",
        "pager": _pager(request.path, filters, page) if page else {},
        "more_actions": [(key, OPERATIONS[key].label) for key in MORE_ACTIONS],
        # the reminders this user's jobs sent for the invoices shown: one query per page
        "reminders": reminder_history(connection, shown, organization=request.organization)
        if shown
        else {},
    }
    response = render(request, _template(request), context, status=400 if filters.errors else 200)
    patch_vary_headers(response, ["HX-Request"])  # a cache must not mix the page and its part
    return response


def _template(request: HttpRequest) -> str:
    """The results alone for htmx's paging; the whole page otherwise (also when htmx asks
    for a page to restore the history)."""
    htmx = request.htmx  # type: ignore[attr-defined]  # django_htmx's middleware
    if htmx and not htmx.history_restore_request:
        return "dashboard/_invoice_results.html"
    return "dashboard/invoices.html"


def _pager(path: str, filters: InvoiceFilterForm, page: Page) -> dict[str, str]:
    """The previous and next pages' links: the filter, sort and page size as they are."""
    data = filters.cleaned_data
    query = {
        **filters.filter_spec(),
        "sort": data.get("sort") or "",
        "per_page": data.get("per_page") or "",
    }
    query = {key: value for key, value in query.items() if value}
    number = data.get("page") or 1
    links = {}
    if number > 1:
        links["previous"] = f"{path}?" + urlencode(
            {**query, "page": min(number, page.pages + 1) - 1}
        )
    if number < page.pages:
        links["next"] = f"{path}?" + urlencode({**query, "page": number + 1})
    return links


def _selected_ids(params: QueryDict) -> list[int]:
    """The ids ticked so far; junk in the query is dropped, not an error, while browsing."""
    try:
        return IdsField(required=False).clean(params.getlist("ids"))
    except ValidationError:  # a tampered list only loses the selection
        return []


def _invoice_page(connection: Connection, filters: InvoiceFilterForm) -> tuple[Page | None, str]:
    """One page of invoices, or None and a sentence saying what went wrong."""
    data = filters.cleaned_data
    per_page = data.get("per_page") or INVOICES_PER_PAGE
    page_number = data.get("page") or 1
    spec = filters.filter_spec()
    try:
        page: Page = connection_call(
            connection,
            lambda api: api.invoices(
                q=spec.get("q"),
                filter=provider_filter(spec, today=timezone.localdate()),
                sort=data.get("sort") or DEFAULT_SORT,
                limit=per_page,
                offset=(page_number - 1) * per_page,
                with_=["contact"],
            ),
        )
    except (ConnectionUnusable, PacingWait) as exc:
        return None, str(exc)
    except SmartBusinessError as exc:
        reference = f" (X-Request-Id {exc.request_id})" if exc.request_id else ""
        return None, _("SmartBusiness answered: %(message)s") % {"message": exc.message} + reference
    return page, ""

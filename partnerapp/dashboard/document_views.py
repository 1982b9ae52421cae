"""One invoice's page: what the provider holds of it, its preview image, what partnerapp
did to it, and the actions that start from it."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from partnerapp.bankfiles.matching import money
from partnerapp.connections.models import Connection
from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import ConnectionUnusable, connection_call
from partnerapp.dashboard.selectors import invoice_history
from partnerapp.jobs.operations import OPERATIONS
from partnerapp.organizations import current
from partnerapp.organizations.permissions import Perm, member_required
from partnerapp.smartbusiness.client import DocumentKind
from partnerapp.smartbusiness.describe import describe
from partnerapp.smartbusiness.errors import NotFound, SmartBusinessError
from partnerapp.smartbusiness.vocabulary import status_label

INVOICE_WITHS = ["contact", "positions"]
ACTIONS = ["invoice.send_by_email", "invoice.send_reminders", "invoice.archive_pdfs"]
DATE_FIELDS = ("date", "due", "paid_date")


@member_required(Perm.VIEW)
@require_GET
def invoice(request: HttpRequest, pk: int, invoice_id: int) -> HttpResponse:
    """The invoice as the provider has it now, with this user's history of it; a provider
    problem is a sentence on the page (404 when the invoice is gone), never a 500."""
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    document, problem, gone = _read_invoice(connection, invoice_id)
    if problem:
        connection.refresh_from_db()  # the call may have found it needs re-authorization
    context = {
        "connection": connection,
        "invoice_id": invoice_id,
        "invoice": document,
        "problem": problem,
        "history": invoice_history(connection, invoice_id, organization=request.organization),
        "actions": [(key, OPERATIONS[key].label) for key in ACTIONS],
    }
    return render(request, "dashboard/invoice.html", context, status=404 if gone else 200)


@member_required(Perm.VIEW)
@require_GET
def invoice_preview(request: HttpRequest, pk: int, invoice_id: int) -> HttpResponse:
    """The provider's preview image of the invoice, passed through: the browser never
    holds the token. 404 when the invoice is gone, 502 when the provider cannot answer."""
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    try:
        image, content_type = connection_call(
            connection, lambda api: api.document_preview(DocumentKind.INVOICE, invoice_id)
        )
    except NotFound as exc:
        raise Http404(_("This invoice no longer exists.")) from exc
    except (ConnectionUnusable, PacingWait, SmartBusinessError):
        return HttpResponse(status=502)
    response = HttpResponse(image, content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    return response


@member_required(Perm.VIEW)
@require_GET
def invoice_pdf(request: HttpRequest, pk: int, invoice_id: int) -> HttpResponse:
    """The provider's PDF of the invoice, passed through to open in the browser (the token
    stays with us). 404 when the invoice is gone, 502 when the provider cannot answer."""
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    try:
        pdf = connection_call(
            connection, lambda api: api.document_pdf(DocumentKind.INVOICE, invoice_id)
        )
    except NotFound as exc:
        raise Http404(_("This invoice no longer exists.")) from exc
    except (ConnectionUnusable, PacingWait, SmartBusinessError):
        return HttpResponse(status=502)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="invoice-{invoice_id}.pdf"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _read_invoice(connection: Connection, invoice_id: int) -> tuple[dict | None, str, bool]:
    """(the invoice, "", False), or (None, a sentence saying what went wrong, whether
    the provider said the invoice does not exist)."""
    try:
        document = connection_call(
            connection, lambda api: api.invoice(invoice_id, with_=INVOICE_WITHS)
        )
    except NotFound:
        return None, _("This invoice no longer exists."), True
    except (ConnectionUnusable, PacingWait) as exc:
        return None, str(exc), False
    except SmartBusinessError as exc:
        reference = f" (X-Request-Id {exc.request_id})" if exc.request_id else ""
        message = _("SmartBusiness answered: %(message)s") % {"message": describe(exc)}
        return None, message + reference, False
    return _displayed(document), "", False


def _displayed(document: dict[str, Any]) -> dict[str, Any]:
    """The provider's invoice with what the page shows derived: dates as dates (the
    template writes them the Swiss way), the status as a word, the amount still open."""
    shown = dict(document)
    for field in DATE_FIELDS:
        shown[field] = _date(document.get(field))
    shown["status_label"] = status_label(document.get("status") or "")
    shown["open"] = max(money(document.get("total")) - money(document.get("total_paid")), 0)
    return shown


def _date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:  # an odd value from the provider leaves the field empty
        return None

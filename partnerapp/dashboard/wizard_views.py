"""The job wizard: action, selection, email template with a live rendering, options."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partnerapp.connections.models import Connection
from partnerapp.connections.pacing import PacingWait
from partnerapp.connections.services import ConnectionUnusable, connection_call
from partnerapp.dashboard.forms import (
    OWN_PLACEHOLDER_HELP,
    PLACEHOLDER_HELP,
    JobWizardForm,
    SelectionFilterForm,
)
from partnerapp.jobs import services as jobs
from partnerapp.jobs.operations import OPERATIONS
from partnerapp.jobs.operations.reminders import LEVELS
from partnerapp.jobs.operations.texts import LANGUAGE_NAMES
from partnerapp.jobs.selection import provider_filter
from partnerapp.smartbusiness.client import DocumentKind
from partnerapp.smartbusiness.describe import describe, missing_scope_message
from partnerapp.smartbusiness.errors import NotFound, SmartBusinessError
from partnerapp.smartbusiness.placeholders import expand, unknown_placeholders
from partnerapp.smartbusiness.vocabulary import status_label

WIZARD_FIELDS = ("q", "status", "date_from", "date_to", "contact_id")


@dataclass(frozen=True)
class Rendering:
    """Subject and body as the recipient of one selected document will read them."""

    document: dict | None = None
    subject: str = ""
    body: str = ""
    recipient: str = ""
    unknown: tuple[str, ...] = ()
    problem: str = ""


@login_required
def job_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The wizard, prefilled from the invoices browser (GET, or POST `from_browser`);
    POST creates the job and redirects to its page (the preview), or renders the email."""
    connection = get_object_or_404(Connection, pk=pk, user=request.user)
    scopes = connection.scope_list
    if request.method != "POST":
        form = JobWizardForm(initial=_initial(request.GET), granted_scopes=scopes)
        return _page(request, connection, form)
    if "from_browser" in request.POST:  # the browser posts its selection: start the wizard
        form = JobWizardForm(initial=_initial(request.POST), granted_scopes=scopes)
        return _page(request, connection, form)
    form = JobWizardForm(request.POST, granted_scopes=scopes)
    if "render" in request.POST:  # the "Render" button of browsers without JavaScript
        return _page(request, connection, form, rendering=_rendering(connection, request.POST))
    if form.is_valid():
        try:
            job = jobs.job_create(
                user=request.user,
                connection=connection,
                action=form.cleaned_data["action"],
                selection_spec=form.selection_spec(),
                parameters=form.parameters(),
                auto_start=False,
            )
        except jobs.JobInputError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("dashboard:job", pk=job.pk)
    return _page(request, connection, form, status=400)


@login_required
@require_POST
def job_new_render(request: HttpRequest, pk: int) -> HttpResponse:
    """The live rendering (htmx): subject and body expanded for one selected document."""
    connection = get_object_or_404(Connection, pk=pk, user=request.user)
    context = {"rendering": _rendering(connection, request.POST), "connection": connection}
    return render(request, "dashboard/_wizard_render.html", context)


def _page(request, connection, form, *, rendering=None, status=200) -> HttpResponse:
    context = {
        "connection": connection,
        "form": form,
        "rendering": rendering,
        "placeholders": PLACEHOLDER_HELP,
        "own_placeholders": OWN_PLACEHOLDER_HELP,
        "reminder_texts": reminder_texts(form),
    }
    return render(request, "dashboard/wizard.html", context, status=status)


def reminder_texts(form) -> list[tuple[str, list[tuple[str, object, object]]]]:
    """Each reminder level's subject and message fields per language, for the page."""
    return [
        (
            status_label(level),
            [
                (name, form[f"{level}_subject_{code}"], form[f"{level}_body_{code}"])
                for code, name in LANGUAGE_NAMES.items()
            ],
        )
        for level in LEVELS
    ]


def _initial(query: QueryDict) -> dict:
    """What the invoices browser passed: the action, the ticked ids or "all matching"."""
    initial = {key: query.get(key) for key in WIZARD_FIELDS if query.get(key)}
    ids = [part for part in query.getlist("ids") if part.isdigit()]
    initial["ids"] = ids
    initial["selection"] = "ids" if ids and not query.get("all_matching") else "filter"
    if query.get("action") in OPERATIONS:
        initial["action"] = query["action"]
    return initial


def _rendering(connection: Connection, data: QueryDict) -> Rendering:
    subject, body = data.get("subject", "")[:255], data.get("body", "")[:10000]
    unknown = tuple(unknown_placeholders(subject + "\n" + body))
    action = OPERATIONS.get(data.get("action", ""), OPERATIONS["invoice.send_by_email"])
    if action.name != "send_by_email":
        return Rendering(problem=_("This action sends no email."))
    if action.required_scope not in connection.scope_list:
        return Rendering(unknown=unknown, problem=missing_scope_message(action.required_scope))
    try:
        document = _one_document(connection, action.kind, data)
    except (ConnectionUnusable, PacingWait, ValueError) as exc:
        return Rendering(unknown=unknown, problem=str(exc))
    except SmartBusinessError as exc:
        return Rendering(unknown=unknown, problem=describe(exc))
    if document is None:
        return Rendering(unknown=unknown, problem=_("No document matches the selection."))
    override = jobs.recipient_addresses(data.get("recipient_override", ""))
    use_override = data.get("recipients") == "override" and override
    contact = document.get("contact") or {}
    creator = connection.owner_name
    return Rendering(
        document=document,
        subject=expand(subject, document, creator_name=creator),
        body=expand(body, document, creator_name=creator),
        recipient=", ".join(override) if use_override else str(contact.get("email") or ""),
        unknown=unknown,
    )


def _one_document(connection: Connection, kind: DocumentKind, data: QueryDict) -> dict | None:
    """The first selected document with its contact, read from the provider."""
    ids = [int(part) for part in data.getlist("ids") if part.isdigit() and 0 < int(part) < 2**63]
    if data.get("selection") == "ids" and ids:
        try:
            return connection_call(
                connection, lambda api: api.document(kind, ids[0], with_=["contact"])
            )
        except NotFound:
            raise ValueError(_("Document %(id)s no longer exists.") % {"id": ids[0]}) from None
    filters = SelectionFilterForm(data)
    if not filters.is_valid():
        raise ValueError(_("Fix the filter first."))
    spec = filters.filter_spec()
    if data.get("contact_id", "").isdigit():
        spec["contact_id"] = int(data["contact_id"])
    page = connection_call(
        connection,
        lambda api: api.documents(
            kind,
            filter=provider_filter(spec, today=timezone.localdate()),
            q=spec.get("q"),
            with_=["contact"],
            limit=1,
            sort="number",
        ),
    )
    return page.items[0] if page.items else None

"""The job wizard: action, selection, email template with a live rendering, options."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.forms import BoundField
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone, translation
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
    shipped_email_texts,
    wizard_data,
)
from partnerapp.jobs import services as jobs
from partnerapp.jobs.operations import OPERATIONS
from partnerapp.jobs.operations.reminders import LEVELS
from partnerapp.jobs.operations.texts import LANGUAGE_NAMES, item_language
from partnerapp.jobs.selection import provider_filter
from partnerapp.organizations import current
from partnerapp.organizations.permissions import Perm, member_required
from partnerapp.smartbusiness.client import MAX_PAGE_SIZE, DocumentKind, Filter, stable_sort
from partnerapp.smartbusiness.describe import describe, missing_scope_message
from partnerapp.smartbusiness.errors import NotFound, SmartBusinessError
from partnerapp.smartbusiness.placeholders import expand, unknown_placeholders
from partnerapp.smartbusiness.vocabulary import DOCUMENT_LANGUAGES, status_label

WIZARD_FIELDS = ("q", "status", "date_from", "date_to", "contact_id")


@dataclass(frozen=True)
class Rendering:
    """Subject and body in one language's text as the recipient of one selected document
    will read them."""

    language: str = ""  # the text's language (a tab); "" for a problem common to all
    document: dict | None = None
    document_language: str = ""  # the language that document's email goes in
    subject: str = ""
    body: str = ""
    recipient: str = ""
    unknown: tuple[str, ...] = ()
    problem: str = ""

    @property
    def language_name(self) -> str:
        return LANGUAGE_NAMES.get(self.language, "")

    @property
    def document_language_name(self) -> str:
        return LANGUAGE_NAMES.get(self.document_language, "")

    @property
    def in_another_language(self) -> bool:
        """No selected document is in the text's language: another one stands in."""
        return bool(self.document and self.language and self.document_language != self.language)


@dataclass(frozen=True)
class EmailTab:
    """One language's subject and message in the wizard; the default language's tab also
    shows the errors of the text every language without its own gets."""

    language: str
    name: str
    subject: BoundField
    body: BoundField
    subject_label: str
    body_label: str
    is_default: bool
    active: bool
    subject_errors: tuple[str, ...] = ()
    body_errors: tuple[str, ...] = ()

    @property
    def has_error(self) -> bool:
        own = self.subject.errors or self.body.errors
        return bool(own or self.subject_errors or self.body_errors)


@member_required(Perm.OPERATE)
def job_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The wizard, prefilled from the invoices browser (GET, or POST `from_browser`);
    POST creates the job and redirects to its page (the preview), or renders the email."""
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    scopes = connection.scope_list
    if request.method != "POST":
        form = JobWizardForm(initial=_initial(request.GET), granted_scopes=scopes)
        return _page(request, connection, form)
    if "from_browser" in request.POST:  # the browser posts its selection: start the wizard
        form = JobWizardForm(initial=_initial(request.POST), granted_scopes=scopes)
        return _page(request, connection, form)
    form = JobWizardForm(request.POST, granted_scopes=scopes)
    if "render" in request.POST:  # the "Render" button of browsers without JavaScript
        renderings = _renderings(connection, form.data, DOCUMENT_LANGUAGES)
        return _page(request, connection, form, renderings=renderings)
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


@member_required(Perm.OPERATE)
@require_POST
def job_new_render(request: HttpRequest, pk: int) -> HttpResponse:
    """The live rendering (htmx): the open tab's text expanded for a selected document in
    that language (`render_language`; else the job's default language)."""
    connection = current.get_or_404(request, Connection.objects, pk=pk)
    data = wizard_data(request.POST)
    language = data.get("render_language") or ""
    if language not in DOCUMENT_LANGUAGES:
        language = _default_language(data)
    context = {"renderings": _renderings(connection, data, [language]), "connection": connection}
    return render(request, "dashboard/_wizard_render.html", context)


def _page(request, connection, form, *, renderings=None, status=200) -> HttpResponse:
    tabs = email_tabs(form)
    context = {
        "connection": connection,
        "form": form,
        "renderings": renderings,
        "placeholders": PLACEHOLDER_HELP,
        "own_placeholders": OWN_PLACEHOLDER_HELP,
        "reminder_levels": reminder_tabs(form),
        "action_warnings": action_warnings(),
        "email_tabs": tabs,
        "open_language": next(tab.language for tab in tabs if tab.active),
        "shipped_email_texts": shipped_email_texts(),
    }
    return render(request, "dashboard/wizard.html", context, status=status)


def email_tabs(form: JobWizardForm) -> list[EmailTab]:
    """The email's text per language, each tab's labels in its own language (the text is
    written in it). The tab that opens: the first with an error, else the default one."""
    default = form.default_language()
    tabs = [_email_tab(form, code, name, default) for code, name in LANGUAGE_NAMES.items()]
    failing = [tab.language for tab in tabs if tab.has_error]
    opened = failing[0] if failing else default
    return [replace(tab, active=tab.language == opened) for tab in tabs]


def _email_tab(form: JobWizardForm, code: str, name: str, default: str) -> EmailTab:
    with translation.override(code):
        subject_label, body_label = _("Subject"), _("Message")
    subject, body = form[f"subject_{code}"], form[f"body_{code}"]
    fallback: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if code == default and _posts_one_text(form, code):
        # A script's post gave the one text for every language: the default tab shows it.
        subject, body = form["subject"], form["body"]
    elif code == default:  # the errors of that one text (when nothing was written)
        fallback = (tuple(form["subject"].errors), tuple(form["body"].errors))
    return EmailTab(
        language=code,
        name=name,
        subject=subject,
        body=body,
        subject_label=subject_label,
        body_label=body_label,
        is_default=code == default,
        active=False,
        subject_errors=fallback[0],
        body_errors=fallback[1],
    )


def _posts_one_text(form: JobWizardForm, default: str) -> bool:
    """Whether the post gave `subject`/`body` for all languages and no text of the default
    language's own."""
    data = form.data if form.is_bound else {}
    given = [bool((data.get(name) or "").strip()) for name in ("subject", "body")]
    own = [bool((data.get(f"{name}_{default}") or "").strip()) for name in ("subject", "body")]
    return any(given) and not any(own)


@dataclass(frozen=True)
class ReminderLevel:
    """One reminder level's texts in the wizard: a tab per language, as the email's."""

    level: str  # "R1"
    label: str  # "1st reminder"
    tabs: list[EmailTab]

    @property
    def has_error(self) -> bool:
        return any(tab.has_error for tab in self.tabs)


def reminder_tabs(form: JobWizardForm) -> list[ReminderLevel]:
    """Each level's subject and message per language; the tab that opens: the first with
    an error, else the job's default language."""
    default = form.default_language()
    levels = []
    for level in LEVELS:
        tabs = [_reminder_tab(form, level, code, name) for code, name in LANGUAGE_NAMES.items()]
        failing = [tab.language for tab in tabs if tab.has_error]
        opened = failing[0] if failing else default
        tabs = [replace(tab, active=tab.language == opened) for tab in tabs]
        levels.append(ReminderLevel(level=level, label=status_label(level), tabs=tabs))
    return levels


def _reminder_tab(form: JobWizardForm, level: str, code: str, name: str) -> EmailTab:
    with translation.override(code):
        subject_label, body_label = _("Subject"), _("Message")
    return EmailTab(
        language=code,
        name=name,
        subject=form[f"{level}_subject_{code}"],
        body=form[f"{level}_body_{code}"],
        subject_label=subject_label,
        body_label=body_label,
        is_default=False,
        active=False,
    )


def action_warnings() -> list[tuple[str, str]]:
    """What confirming does at the provider, per operation (the archive only reads): each
    distinct warning with the operation names it is shown for (`data-operations`)."""
    groups: dict[str, list[str]] = {}
    for operation in OPERATIONS.values():
        names = groups.setdefault(str(operation.warning), [])
        if operation.reads_selection and operation.name not in names:
            names.append(operation.name)
    return [(" ".join(names), text) for text, names in groups.items() if names]


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


# -- the rendering ------------------------------------------------------------------------------


def _renderings(connection: Connection, data, languages) -> list[Rendering]:
    """Per language, its text expanded for a selected document in that language, else for
    the first selected one; one Rendering with the problem when none can be shown."""
    action = OPERATIONS.get(data.get("action", ""), OPERATIONS["invoice.send_by_email"])
    written = {language: _written_text(data, language) for language in languages}
    unknown = tuple(dict.fromkeys(p for text in written.values() for p in _unknown(text)))
    problem = _problem(connection, action)
    if problem:
        return [Rendering(unknown=unknown, problem=problem)]
    try:
        first = _one_document(connection, action.kind, data)
        if first is None:
            return [Rendering(unknown=unknown, problem=_("No document matches the selection."))]
        return [
            _rendering(connection, action.kind, data, language, written[language], first)
            for language in languages
        ]
    except (ConnectionUnusable, PacingWait, ValueError) as exc:
        return [Rendering(unknown=unknown, problem=str(exc))]
    except SmartBusinessError as exc:
        return [Rendering(unknown=unknown, problem=describe(exc))]


def _problem(connection: Connection, action) -> str:
    if action.name != "send_by_email":
        return _("This action sends no email.")
    if action.required_scope not in connection.scope_list:
        return missing_scope_message(action.required_scope)
    return ""


def _rendering(connection, kind, data, language: str, text: dict, first: dict) -> Rendering:
    default = _default_language(data)
    document = first
    if item_language(first, default) != language:
        document = _document_in(connection, kind, data, language) or first
    override = jobs.recipient_addresses(data.get("recipient_override", ""))
    use_override = data.get("recipients") == "override" and override
    contact = document.get("contact") or {}
    creator = connection.owner_name
    return Rendering(
        language=language,
        document=document,
        document_language=item_language(document, default),
        subject=expand(text["subject"], document, creator_name=creator),
        body=expand(text["body"], document, creator_name=creator),
        recipient=", ".join(override) if use_override else str(contact.get("email") or ""),
        unknown=_unknown(text),
    )


def _written_text(data, language: str) -> dict[str, str]:
    """The text an email in `language` carries, as the job would store it: the language's
    own, else the one text a script's post may give for all, else the default language's."""
    for suffix in (f"_{language}", "", f"_{_default_language(data)}"):
        subject = data.get(f"subject{suffix}", "")[:255]
        body = data.get(f"body{suffix}", "")[:10000]
        if subject.strip() or body.strip():
            return {"subject": subject, "body": body}
    return {"subject": "", "body": ""}


def _unknown(text: dict[str, str]) -> list[str]:
    return unknown_placeholders(text["subject"] + "\n" + text["body"])


def _default_language(data) -> str:
    language = data.get("language") or ""
    return language if language in DOCUMENT_LANGUAGES else "de"


def _selected_ids(data) -> list[int]:
    ids = [int(part) for part in data.getlist("ids") if part.isdigit() and 0 < int(part) < 2**63]
    return ids if data.get("selection") == "ids" else []


def _selected_filter(data) -> tuple[Filter, str | None]:
    """The wizard's filter as the provider's, and its search text."""
    filters = SelectionFilterForm(data)
    if not filters.is_valid():
        raise ValueError(_("Fix the filter first."))
    spec = filters.filter_spec()
    if data.get("contact_id", "").isdigit():
        spec["contact_id"] = int(data["contact_id"])
    return provider_filter(spec, today=timezone.localdate()), spec.get("q")


def _one_document(connection: Connection, kind: DocumentKind, data) -> dict | None:
    """The first selected document with its contact, read from the provider."""
    ids = _selected_ids(data)
    if ids:
        try:
            return connection_call(
                connection, lambda api: api.document(kind, ids[0], with_=["contact"])
            )
        except NotFound:
            raise ValueError(_("Document %(id)s no longer exists.") % {"id": ids[0]}) from None
    selected, q = _selected_filter(data)
    return _first(connection, kind, selected, q)


def _document_in(connection: Connection, kind: DocumentKind, data, language: str) -> dict | None:
    """A selected document in `language` (by its own language field), or None."""
    ids = _selected_ids(data)
    if ids:
        selected, q = Filter(id={"in": ids[:MAX_PAGE_SIZE]}), None
    else:
        selected, q = _selected_filter(data)
    return _first(connection, kind, selected & Filter(language=language), q)


def _first(connection: Connection, kind: DocumentKind, selected: Filter, q) -> dict | None:
    page = connection_call(
        connection,
        lambda api: api.documents(
            kind, filter=selected, q=q, with_=["contact"], limit=1, sort=stable_sort(kind)
        ),
    )
    return page.items[0] if page.items else None

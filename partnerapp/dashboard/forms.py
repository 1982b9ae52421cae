"""Forms of the dashboard: the invoices browser's filters and the job wizard."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from partnerapp.jobs import selection
from partnerapp.jobs.operations import OPERATIONS, operation_choices, parameter_fields
from partnerapp.jobs.operations.base import DOCUMENTS
from partnerapp.jobs.operations.texts import SHIPPED, shipped_texts
from partnerapp.smartbusiness.describe import missing_scope_message
from partnerapp.smartbusiness.placeholders import PLACEHOLDERS
from partnerapp.smartbusiness.vocabulary import DOCUMENT_LANGUAGES, status_choices

STATUS_CHOICES = status_choices(empty=_("All statuses"))
SORT_CHOICES = [
    ("-number", _("Number, newest first")),
    ("number", _("Number, oldest first")),
    ("-date", _("Date, newest first")),
    ("date", _("Date, oldest first")),
    ("-due", _("Due date, latest first")),
    ("due", _("Due date, earliest first")),
    ("-total", _("Total, largest first")),
    ("total", _("Total, smallest first")),
    ("status", _("Status, A to Z")),
    ("-status", _("Status, Z to A")),
]
PER_PAGE_CHOICES = [("25", "25"), ("50", "50"), ("100", "100"), ("200", "200")]
DEFAULT_SUBJECT, DEFAULT_BODY = SHIPPED["invoice"]
PLACEHOLDER_HELP = [
    ("{INVOICENO}", _("the document number")),
    ("{CUSTOMERNO}", _("the customer number")),
    ("{CLIENTNAME}", _("the customer's name")),
    ("{SALUTATION}", _("the customer's salutation")),
    ("{DATE}", _("the document date")),
    ("{DATEDUE}", _("the due date")),
    ("{TOTAL}", _("the total amount")),
    ("{CURRENCY}", _("the currency")),
    ("{INVOICEAMOUNT}", _("currency and total")),
    ("{CREATORNAME}", _("the account owner's name")),
]
assert [code for code, _help in PLACEHOLDER_HELP] == list(PLACEHOLDERS)
OWN_PLACEHOLDER_HELP = [
    ("{OPENAMOUNT}", _("the open amount (total less what was paid)")),
    ("{DAYSOVERDUE}", _("days since the due date")),
]


EMAIL_TEXT_FIELDS = ("subject", "body")


@cache
def shipped_email_texts() -> dict[str, dict[str, dict[str, str]]]:
    """Each document kind's shipped email text in every language, `{kind: {language:
    {"subject", "body"}}}`: the wizard's starting texts, and how it tells a text nobody
    touched from one the user typed. (The catalogs do not change while a process runs.)"""
    return {kind: shipped_texts(kind) for kind in DOCUMENTS}


def reader_language() -> str:
    """The job's default email language to start with: the reader's, when partnerapp writes
    emails in it (else German)."""
    language = (translation.get_language() or "")[:2]
    return language if language in DOCUMENT_LANGUAGES else "de"


def untouched(value: str, *, language: str, field: str) -> bool:
    """Whether `value` is still some document kind's shipped `field` in `language` (browsers
    post a textarea's line breaks as CRLF)."""
    typed = value.replace("\r\n", "\n").strip()
    return any(texts[language][field] == typed for texts in shipped_email_texts().values())


def with_kind_texts(data: Mapping, document: str) -> Mapping:
    """`data` with every untouched email text replaced by `document`'s shipped text in that
    language — what switching the document kind does in the browser, for a page posted
    without JavaScript. What the user typed stays."""
    swapped = data.copy()  # a QueryDict's copy is mutable
    for language, text in shipped_email_texts()[document].items():
        for field in EMAIL_TEXT_FIELDS:
            name = f"{field}_{language}"
            if isinstance(data.get(name), str) and untouched(
                data[name], language=language, field=field
            ):
                swapped[name] = text[field]
    return swapped


def wizard_data(data: Mapping) -> Mapping:
    """The wizard's posted data, its untouched texts those of the chosen document kind."""
    operation = OPERATIONS.get(data.get("action") or "")
    return with_kind_texts(data, operation.document) if operation else data


# <input type=date> speaks ISO dates in every language; parsing accepts ISO everywhere too.
ISO_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SelectionFilterForm(forms.Form):
    """A filter over documents: what the browser shows and what a job may select."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    date_from = forms.DateField(label=_("Date from"), required=False, widget=ISO_DATE)
    date_to = forms.DateField(label=_("Date to"), required=False, widget=ISO_DATE)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date lies before the start date."))
        if "\x00" in (data.get("q") or ""):
            self.add_error("q", _("The search contains a null character."))
        return data

    def filter_spec(self) -> dict:
        """The job selection's filter (selection.FILTER_KEYS), without empty fields."""
        data = self.cleaned_data
        spec = {
            "status": data.get("status") or "",
            "date_from": data["date_from"].isoformat() if data.get("date_from") else "",
            "date_to": data["date_to"].isoformat() if data.get("date_to") else "",
            "contact_id": data.get("contact_id") or "",
            "q": (data.get("q") or "").strip(),
        }
        return {key: value for key, value in spec.items() if value}


class InvoiceFilterForm(SelectionFilterForm):
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORT_CHOICES, required=False)
    per_page = forms.TypedChoiceField(
        label=_("Per page"), choices=PER_PAGE_CHOICES, coerce=int, required=False
    )
    page = forms.IntegerField(label=_("Page"), min_value=1, max_value=100000, required=False)


class IdsField(forms.Field):
    """Document ids posted as repeated values (`ids=1&ids=2`) or one comma-separated value."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        parts = [part.strip() for raw in values for part in str(raw).split(",") if part.strip()]
        try:
            ids = [int(part) for part in parts]
        except ValueError:
            raise forms.ValidationError(_("Document ids must be whole numbers.")) from None
        if any(not 0 < i < 2**63 for i in ids):
            raise forms.ValidationError(_("Document ids must be positive whole numbers."))
        if len(set(ids)) > selection.MAX_IDS:
            raise forms.ValidationError(
                _("Select at most %(n)d documents by hand; use a filter for more.")
                % {"n": selection.MAX_IDS}
            )
        return list(dict.fromkeys(ids))


SELECTION_CHOICES = [
    ("ids", _("The documents ticked in the invoices browser")),
    ("filter", _("Every document matching the filter below")),
]


class ActionSelect(forms.Select):
    """The list of actions, in which those the connection may not run are disabled."""

    def __init__(self, attrs=None, choices=()):
        super().__init__(attrs, choices)
        self.unavailable: dict[str, str] = {}  # action key → why; the form sets it

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value in self.unavailable:
            option["attrs"].update(disabled=True, title=self.unavailable[value])
        return option


class OperationFieldsMixin:
    """The fields of every operation's parameters form, of which only the chosen
    operation's are validated — by that operation's own form (the wizard and schedules
    share this; `job_create` checks a stored dict with the same form)."""

    def add_operation_fields(self) -> None:
        for name, field in parameter_fields().items():
            self.fields.setdefault(name, field)
        self.initial.setdefault("subject", DEFAULT_SUBJECT)  # in the reader's language
        self.initial.setdefault("body", DEFAULT_BODY)
        self.initial.setdefault("recipients", "contact")
        if not self.initial.get("days_R1"):  # the shipped reminder texts, every language
            reminders = OPERATIONS["invoice.send_reminders"].form(initial=self.initial)
            reminders.initial_texts()
            self.initial = reminders.initial

    def clean_operation(self, operation) -> None:
        """Validate the posted parameters with `operation`'s form; its errors join ours."""
        self.parameters_form = operation.form(self.data)
        if not self.parameters_form.is_valid():
            for name, errors in self.parameters_form.errors.items():
                for error in errors:
                    self.add_error(None if name not in self.fields else name, error)

    def parameters(self) -> dict:
        """The job's parameters, as the chosen operation's form gives them."""
        return self.parameters_form.parameters()


class JobWizardForm(OperationFieldsMixin, SelectionFilterForm):
    """Everything a new job needs: the action, the documents, and the fields of every
    operation's parameters form (`jobs/operations/`), of which only the chosen
    operation's are validated — by that operation's own form.

    Actions whose scope the connection was not granted are shown disabled, and refused
    when posted all the same."""

    action = forms.ChoiceField(label=_("Action"), widget=ActionSelect)
    selection = forms.ChoiceField(
        label=_("Documents"), choices=SELECTION_CHOICES, widget=forms.RadioSelect, initial="filter"
    )
    ids = IdsField(required=False)
    contact_id = forms.IntegerField(
        label=_("Contact id"), required=False, min_value=1, max_value=2**63 - 1
    )

    def __init__(self, data=None, *args, granted_scopes: Iterable[str], **kwargs):
        super().__init__(None if data is None else wizard_data(data), *args, **kwargs)
        self.fields["action"].choices = operation_choices()
        self.add_operation_fields()
        granted = set(granted_scopes)
        self.missing_scopes = {
            key: op.required_scope
            for key, op in OPERATIONS.items()
            if op.required_scope not in granted
        }
        self.fields["action"].widget.unavailable = {
            key: missing_scope_message(scope) for key, scope in self.missing_scopes.items()
        }
        if self.initial.get("action") in self.missing_scopes:
            # Not preselected: the browser selects the first action that is available.
            self.initial = {k: v for k, v in self.initial.items() if k != "action"}
        if not self.is_bound:
            self.start_email_texts()

    def first_action(self) -> str:
        """The action the page starts with: the one passed in, else the first available."""
        choices = [key for key, _label in self.fields["action"].choices]
        available = [key for key in choices if key not in self.missing_scopes] or choices
        return self.initial.get("action") or available[0]

    def start_email_texts(self) -> None:
        """Every language's tab starts with the shipped text of the chosen document kind,
        and the job's default language is the reader's."""
        document = OPERATIONS[self.first_action()].document
        self.initial.setdefault("language", reader_language())
        for language, text in shipped_email_texts()[document].items():
            for field in EMAIL_TEXT_FIELDS:
                self.initial.setdefault(f"{field}_{language}", text[field])

    def default_language(self) -> str:
        """The job's default email language as the page shows it (posted or initial)."""
        language = self["language"].value()
        return language if language in DOCUMENT_LANGUAGES else "de"

    def missing_scope_messages(self) -> list[str]:
        """One explanation per scope the actions lack, for the page."""
        return [missing_scope_message(s) for s in dict.fromkeys(self.missing_scopes.values())]

    def clean(self):
        data = super().clean()
        if data.get("selection") == "ids" and not data.get("ids"):
            self.add_error("selection", _("No documents are ticked; choose the filter instead."))
        operation = OPERATIONS.get(data.get("action", ""))
        if operation is None:
            return data
        if operation.key in self.missing_scopes:
            self.add_error("action", missing_scope_message(self.missing_scopes[operation.key]))
            return data
        if data.get("selection") == "ids" and operation.document != "invoice":
            self.add_error(
                "action", _("The ticked documents are invoices: choose an invoice action.")
            )
        self.clean_operation(operation)
        if operation.name == "send_by_email":
            self.clean_default_text(data)
        return data

    def clean_default_text(self, data: dict) -> None:
        """The default language's text goes to every language left empty: the wizard asks
        for it whenever another language has a text (and no `subject` stands in for all,
        as a post from a script may give)."""
        if (data.get("subject") or "").strip() or data.get("language") not in DOCUMENT_LANGUAGES:
            return
        default = data["language"]
        given = {
            language
            for language in DOCUMENT_LANGUAGES
            if any((data.get(f"{field}_{language}") or "").strip() for field in EMAIL_TEXT_FIELDS)
        }
        if given and default not in given:
            self.add_error(
                f"subject_{default}",
                _(
                    "Write the default language's subject and message: every language "
                    "left empty gets them."
                ),
            )

    def selection_spec(self) -> dict:
        if self.cleaned_data["selection"] == "ids":
            return {"ids": self.cleaned_data["ids"]}
        return {"filter": self.filter_spec()}

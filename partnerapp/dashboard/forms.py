"""Forms of the dashboard: the invoices browser's filters and the job wizard."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerapp.jobs import selection
from partnerapp.jobs.actions import (
    ACTIONS,
    CHANGE_STATUS,
    SEND_BY_EMAIL,
    SEND_BY_POST,
    missing_scope_message,
)
from partnerapp.jobs.services import RECIPIENTS_MAX_CHARS, recipient_addresses
from partnerapp.smartbusiness.placeholders import PLACEHOLDERS, unknown_placeholders

STATUS_CHOICES = [
    ("", _("All statuses")),
    ("DR", _("Draft")),
    ("S", _("Sent")),
    ("P", _("Paid")),
    ("PP", _("Partially paid")),
    ("R1", _("1st reminder")),
    ("R2", _("2nd reminder")),
    ("R3", _("3rd reminder")),
    ("R", _("Reminder")),
    ("DC", _("Debt collection")),
    ("C", _("Cancelled")),
]
SENDER_CHOICES = [
    ("", _("Company default")),
    ("CO", _("Company email")),
    ("U", _("Your user email")),
    ("S", _("Company SMTP")),
    ("CE", _("Central no-reply address")),
]
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
DEFAULT_SUBJECT = _("Invoice {INVOICENO}")
DEFAULT_BODY = _(
    "{SALUTATION}\n\n"
    "Please find attached our invoice {INVOICENO} of {DATE} for {INVOICEAMOUNT}, "
    "payable by {DATEDUE}.\n\n"
    "Kind regards\n{CREATORNAME}"
)
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


ACTION_CHOICES = [(key, spec.label[:1].upper() + spec.label[1:]) for key, spec in ACTIONS.items()]
CHANGE_TO_CHOICES = [choice for choice in STATUS_CHOICES if choice[0]]
SELECTION_CHOICES = [
    ("ids", _("The documents ticked in the invoices browser")),
    ("filter", _("Every document matching the filter below")),
]
RECIPIENT_CHOICES = [
    ("contact", _("The email address of each document's contact")),
    ("override", _("These addresses instead (for every document)")),
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


class JobWizardForm(SelectionFilterForm):
    """Everything a new job needs; only the fields of the chosen action are validated.

    Actions whose scope the connection was not granted are shown disabled, and refused
    when posted all the same."""

    action = forms.ChoiceField(label=_("Action"), choices=ACTION_CHOICES, widget=ActionSelect)
    selection = forms.ChoiceField(
        label=_("Documents"), choices=SELECTION_CHOICES, widget=forms.RadioSelect, initial="filter"
    )
    ids = IdsField(required=False)
    contact_id = forms.IntegerField(
        label=_("Contact id"), required=False, min_value=1, max_value=2**63 - 1
    )
    subject = forms.CharField(
        label=_("Subject"), required=False, max_length=255, initial=DEFAULT_SUBJECT
    )
    body = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        initial=DEFAULT_BODY,
    )
    sender = forms.ChoiceField(label=_("From"), choices=SENDER_CHOICES, required=False)
    receipt = forms.BooleanField(label=_("Send a receipt instead of the invoice"), required=False)
    recipients = forms.ChoiceField(
        label=_("Recipients"),
        choices=RECIPIENT_CHOICES,
        widget=forms.RadioSelect,
        initial="contact",
    )
    recipient_override = forms.CharField(
        label=_("Override addresses"),
        required=False,
        max_length=1000,
        help_text=_("Separate several addresses with commas."),
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"}),
    )
    color = forms.BooleanField(label=_("Print in colour"), required=False)
    duplex = forms.BooleanField(label=_("Print on both sides"), required=False)
    priority = forms.BooleanField(label=_("Priority mail (A-Post)"), required=False)
    new_status = forms.ChoiceField(
        label=_("New status"), choices=[("", "—"), *CHANGE_TO_CHOICES], required=False
    )
    resend = forms.BooleanField(
        label=_("Resend: also act on documents that were already sent"), required=False
    )

    def __init__(self, *args, granted_scopes: Iterable[str], **kwargs):
        super().__init__(*args, **kwargs)
        granted = set(granted_scopes)
        self.missing_scopes = {
            key: spec.required_scope
            for key, spec in ACTIONS.items()
            if spec.required_scope not in granted
        }
        self.fields["action"].widget.unavailable = {
            key: missing_scope_message(scope) for key, scope in self.missing_scopes.items()
        }
        if self.initial.get("action") in self.missing_scopes:
            # Not preselected: the browser selects the first action that is available.
            self.initial = {k: v for k, v in self.initial.items() if k != "action"}

    def missing_scope_messages(self) -> list[str]:
        """One explanation per scope the actions lack, for the page."""
        return [missing_scope_message(s) for s in dict.fromkeys(self.missing_scopes.values())]

    def clean(self):
        data = super().clean()
        if data.get("selection") == "ids" and not data.get("ids"):
            self.add_error("selection", _("No documents are ticked; choose the filter instead."))
        action = data.get("action")
        if action not in ACTIONS:
            return data
        if action in self.missing_scopes:
            self.add_error("action", missing_scope_message(self.missing_scopes[action]))
            return data
        if data.get("selection") == "ids" and ACTIONS[action].document != "invoice":
            self.add_error(
                "action", _("The ticked documents are invoices: choose an invoice action.")
            )
        operation = ACTIONS[action].operation
        if operation == SEND_BY_EMAIL:
            self._clean_email(data, ACTIONS[action].document)
        if operation == CHANGE_STATUS and not data.get("new_status"):
            self.add_error("new_status", _("Choose the status to change to."))
        return data

    def _clean_email(self, data: dict, document: str) -> None:
        for name in ("subject", "body"):
            text = (data.get(name) or "").strip()
            if not text:
                self.add_error(name, _("This field is required."))
            elif unknown := unknown_placeholders(text):
                self.add_error(
                    name,
                    _("Unknown placeholder %(p)s; check the spelling. Known: %(known)s")
                    % {"p": ", ".join(unknown), "known": " ".join(PLACEHOLDERS)},
                )
        if data.get("receipt") and document != "invoice":
            self.add_error("receipt", _("Only invoices can be sent as a receipt."))
        if data.get("recipients") == "override":
            self._clean_override(data.get("recipient_override") or "")

    def _clean_override(self, raw: str) -> None:
        addresses = recipient_addresses(raw)
        if not addresses:
            self.add_error("recipient_override", _("Enter at least one email address."))
            return
        field = forms.EmailField()
        for address in addresses:
            try:
                field.clean(address)
            except forms.ValidationError:
                self.add_error(
                    "recipient_override", _("Not an email address: %(a)s") % {"a": address}
                )
                return
        if len(", ".join(addresses)) > RECIPIENTS_MAX_CHARS:
            self.add_error("recipient_override", _("These addresses are too long together."))

    def selection_spec(self) -> dict:
        if self.cleaned_data["selection"] == "ids":
            return {"ids": self.cleaned_data["ids"]}
        return {"filter": self.filter_spec()}

    def parameters(self) -> dict:
        """The job's parameters for the chosen action, in the keys the engine reads."""
        data, operation = self.cleaned_data, ACTIONS[self.cleaned_data["action"]].operation
        params: dict = {}
        if operation in (SEND_BY_EMAIL, SEND_BY_POST):
            params["resend"] = data["resend"]
        if operation == SEND_BY_EMAIL:
            params.update(
                subject=data["subject"].strip(),
                body=data["body"].strip(),
                sender=data["sender"],
                receipt=data["receipt"],
            )
            if data["recipients"] == "override":
                params["recipient_override"] = recipient_addresses(data["recipient_override"])
        elif operation == SEND_BY_POST:
            params.update(color=data["color"], duplex=data["duplex"], priority=data["priority"])
        else:
            params["status"] = data["new_status"]
        return params

"""Send documents by email (`PATCH …/send-by-email`), each in its customer's language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partnerapp.jobs.operations import texts
from partnerapp.jobs.operations.base import (
    Context,
    Operation,
    ParametersForm,
    Step,
    checkbox,
)
from partnerapp.jobs.outcomes import Outcome, outcome
from partnerapp.smartbusiness import vocabulary
from partnerapp.smartbusiness.client import (
    ActionResult,
    EmailSender,
    Recipient,
    SmartBusinessClient,
)
from partnerapp.smartbusiness.placeholders import PLACEHOLDERS, unknown_placeholders

RECIPIENTS_MAX_CHARS = 254  # the override addresses, joined, fit one item's recipient field
RECIPIENT_CHOICES = [
    ("contact", gettext_lazy("The email address of each document's contact")),
    ("override", gettext_lazy("These addresses instead (for every document)")),
]
LANGUAGE_CHOICES = list(texts.LANGUAGE_NAMES.items())


def recipient_addresses(value) -> list[str]:
    """Override addresses: a list, or one string separated by commas, semicolons or
    line breaks."""
    if not value:
        return []
    parts = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    return [str(part).strip() for raw in parts for part in str(raw).split() if part.strip()]


def bad_address(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return True
    return False


def addresses_problem(addresses: list[str]) -> str:
    """Why these addresses cannot be an item's recipients ("" when they can): the rules of
    the wizard's override, and of correcting one refused item's recipient."""
    if not addresses:
        return _("Enter at least one email address.")
    for address in addresses:
        if bad_address(address):
            return _("Not an email address: %(a)s") % {"a": address}
    if len(", ".join(addresses)) > RECIPIENTS_MAX_CHARS:
        return _("The override addresses may be at most %(n)d characters long together.") % {
            "n": RECIPIENTS_MAX_CHARS
        }
    return ""


def address_refused(item) -> bool:
    """Whether the provider refused the item's email for its recipient address (a 422 that
    names a recipient field): retrying is no use, another address may be."""
    detail = item.error_detail if isinstance(item.error_detail, dict) else {}
    meta = detail.get("meta") if isinstance(detail.get("meta"), dict) else {}
    keys = [str(e.get("key", "")) for e in meta.get("errors") or [] if isinstance(e, dict)]
    return item.error_status == 422 and any(key.startswith("recipient") for key in keys)


def unknown_in(text: str, *, own: tuple[str, ...] = ()) -> list[str]:
    return [p for p in unknown_placeholders(text) if p not in own]


class EmailTextsMixin:
    """Subject and body for every language, plus the fallback `subject`/`body`."""

    own_placeholders: tuple[str, ...] = ()

    def add_language_fields(self, prefix: str = "") -> None:
        for code, name in texts.LANGUAGE_NAMES.items():
            self.fields[f"{prefix}subject_{code}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": name},
                required=False,
                max_length=255,
            )
            self.fields[f"{prefix}body_{code}"] = forms.CharField(
                label=_("Message (%(language)s)") % {"language": name},
                required=False,
                max_length=10000,
                widget=forms.Textarea(attrs={"rows": 8}),
            )

    def clean_texts(self, data: dict, prefix: str = "") -> dict[str, dict[str, str]]:
        """The per-language texts given in full; errors on half-given or unknown ones."""
        chosen = {}
        for code in texts.LANGUAGE_NAMES:
            subject_key, body_key = f"{prefix}subject_{code}", f"{prefix}body_{code}"
            subject = (data.get(subject_key) or "").strip()
            body = (data.get(body_key) or "").strip()
            if bool(subject) != bool(body):
                missing = body_key if subject else subject_key
                self.add_error(missing, _("Give both subject and message, or neither."))
                continue
            for key, text in ((subject_key, subject), (body_key, body)):
                self.check_placeholders(key, text)
            if subject:
                chosen[code] = {"subject": subject, "body": body}
        return chosen

    def check_placeholders(self, name: str, text: str) -> None:
        unknown = unknown_in(text, own=self.own_placeholders)
        if unknown:
            known = " ".join((*PLACEHOLDERS, *self.own_placeholders))
            self.add_error(
                name,
                _("Unknown placeholder %(p)s; check the spelling. Known: %(known)s")
                % {"p": ", ".join(unknown), "known": known},
            )


class EmailForm(EmailTextsMixin, ParametersForm):
    subject = forms.CharField(label=gettext_lazy("Subject"), required=False, max_length=255)
    body = forms.CharField(
        label=gettext_lazy("Message"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language for documents and contacts without one"),
        choices=LANGUAGE_CHOICES,
        required=False,
    )
    sender = forms.ChoiceField(
        label=gettext_lazy("From"), choices=list(vocabulary.EMAIL_SENDERS.items()), required=False
    )
    receipt = forms.BooleanField(
        label=gettext_lazy("Send a receipt instead of the invoice"), required=False
    )
    recipients = forms.ChoiceField(
        label=gettext_lazy("Recipients"),
        choices=RECIPIENT_CHOICES,
        widget=forms.RadioSelect,
        initial="contact",
        required=False,
    )
    recipient_override = forms.CharField(
        label=gettext_lazy("Override addresses"),
        required=False,
        max_length=1000,
        help_text=gettext_lazy("Separate several addresses with commas."),
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"}),
    )
    resend = forms.BooleanField(
        label=gettext_lazy("Resend: also act on documents that were already sent"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_language_fields()

    def clean(self):
        data = super().clean()
        self.templates = self.clean_texts(data)
        for name in ("subject", "body"):
            text = (data.get(name) or "").strip()
            if not text and not self.templates:
                self.add_error(name, _("This field is required."))
            self.check_placeholders(name, text)
        if data.get("receipt") and self.operation.document != "invoice":
            self.add_error("receipt", _("Only invoices can be sent as a receipt."))
        if data.get("recipients") == "override":
            self._clean_override(data.get("recipient_override") or "")
        return data

    def _clean_override(self, raw: str) -> None:
        problem = addresses_problem(recipient_addresses(raw))
        if problem:
            self.add_error("recipient_override", problem)

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        fallback = {"subject": data["subject"].strip(), "body": data["body"].strip()}
        language = data.get("language") or ""
        if not fallback["subject"]:  # only per-language texts: the default one stands in
            fallback = self.templates.get(language) or next(iter(self.templates.values()))
        params: dict[str, Any] = {
            **fallback,
            "sender": data["sender"],
            "receipt": data["receipt"],
            "resend": data["resend"],
        }
        if self.templates:
            params["templates"] = self.templates
        if language:
            params["language"] = language
        if data.get("recipients") == "override":
            params["recipient_override"] = recipient_addresses(data["recipient_override"])
        return params

    @classmethod
    def data_for(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        override = recipient_addresses(parameters.get("recipient_override"))
        data = {
            "subject": parameters.get("subject", ""),
            "body": parameters.get("body", ""),
            "language": parameters.get("language", ""),
            "sender": parameters.get("sender", ""),
            "receipt": checkbox(parameters.get("receipt")),
            "resend": checkbox(parameters.get("resend")),
            "recipients": "override" if override else "contact",
            "recipient_override": ", ".join(override),
        }
        for code, text in (parameters.get("templates") or {}).items():
            if isinstance(text, dict):
                data[f"subject_{code}"] = text.get("subject", "")
                data[f"body_{code}"] = text.get("body", "")
        return data


def email_text(item, context: Context, *, templates=None, fallback=None) -> dict[str, str]:
    """Subject and body as sent for `item`: its language's text, own placeholders expanded
    (the provider expands its own)."""
    params = context.parameters
    chosen = texts.text_for(
        params.get("templates") if templates is None else templates,
        params if fallback is None else fallback,
        item.language or params.get("language") or "de",
    )
    today = timezone.localdate()
    return {
        key: texts.expand_own(value, item.snapshot, today=today) for key, value in chosen.items()
    }


def recipients_of(item) -> list[Recipient]:
    """One recipient per address; an item holds several when the job overrides them."""
    addresses = [a.strip() for a in item.recipient_email.split(",") if a.strip()]
    if len(addresses) == 1:
        return [Recipient(email=addresses[0], name=item.recipient_name)]
    return [Recipient(email=address, name="") for address in addresses]


def recipient_problem(item) -> Outcome | None:
    """Why the item cannot be emailed, found before sending (None when it can)."""
    addresses = [a.strip() for a in item.recipient_email.split(",") if a.strip()]
    if not addresses:
        return outcome("no_email")
    broken = [address for address in addresses if bad_address(address)]
    if broken:
        return outcome("invalid_email", a=broken[0])
    return None


class SendEmail(Step):
    name = "send_by_email"
    label = gettext_lazy("send by email")

    def perform(self, api: SmartBusinessClient, item, context: Context) -> ActionResult:
        params = context.parameters
        text = email_text(item, context)
        return api.send_by_email(
            context.operation.kind,
            item.document_id,
            subject=text["subject"],
            body=text["body"],
            recipients=recipients_of(item),
            receipt=bool(params.get("receipt")),
            sender=EmailSender(params["sender"]) if params.get("sender") else None,
        )

    def took_effect(self, api: SmartBusinessClient, item, context: Context) -> bool:
        return draft_was_sent(api, item, context)


def draft_was_sent(api: SmartBusinessClient, item, context: Context) -> bool:
    """A sent draft leaves the draft status; a resent document proves nothing."""
    after = api.document(context.operation.kind, item.document_id).get("status")
    return item.document_status == vocabulary.DRAFT and after not in (None, vocabulary.DRAFT)


def draft_or_resend(document: dict[str, Any], params: dict[str, Any]) -> Outcome | None:
    status = str(document.get("status", ""))
    if status != vocabulary.DRAFT and not params.get("resend"):
        return outcome("not_draft", s=status)
    return None


class SendByEmail(Operation):
    name = "send_by_email"
    title = gettext_lazy("Send %(documents)s by email")
    name_title = gettext_lazy("%(documents)s by email")
    form_class = EmailForm
    steps = (SendEmail(),)
    sends = sends_email = True

    def skip_reason(self, document, item, context, *, today) -> Outcome | None:
        return (
            super().skip_reason(document, item, context, today=today)
            or draft_or_resend(document, context.parameters)
            or recipient_problem(item)
        )

    def prepare_item(self, item, document, context) -> None:
        params = context.parameters
        override = recipient_addresses(params.get("recipient_override"))
        contact = document.get("contact") or {}
        item.recipient_email = (
            ", ".join(override) if override else str(contact.get("email") or "").strip()
        )
        item.language = texts.item_language(document, params.get("language") or "de")

    def email_preview(self, item, context: Context) -> dict[str, str]:
        """Subject and body the item's email carries (before the provider's placeholders)."""
        return email_text(item, context)

    def initial(self, *, language: str) -> dict[str, Any]:
        """The wizard's starting texts: the shipped one in the reader's language."""
        return texts.shipped_text(self.document, language)

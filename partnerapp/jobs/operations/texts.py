"""Email texts in the customer's language: which language an item gets, which text it
sends, the texts partnerapp ships, and the placeholders partnerapp expands itself.

Each email goes in the document's `language`, then its contact's, then the job's
default. A job's parameters hold `subject`/`body` (for every language without a text
of its own) and optionally `templates: {"fr": {"subject", "body"}, …}`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from partnerapp.smartbusiness.placeholders import swiss_amount
from partnerapp.smartbusiness.vocabulary import DOCUMENT_LANGUAGES

LANGUAGE_NAMES = {"de": "Deutsch", "fr": "Français", "it": "Italiano", "en": "English"}
# Placeholders partnerapp expands before sending (the provider does not know them).
OWN_PLACEHOLDERS = ("{OPENAMOUNT}", "{DAYSOVERDUE}")

# The texts partnerapp ships, as translatable strings: each language's text is the
# catalog's translation (`shipped_text(key, "fr")`).
SHIPPED = {
    "invoice": (
        _("Invoice {INVOICENO}"),
        _(
            "{SALUTATION}\n\nPlease find attached our invoice {INVOICENO} of {DATE} for "
            "{INVOICEAMOUNT}, payable by {DATEDUE}.\n\nKind regards\n{CREATORNAME}"
        ),
    ),
    "offer": (
        _("Offer {INVOICENO}"),
        _(
            "{SALUTATION}\n\nPlease find attached our offer {INVOICENO} of {DATE} for "
            "{INVOICEAMOUNT}. We look forward to hearing from you.\n\nKind regards\n{CREATORNAME}"
        ),
    ),
    "delivery_note": (
        _("Delivery note {INVOICENO}"),
        _(
            "{SALUTATION}\n\nPlease find attached the delivery note {INVOICENO} of {DATE}."
            "\n\nKind regards\n{CREATORNAME}"
        ),
    ),
    "order_confirmation": (
        _("Order confirmation {INVOICENO}"),
        _(
            "{SALUTATION}\n\nThank you for your order. Please find attached our order "
            "confirmation {INVOICENO} of {DATE} for {INVOICEAMOUNT}.\n\nKind regards\n{CREATORNAME}"
        ),
    ),
    "letter": (
        _("Our letter of {DATE}"),
        _(
            "{SALUTATION}\n\nPlease find attached our letter of {DATE}."
            "\n\nKind regards\n{CREATORNAME}"
        ),
    ),
    "R1": (
        _("Payment reminder: invoice {INVOICENO}"),
        _(
            "{SALUTATION}\n\nOur invoice {INVOICENO} of {DATE} was due on {DATEDUE}. We have "
            "not yet received {CURRENCY} {OPENAMOUNT}; perhaps it slipped your attention. "
            "Please pay the amount within the next 10 days. If you have paid in the meantime, "
            "please disregard this reminder.\n\nKind regards\n{CREATORNAME}"
        ),
    ),
    "R2": (
        _("Second reminder: invoice {INVOICENO}"),
        _(
            "{SALUTATION}\n\nDespite our reminder, {CURRENCY} {OPENAMOUNT} of our invoice "
            "{INVOICENO} of {DATE} is still open, {DAYSOVERDUE} days after the due date. "
            "Please pay the amount within 10 days.\n\nKind regards\n{CREATORNAME}"
        ),
    ),
    "R3": (
        _("Final reminder: invoice {INVOICENO}"),
        _(
            "{SALUTATION}\n\n{CURRENCY} {OPENAMOUNT} of our invoice {INVOICENO} of {DATE} is "
            "still open, {DAYSOVERDUE} days after the due date. Please pay the amount within "
            "10 days; otherwise we will have to hand the claim over to debt collection without "
            "further notice.\n\nKind regards\n{CREATORNAME}"
        ),
    ),
}


def shipped_text(key: str, language: str) -> dict[str, str]:
    """A shipped text ("invoice", "R2", …) in `language`: {"subject", "body"}."""
    subject, body = SHIPPED[key]
    with translation.override(language):
        return {"subject": str(subject), "body": str(body)}


def shipped_texts(key: str) -> dict[str, dict[str, str]]:
    """A shipped text in every language partnerapp writes emails in."""
    return {language: shipped_text(key, language) for language in DOCUMENT_LANGUAGES}


def item_language(document: dict[str, Any], default: str) -> str:
    """The document's language, else its contact's, else the job's default."""
    contact = document.get("contact") or {}
    for value in (document.get("language"), contact.get("communication_language"), default):
        if str(value or "") in DOCUMENT_LANGUAGES:
            return str(value)
    return "de"


def text_for(templates: dict, fallback: dict, language: str) -> dict[str, str]:
    """The item's subject and body: its language's text, else the fallback."""
    chosen = templates.get(language) if isinstance(templates, dict) else None
    if isinstance(chosen, dict) and chosen.get("subject") and chosen.get("body"):
        return {"subject": str(chosen["subject"]), "body": str(chosen["body"])}
    return {"subject": str(fallback.get("subject", "")), "body": str(fallback.get("body", ""))}


def open_amount(snapshot: dict[str, Any]) -> Decimal | None:
    """total - total_paid of a document snapshot, or None when unknown."""
    try:
        total = Decimal(str(snapshot.get("total")))
        paid = Decimal(str(snapshot.get("total_paid") or 0))
    except (InvalidOperation, ValueError):
        return None
    return total - paid


def days_overdue(snapshot: dict[str, Any], today: date) -> int | None:
    try:
        due = date.fromisoformat(str(snapshot.get("due"))[:10])
    except ValueError:
        return None
    return (today - due).days


def expand_own(text: str, snapshot: dict[str, Any], *, today: date) -> str:
    """Expand the placeholders only partnerapp knows ({OPENAMOUNT}, {DAYSOVERDUE})."""
    if "{" not in text:
        return text
    amount, days = open_amount(snapshot), days_overdue(snapshot, today)
    text = text.replace("{OPENAMOUNT}", swiss_amount(amount) if amount is not None else "")
    return text.replace("{DAYSOVERDUE}", str(days) if days is not None else "")

"""Placeholder expansion the way the provider does it when it sends a document email.

The placeholders are named after invoices; on other documents they stand for the
same things (`{INVOICENO}` is the document's number), and what a kind does not
have (a letter's total, an offer's due date) expands to nothing.
"""

from __future__ import annotations

from decimal import Decimal

from partnerapp.sandbox.models import Document

DEFAULT_SALUTATIONS = {
    "de": "Sehr geehrte Damen und Herren",
    "fr": "Mesdames, Messieurs",
    "it": "Gentili signore e signori",
    "en": "Dear Sir or Madam",
}


def swiss_amount(value: Decimal | float) -> str:
    """1234.5 → 1'234.50, the Swiss way."""
    return f"{value:,.2f}".replace(",", "'")


def swiss_date(value) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def values(document: Document) -> dict[str, str]:
    contact, owner = document.contact, document.owner
    total = getattr(document, "total", None)
    currency = getattr(document, "currency", "")
    return {
        "{INVOICENO}": getattr(document, "number", ""),
        "{CUSTOMERNO}": contact.number,
        "{CLIENTNAME}": contact.name,
        "{SALUTATION}": contact.salutation or DEFAULT_SALUTATIONS.get(document.language, ""),
        "{DATE}": swiss_date(document.date),
        "{DATEDUE}": swiss_date(getattr(document, "due", None)),
        "{TOTAL}": swiss_amount(total) if total is not None else "",
        "{CURRENCY}": currency,
        "{INVOICEAMOUNT}": f"{currency} {swiss_amount(total)}" if total is not None else "",
        "{CREATORNAME}": f"{owner.name} {owner.surname}",
    }


def expand(text: str, document: Document) -> str:
    for placeholder, value in values(document).items():
        text = text.replace(placeholder, value)
    return text

"""Placeholder expansion the way the provider does it when it sends a document email."""

from __future__ import annotations

from decimal import Decimal

from partnerapp.sandbox.models import Invoice

DEFAULT_SALUTATIONS = {
    "de": "Sehr geehrte Damen und Herren",
    "fr": "Mesdames, Messieurs",
    "it": "Gentili signore e signori",
    "en": "Dear Sir or Madam",
}


def swiss_amount(value: Decimal) -> str:
    """1234.5 → 1'234.50, the Swiss way."""
    return f"{value:,.2f}".replace(",", "'")


def expand(text: str, invoice: Invoice) -> str:
    contact, owner = invoice.contact, invoice.owner
    values = {
        "{INVOICENO}": invoice.number,
        "{CUSTOMERNO}": contact.number,
        "{CLIENTNAME}": contact.name,
        "{SALUTATION}": contact.salutation or DEFAULT_SALUTATIONS.get(invoice.language, ""),
        "{DATE}": invoice.date.strftime("%d.%m.%Y"),
        "{DATEDUE}": invoice.due.strftime("%d.%m.%Y"),
        "{TOTAL}": swiss_amount(invoice.total),
        "{CURRENCY}": invoice.currency,
        "{INVOICEAMOUNT}": f"{invoice.currency} {swiss_amount(invoice.total)}",
        "{CREATORNAME}": f"{owner.name} {owner.surname}",
    }
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text

"""The placeholders the provider expands in document emails, expanded the same way here.

partnerapp renders a preview of what the recipient will read before anything is
sent; the provider itself does the real expansion when it sends.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

PLACEHOLDERS = (
    "{INVOICENO}",
    "{CUSTOMERNO}",
    "{CLIENTNAME}",
    "{SALUTATION}",
    "{DATE}",
    "{DATEDUE}",
    "{TOTAL}",
    "{CURRENCY}",
    "{INVOICEAMOUNT}",
    "{CREATORNAME}",
)
DEFAULT_SALUTATIONS = {
    "de": "Sehr geehrte Damen und Herren",
    "fr": "Mesdames, Messieurs",
    "it": "Gentili signore e signori",
    "en": "Dear Sir or Madam",
}
UNKNOWN = re.compile(r"\{[A-Z]+\}")


def swiss_amount(value: Any) -> str:
    """1234.5 → 1'234.50"""
    try:
        return f"{Decimal(str(value)):,.2f}".replace(",", "'")
    except (InvalidOperation, ValueError):
        return str(value)


def swiss_date(value: str | None) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d.%m.%Y")
    except ValueError:
        return str(value or "")


def values_for(document: dict[str, Any], creator_name: str) -> dict[str, str]:
    contact = document.get("contact") or {}
    total, currency = document.get("total", ""), str(document.get("currency", ""))
    language = str(document.get("language") or contact.get("communication_language") or "de")
    return {
        "{INVOICENO}": str(document.get("number", "")),
        "{CUSTOMERNO}": str(contact.get("number", "")),
        "{CLIENTNAME}": str(contact.get("name") or document.get("contact_name") or ""),
        "{SALUTATION}": str(contact.get("salutation") or DEFAULT_SALUTATIONS.get(language, "")),
        "{DATE}": swiss_date(document.get("date")),
        "{DATEDUE}": swiss_date(document.get("due")),
        "{TOTAL}": swiss_amount(total),
        "{CURRENCY}": currency,
        "{INVOICEAMOUNT}": f"{currency} {swiss_amount(total)}".strip(),
        "{CREATORNAME}": creator_name,
    }


def expand(text: str, document: dict[str, Any], *, creator_name: str) -> str:
    for placeholder, value in values_for(document, creator_name).items():
        text = text.replace(placeholder, value)
    return text


def unknown_placeholders(text: str) -> list[str]:
    """Placeholders the provider would not expand (typos like {INVOICENR})."""
    return sorted({match for match in UNKNOWN.findall(text) if match not in PLACEHOLDERS})

"""What an invoice shows with `with=texts,free_texts,workflow,custom_fields,permissions`.

The sandbox stores none of these; it describes what an account with the platform's
defaults has: the title, introduction and conditions in the invoice's language for the
invoice and each reminder level, no free texts or custom fields, the default reminder
workflow (switched off: reminders are the partner app's job), and the actions allowed
on the invoice in its status.
"""

from __future__ import annotations

from typing import Any

TITLES = {
    "de": {"D": "Rechnung", "R1": "1. Mahnung", "R2": "2. Mahnung", "R3": "3. Mahnung"},
    "fr": {"D": "Facture", "R1": "1er rappel", "R2": "2e rappel", "R3": "3e rappel"},
    "it": {"D": "Fattura", "R1": "1° sollecito", "R2": "2° sollecito", "R3": "3° sollecito"},
    "en": {"D": "Invoice", "R1": "1st reminder", "R2": "2nd reminder", "R3": "3rd reminder"},
}
CONDITIONS = {
    "de": "Zahlbar innert {days} Tagen.",
    "fr": "Payable dans les {days} jours.",
    "it": "Pagabile entro {days} giorni.",
    "en": "Payable within {days} days.",
}
# The default reminder workflow: level, days after the due date.
WORKFLOW = (("R1", 10), ("R2", 20), ("R3", 30))
EDITABLE_STATUSES = ("DR",)


def described_withs(invoice, withs: frozenset[str]) -> dict[str, Any]:
    builders = {
        "texts": _texts,
        "free_texts": lambda _: [],
        "custom_fields": lambda _: [],
        "workflow": _workflow,
        "permissions": _permissions,
    }
    return {key: build(invoice) for key, build in builders.items() if key in withs}


def _texts(invoice) -> list[dict[str, str]]:
    language = invoice.language if invoice.language in TITLES else "en"
    days = (invoice.due - invoice.date).days
    return [
        {
            "status": status,
            "title": title,
            "introduction": "",
            "conditions": CONDITIONS[language].format(days=days),
        }
        for status, title in TITLES[language].items()
    ]


def _workflow(invoice) -> list[dict[str, Any]]:
    return [
        {
            "active": False,
            "status": status,
            "overdue_days": days,
            "action": "M",
            "contact_email": "",
            "speed": "E",
        }
        for status, days in WORKFLOW
    ]


def _permissions(invoice) -> list[str]:
    """A sent invoice can be viewed and managed (paid, reminded), no longer edited."""
    if invoice.status in EDITABLE_STATUSES:
        return ["view", "edit", "manage"]
    return ["view", "manage"]

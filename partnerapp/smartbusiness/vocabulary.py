"""The provider's codes and what they mean to a person: document statuses, email
senders, payment types and channels, reminder levels.

One place for the provider's vocabulary: the dashboard, the operations and the API
show these labels and never spell a code again. The labels are lazy translations.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

DRAFT, SENT, PAID, PARTIALLY_PAID = "DR", "S", "P", "PP"
REMINDER_1, REMINDER_2, REMINDER_3, REMINDER = "R1", "R2", "R3", "R"
DEBT_COLLECTION, CANCELLED, DELETED = "DC", "C", "D"

# Invoice statuses in the provider's order (§2); other documents use a subset.
DOCUMENT_STATUSES = {
    DRAFT: _("Draft"),
    SENT: _("Sent"),
    PAID: _("Paid"),
    PARTIALLY_PAID: _("Partially paid"),
    REMINDER_1: _("1st reminder"),
    REMINDER_2: _("2nd reminder"),
    REMINDER_3: _("3rd reminder"),
    REMINDER: _("Reminder"),
    DEBT_COLLECTION: _("Debt collection"),
    CANCELLED: _("Cancelled"),
}
CLOSED_STATUSES = frozenset({CANCELLED, DELETED})  # never acted on
# What `change-status` may set (deleted is DELETE's business, not a status change).
CHANGEABLE_STATUSES = frozenset(DOCUMENT_STATUSES)
# A reminder run moves an open invoice one level up; R3 is the last one a run sets:
# after it, debt collection is a person's decision.
NEXT_REMINDER = {
    SENT: REMINDER_1,
    PARTIALLY_PAID: REMINDER_1,
    REMINDER_1: REMINDER_2,
    REMINDER_2: REMINDER_3,
}
REMINDER_LEVELS = (REMINDER_1, REMINDER_2, REMINDER_3)
OPEN_STATUSES = frozenset({SENT, PARTIALLY_PAID, REMINDER_1, REMINDER_2, REMINDER_3, REMINDER})

# `from` of send-by-email (§2); "" lets the provider use the company's default.
EMAIL_SENDERS = {
    "": _("Company default"),
    "CO": _("Company email"),
    "U": _("Your user email"),
    "S": _("Company SMTP"),
    "CE": _("Central no-reply address"),
}

# Payments: `type` and `channel` of POST /receivables/invoices/{id}/payments.
PAYMENT_TYPES = {
    "N": _("Payment"),
    "C": _("Cash discount"),
    "D": _("Rounding difference"),
    "W": _("Write-off"),
}
PAYMENT_CHANNELS = {
    "T": _("Bank transfer"),
    "C": _("Cash"),
    "PP": _("PayPal"),
    "PF": _("PostFinance"),
    "CC": _("Credit card"),
    "PR": _("Payrexx"),
    "SC": _("SmartCommerce"),
}

# The languages a document or contact may carry (the provider's `language`).
DOCUMENT_LANGUAGES = ("de", "fr", "it", "en")


def status_label(code: str) -> str:
    """The status as a word ("1st reminder"), or the code when the provider sent a new one."""
    label = DOCUMENT_STATUSES.get(code)
    return str(label) if label is not None else code


def status_choices(*, empty: str | None = None, only=None) -> list[tuple[str, str]]:
    """(code, label) pairs for a form; `only` limits the codes, `empty` adds a blank first."""
    choices = [
        (code, label) for code, label in DOCUMENT_STATUSES.items() if not only or code in only
    ]
    return [("", empty), *choices] if empty is not None else choices

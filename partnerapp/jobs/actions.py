"""The bulk actions partnerapp runs: which document, which PATCH action, what it needs.

Every document kind the provider has (invoices, offers, delivery notes, order
confirmations, letters) shares the three irreversible PATCH actions. An action
knows how to call the provider for one document, which documents it must skip,
and how to tell from a re-read document whether an unclear call took effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partnerapp.smartbusiness.client import (
    ActionResult,
    DocumentKind,
    EmailSender,
    Recipient,
    SmartBusinessClient,
)

SEND_BY_EMAIL, SEND_BY_POST, CHANGE_STATUS = "send_by_email", "send_by_post", "change_status"
CLOSED_STATUSES = {"C", "D"}  # cancelled and deleted documents are never acted on

DOCUMENTS = {
    "invoice": (DocumentKind.INVOICE, gettext_lazy("invoices")),
    "offer": (DocumentKind.OFFER, gettext_lazy("offers")),
    "delivery_note": (DocumentKind.DELIVERY_NOTE, gettext_lazy("delivery notes")),
    "order_confirmation": (DocumentKind.ORDER_CONFIRMATION, gettext_lazy("order confirmations")),
    "letter": (DocumentKind.LETTER, gettext_lazy("letters")),
}
OPERATIONS = {
    SEND_BY_EMAIL: gettext_lazy("Send %(documents)s by email"),
    SEND_BY_POST: gettext_lazy("Send %(documents)s by post"),
    CHANGE_STATUS: gettext_lazy("Change the status of %(documents)s"),
}


@dataclass(frozen=True)
class ActionSpec:
    key: str  # "invoice.send_by_email"
    document: str  # "invoice"
    operation: str  # "send_by_email"

    @property
    def kind(self) -> DocumentKind:
        return DOCUMENTS[self.document][0]

    @property
    def required_scope(self) -> str:
        """The OAuth scope a connection needs for this action: its document kind's."""
        return self.document  # the scopes are named like the kinds: invoice, offer, letter, …

    @property
    def label(self) -> str:
        return str(OPERATIONS[self.operation] % {"documents": DOCUMENTS[self.document][1]})

    @property
    def sends(self) -> bool:
        return self.operation in (SEND_BY_EMAIL, SEND_BY_POST)

    def perform(self, api: SmartBusinessClient, item, params: dict[str, Any]) -> ActionResult:
        """The one irreversible call for one item."""
        if self.operation == SEND_BY_EMAIL:
            return api.send_by_email(
                self.kind,
                item.document_id,
                subject=params["subject"],
                body=params["body"],
                recipients=_recipients(item),
                receipt=bool(params.get("receipt")),
                sender=EmailSender(params["sender"]) if params.get("sender") else None,
            )
        if self.operation == SEND_BY_POST:
            return api.send_by_post(
                self.kind,
                item.document_id,
                color=bool(params.get("color")),
                duplex=bool(params.get("duplex")),
                priority=bool(params.get("priority")),
            )
        return api.change_status(self.kind, item.document_id, status=params["status"])

    def ledger_action(self, item, params: dict[str, Any]) -> str:
        """The action's identity in the at-most-once ledger (`ledger.py`).

        A send is one action whatever its text; a status change is one per move, so a
        document can still go DR → S and later S → R1 in other jobs.
        """
        if self.operation == CHANGE_STATUS:
            return f"{CHANGE_STATUS}:{item.document_status}>{params.get('status', '')}"
        return self.operation

    def skip_reason(self, document: dict[str, Any], params: dict[str, Any]) -> str:
        """Why this document must not be acted on, or "" to act on it."""
        status = str(document.get("status", ""))
        if status in CLOSED_STATUSES:
            return _("Cancelled or deleted (status %(s)s).") % {"s": status}
        if self.operation == CHANGE_STATUS:
            if status == params.get("status"):
                return _("Already in status %(s)s.") % {"s": status}
            return ""
        if status != "DR" and not params.get("resend"):
            return _("Not a draft (status %(s)s); tick “resend” to send it again.") % {"s": status}
        return ""

    def took_effect(self, before: str, after: str | None, params: dict[str, Any]) -> bool:
        """Whether a re-read status proves an unclear call happened."""
        if after is None:
            return False
        if self.operation == CHANGE_STATUS:
            return after == params.get("status") and before != after
        return before == "DR" and after != "DR"  # a sent draft leaves the draft status


def missing_scope_message(scope: str) -> str:
    """What a person reads when a connection lacks the scope an action needs."""
    return _("This connection lacks the scope %(scope)s — reconnect and grant it.") % {
        "scope": scope
    }


def _recipients(item) -> list[Recipient]:
    """One recipient per address; an item holds several when the job overrides them."""
    addresses = [a.strip() for a in item.recipient_email.split(",") if a.strip()]
    if len(addresses) == 1:
        return [Recipient(email=addresses[0], name=item.recipient_name)]
    return [Recipient(email=address, name="") for address in addresses]


ACTIONS: dict[str, ActionSpec] = {
    f"{document}.{operation}": ActionSpec(f"{document}.{operation}", document, operation)
    for document in DOCUMENTS
    for operation in OPERATIONS
}
ACTION_CHOICES = [(key, key) for key in ACTIONS]


def action_for(key: str) -> ActionSpec:
    return ACTIONS[key]

"""The document kinds the provider serves, and what differs between them.

Invoices, offers, delivery notes, order confirmations and letters share their
endpoints (list, get, create, update, delete, pdf and the PATCH actions); one
`DocumentKind` per kind says where it lives, which scope guards it, which statuses
it knows and how it is numbered, so the views and services stay generic.
"""

from __future__ import annotations

from dataclasses import dataclass

from partnerapp.sandbox import listing
from partnerapp.sandbox.models import (
    DeliveryNote,
    Document,
    Invoice,
    Letter,
    Offer,
    OrderConfirmation,
)


@dataclass(frozen=True)
class DocumentKind:
    name: str  # the `entity_type` of a 404 and the outbox's document_type
    label: str  # for people: "invoice", "delivery note"
    path: str  # under the base URL
    scope: str
    model: type[Document]
    statuses: dict[str, str]
    number_prefix: str  # "" for letters, which have no number
    listing: listing.ListSpec
    receipt: bool = False  # only invoices can be sent as a receipt

    @property
    def priced(self) -> bool:
        return bool(self.number_prefix)


PRICED_FILTERS = {
    "id": "pk",
    "status": "status",
    "currency": "currency",
    "contact_id": "contact_id",
    "number": "number",
    "language": "language",
    "date": "date",
    "total": "total",
}
PRICED_SORTS = {
    "id": "pk",
    "number": "number",
    "date": "date",
    "total": "total",
    "status": "status",
}
PRICED_SEARCH = ("number", "contact__name", "contact__email", "notes", "period_text")
WITHS = frozenset({"contact", "contact_address", "positions"})
# The reference's invoice GET schema has these objects too (invoice_extras.py).
INVOICE_WITHS = WITHS | {
    "contact_person",
    "contact_prepage_address",
    "bank_account",
    "isr",
    "custom_fields",
    "texts",
    "free_texts",
    "workflow",
    "permissions",
}


def _priced_listing(withs: frozenset[str] = WITHS, **extra: str) -> listing.ListSpec:
    return listing.ListSpec(
        filters={**PRICED_FILTERS, **extra},
        sorts={**PRICED_SORTS, **extra},
        withs=withs,
        search=PRICED_SEARCH,
        default_sort="-number",
    )


INVOICE = DocumentKind(
    name="invoice",
    label="invoice",
    path="receivables/invoices",
    scope="invoice",
    model=Invoice,
    statuses={
        "DR": "draft",
        "S": "sent",
        "P": "paid",
        "PP": "partially paid",
        "R1": "1st reminder",
        "R2": "2nd reminder",
        "R3": "3rd reminder",
        "R": "reminder",
        "DC": "debt collection",
        "C": "cancelled",
        "D": "deleted",
    },
    number_prefix="RE",
    listing=_priced_listing(INVOICE_WITHS, due="due", total_paid="total_paid"),
    receipt=True,
)
OFFER = DocumentKind(
    name="offer",
    label="offer",
    path="receivables/offers",
    scope="offer",
    model=Offer,
    statuses={
        "DR": "draft",
        "S": "sent",
        "DE": "declined",
        "A": "accepted",
        "B": "billed",
        "D": "deleted",
    },
    number_prefix="OF",
    listing=_priced_listing(valid_until="valid_until"),
)
DELIVERY_NOTE = DocumentKind(
    name="delivery_note",
    label="delivery note",
    path="receivables/delivery-notes",
    scope="delivery_note",
    model=DeliveryNote,
    statuses={"DR": "draft", "S": "sent", "B": "billed", "D": "deleted"},
    number_prefix="LS",
    listing=_priced_listing(),
)
ORDER_CONFIRMATION = DocumentKind(
    name="order_confirmation",
    label="order confirmation",
    path="receivables/order-confirmations",
    scope="order_confirmation",
    model=OrderConfirmation,
    statuses={"DR": "draft", "S": "sent", "B": "billed", "D": "deleted"},
    number_prefix="AB",
    listing=_priced_listing(),
)
LETTER = DocumentKind(
    name="letter",
    label="letter",
    path="contacts/letters",
    scope="letter",
    model=Letter,
    statuses={"DR": "draft", "S": "sent", "D": "deleted"},
    number_prefix="",
    listing=listing.ListSpec(
        filters={
            "id": "pk",
            "status": "status",
            "contact_id": "contact_id",
            "language": "language",
            "date": "date",
            "title": "title",
        },
        sorts={"id": "pk", "date": "date", "title": "title", "status": "status"},
        withs=frozenset({"contact", "contact_address"}),
        search=("title", "content", "contact__name", "notes"),
        default_sort="-date",
    ),
)

KINDS: tuple[DocumentKind, ...] = (INVOICE, OFFER, DELIVERY_NOTE, ORDER_CONFIRMATION, LETTER)
BY_NAME = {kind.name: kind for kind in KINDS}

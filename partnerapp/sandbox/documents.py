"""What the provider does with documents: create, update, delete, and the PATCH actions.

Plain functions over a `DocumentKind`, so invoices, offers, delivery notes, order
confirmations and letters behave alike. Views parse and call one of these.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from partnerapp.sandbox.configuration import configuration_for_owner
from partnerapp.sandbox.invoice_fields import check_invoice_dates, invoice_values
from partnerapp.sandbox.kinds import INVOICE, OFFER, DocumentKind
from partnerapp.sandbox.models import (
    Client,
    Contact,
    Document,
    FaultProfile,
    OutboxEmail,
    Owner,
    PostalDispatch,
)
from partnerapp.sandbox.placeholders import expand
from partnerapp.sandbox.responses import ApiProblem, validation_problem
from partnerapp.sandbox.rows import Columns, Table, split
from partnerapp.sandbox.validation import LANGUAGES, Fields, positions

# Feature-limit codes of a 402 (DESIGN §2): hard limit, soft limit, total limit.
HARD_LIMIT = 4001
UNSENDABLE = {"C": "cancelled", "D": "deleted"}

MAX_TOTAL = Decimal(10) ** 10


def related(kind: DocumentKind) -> list[str]:
    """The rows a document is always served with (joined, never fetched one by one)."""
    if kind is INVOICE:
        return ["contact", "contact_person", "bank_account", "isr"]
    return ["contact"]


def documents_of(kind: DocumentKind, owner: Owner) -> QuerySet:
    """What the API shows: deleted documents (status D) are gone for it."""
    rows = kind.model.objects.filter(owner=owner).exclude(status="D")
    return rows.select_related(*related(kind))


def document_get(
    kind: DocumentKind, owner: Owner, document_id: int, *, joined: tuple[str, ...] | None = None
) -> Document:
    """One of the owner's documents as `documents_of` would give it, in one statement
    written once per kind (rows.py says why); 404 naming the kind when there is none.

    `joined` narrows the related rows fetched with it to those the caller reads (a
    send reads the contact only); any other is loaded when first read, as usual."""
    joined = tuple(related(kind)) if joined is None else joined
    sql, parts = _document_select(kind, joined)
    with connection.cursor() as cursor:
        cursor.execute(sql, [document_id, owner.pk])
        row = cursor.fetchone()
    if row is None:
        raise ApiProblem(404, f"The {kind.label} was not found", meta={"entity_type": kind.name})
    document, *instances = split(row, *parts)
    for name, instance in zip(joined, instances, strict=True):
        setattr(document, name, instance)
    document.owner = owner  # the caller's (from the token): no join for it
    return document


OUTBOX = Table(OutboxEmail)
_DOCUMENT_SELECTS: dict[tuple[str, tuple[str, ...]], tuple[str, list[Columns]]] = {}


def _document_select(kind: DocumentKind, joined: tuple[str, ...]) -> tuple[str, list[Columns]]:
    key = (kind.name, joined)
    if key not in _DOCUMENT_SELECTS:
        quote = connection.ops.quote_name
        document = Columns(kind.model, "d")
        parts, joins = [document], []
        for index, name in enumerate(joined):
            field = kind.model._meta.get_field(name)
            joined = Columns(field.related_model, f"r{index}")
            join = "LEFT JOIN" if field.null else "JOIN"
            target = quote(field.target_field.column)
            joins.append(
                f"{join} {joined.table()} ON {joined.alias}.{target} = d.{quote(field.column)}"
            )
            parts.append(joined)
        select = ", ".join(part.select() for part in parts)
        sql = (
            f"SELECT {select} FROM {document.table()} {' '.join(joins)} "  # noqa: S608 - names
            "WHERE d.id = %s AND d.owner_id = %s AND d.status <> 'D'"
        )
        _DOCUMENT_SELECTS[key] = (sql, parts)
    return _DOCUMENT_SELECTS[key]


# -- create, update, delete -------------------------------------------------------------------


def document_create(
    *, kind: DocumentKind, owner: Owner, profile: FaultProfile, body: dict[str, Any]
) -> Document:
    """A new draft from a POST body; 422 for invalid fields, 402 past the plan's limit."""
    if kind is INVOICE:
        _check_invoice_limit(owner, profile)  # the plan speaks first, whatever the body
    values = _read(kind, owner, Fields(body))
    document = kind.model(owner=owner, status="DR", **values)
    if kind is INVOICE:
        _default_payment_setup(document)
    if kind.priced:
        _retotal(kind, document)
        return _save_numbered(kind, document, requested=values.get("number"))
    document.save()
    return document


def document_update(*, kind: DocumentKind, document: Document, body: dict[str, Any]) -> Document:
    """PUT: change what is given, keep the rest."""
    values = _read(kind, document.owner, Fields(body, partial=True), current=document)
    for name, value in values.items():
        setattr(document, name, value)
    if kind.priced:
        _retotal(kind, document)  # positions, currency (rounding), VAT or discount changed
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        raise validation_problem([("number", "This number is already used.")]) from None
    return document


@transaction.atomic
def documents_delete(*, kind: DocumentKind, owner: Owner, ids: list[int]) -> int:
    """Delete all or nothing: 404 (naming the kind) when one id is not there."""
    rows = documents_of(kind, owner).filter(pk__in=ids)
    if rows.count() != len(ids):
        raise ApiProblem(404, f"The {kind.label} was not found", meta={"entity_type": kind.name})
    return kind.model.objects.filter(pk__in=ids).update(status="D")


def _read(kind: DocumentKind, owner: Owner, fields: Fields, current=None) -> dict[str, Any]:
    """The model values a POST/PUT body sets; raises the 422 listing every bad field."""
    values: dict[str, Any] = {}
    contact = _contact(fields, owner, current)
    if contact is not None:
        values["contact"] = contact
    values["date"] = fields.date("date", required=True)
    values["language"] = fields.choice("language", LANGUAGES, required=True)
    values["notes"] = fields.string("notes", max_length=10_000)
    if kind.priced:
        values.update(_priced_values(kind, fields))
    else:
        values["title"] = fields.string("title", max_length=200)
        values["content"] = fields.string("content", max_length=100_000)
    if kind is INVOICE:
        values.update(invoice_values(fields, owner, contact or getattr(current, "contact", None)))
        check_invoice_dates(fields, values, current)
    fields.raise_if_any()
    return {name: value for name, value in values.items() if value is not None}


def _retotal(kind: DocumentKind, document: Document) -> None:
    """The total from the positions, and for invoices VAT inclusion and discount; 422
    when it cannot be stored or a discount takes it below zero."""
    options = {}
    if kind is INVOICE:
        options = {
            "vat_included": document.vat_included,
            "discount_rate": document.discount_rate,
            "discount_type": document.discount_type,
        }
    document.total = document_total(document.positions, document.currency, **options)
    if abs(document.total) >= MAX_TOTAL:  # the total column holds 12 digits
        raise validation_problem([("positions", "The document total is too large.")])
    if document.total < 0:
        raise validation_problem([("discount_rate", "The discount exceeds the total.")])


def _priced_values(kind: DocumentKind, fields: Fields) -> dict[str, Any]:
    values = {
        "number": fields.string("number", max_length=20, blank=False),
        "currency": fields.choice("currency", ("CHF", "EUR", "USD", "GBP"), required=True),
        "period_text": fields.string("period_text"),
        "positions": positions(fields, required=True),
    }
    if kind is INVOICE:
        values["due"] = fields.date("due", required=True)
    if kind is OFFER:
        values["valid_until"] = fields.date("valid_until", required=True)
    return values


def _contact(fields: Fields, owner: Owner, current) -> Contact | None:
    contact_id = fields.integer("contact_id", required=True)
    address_id = fields.integer("contact_address_id")
    if contact_id is None:
        return None
    contact = Contact.objects.filter(owner=owner, pk=contact_id).first()
    if contact is None:
        fields.error("contact_id", "The contact does not exist.")
    elif address_id is not None and address_id != contact.pk:
        fields.error("contact_address_id", "The address does not belong to the contact.")
    return contact


def _default_payment_setup(invoice) -> None:
    """A new invoice is paid to the owner's default account and QR set-up unless it names one."""
    account, isr = configuration_for_owner(invoice.owner)
    if invoice.bank_account_id is None:
        invoice.bank_account = account
    if invoice.isr_id is None:
        invoice.isr = isr


def _check_invoice_limit(owner: Owner, profile: FaultProfile) -> None:
    limit = profile.invoice_limit
    if limit is not None and INVOICE.model.objects.filter(owner=owner).count() >= limit:
        raise ApiProblem(
            402,
            "The invoice limit of your plan is reached",
            code=HARD_LIMIT,
            meta={"feature": "invoices", "limit": limit},
        )


def _save_numbered(kind: DocumentKind, document, *, requested: str | None) -> Document:
    """Save with the requested number (422 if taken) or the next free one."""
    if requested:
        try:
            with transaction.atomic():
                document.save()
        except IntegrityError:
            raise validation_problem([("number", "This number is already used.")]) from None
        return document
    for _ in range(20):  # another request may take the same number first
        document.number = next_number(kind, document.owner, document.date)
        try:
            with transaction.atomic():
                document.save()
            return document
        except IntegrityError:
            continue
    raise ApiProblem(500, "Could not find a free number")


def next_number(kind: DocumentKind, owner: Owner, day: date) -> str:
    """`RE-2025-00042`: the kind's prefix, the year, the owner's count of the kind + 1."""
    taken = kind.model.objects.filter(owner=owner)
    sequence = taken.count() + 1
    while taken.filter(number=f"{kind.number_prefix}-{day.year}-{sequence:05d}").exists():
        sequence += 1
    return f"{kind.number_prefix}-{day.year}-{sequence:05d}"


def document_total(
    lines: list[dict[str, Any]],
    currency: str,
    *,
    vat_included: bool = False,
    discount_rate: Decimal = Decimal(0),
    discount_type: str = "P",
) -> Decimal:
    """Sum of the normal positions plus their VAT (unless the prices include it), less
    the document's discount (percent or amount); CHF rounded to 5 Rappen."""
    total = Decimal(0)
    for line in lines:
        if line["type"] == "N":
            amount = Decimal(str(line["total"]))
            vat = 0 if vat_included else amount * Decimal(str(line["vat"])) / 100
            total += amount + vat
    discount = Decimal(str(discount_rate))
    total -= discount if discount_type == "A" else total * discount / 100
    step = Decimal("0.05") if currency == "CHF" else Decimal("0.01")
    return (total / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


# -- the PATCH actions --------------------------------------------------------------------------


def document_change_status(
    *, kind: DocumentKind, document: Document, status: str, when: datetime | None = None
) -> Document:
    """Set the status as of `when` (the body's `date_time`; default now). An invoice set
    to paid counts as paid in full on that day."""
    document.status = status
    document.status_changed = when or timezone.now()
    fields = ["status", "status_changed"]
    if kind is INVOICE and status == "P":
        document.total_paid = document.total
        document.paid_date = timezone.localdate(document.status_changed)
        fields += ["total_paid", "paid_date"]
    document.save(update_fields=fields)
    return document


@transaction.atomic
def document_send_by_email(
    *,
    kind: DocumentKind,
    document: Document,
    email: dict[str, Any],
    client: Client,
    request_id: str,
) -> OutboxEmail:
    """Record the email with its placeholders expanded; a draft becomes sent."""
    _check_sendable(kind, document)
    sent = OutboxEmail(
        owner=document.owner,
        client=client,
        document_type=kind.name,
        document_id=document.pk,
        document_number=getattr(document, "number", ""),
        recipients=email["recipients"],
        subject=expand(email["subject"], document),
        body=expand(email["body"], document),
        sender=email["from"],
        receipt=email["receipt"],
        request_id=request_id,
    )
    OUTBOX.insert(sent)
    _mark_sent(kind, document)
    return sent


@transaction.atomic
def document_send_by_post(
    *,
    kind: DocumentKind,
    document: Document,
    options: dict[str, str],
    client: Client,
    request_id: str,
) -> PostalDispatch:
    """Record the letter post would carry; 422 when the contact has no postal address."""
    _check_sendable(kind, document)
    contact = document.contact
    if not (contact.street and contact.postcode and contact.city):
        raise validation_problem([("contact_address_id", "The contact has no postal address.")])
    dispatch = PostalDispatch.objects.create(
        owner=document.owner,
        client=client,
        document_type=kind.name,
        document_id=document.pk,
        document_number=getattr(document, "number", ""),
        palette=options["palette"],
        print_mode=options["print"],
        speed=options["speed"],
        request_id=request_id,
    )
    _mark_sent(kind, document)
    return dispatch


def _check_sendable(kind: DocumentKind, document: Document) -> None:
    if document.status in UNSENDABLE:
        reason = f"A {UNSENDABLE[document.status]} {kind.label} cannot be sent."
        raise validation_problem([("status", reason)])


def _mark_sent(kind: DocumentKind, document: Document) -> None:
    # Conditional: of two sends racing, both are recorded, the status moves once. Written
    # out, as the other statements of every send (rows.py says why).
    table = connection.ops.quote_name(kind.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = 'S' WHERE id = %s AND status = 'DR'",  # noqa: S608
            [document.pk],
        )

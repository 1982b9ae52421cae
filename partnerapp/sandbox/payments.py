"""Payments on invoices: recording one moves the invoice to paid (P) or partially paid
(PP); deleting them moves it back. Not idempotent, as at the provider: posting the same
payment twice records it twice (unless the second would overpay, which is refused).

The reference and the PHP client say nothing about paying drafts or cancelled invoices;
the sandbox refuses both with a 422 naming the status, and refuses an amount above
what is still open. All payment types (normal, cash discount, rounding, write-off)
settle the invoice alike.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet, Sum

from partnerapp.sandbox.models import Invoice, Payment
from partnerapp.sandbox.responses import ApiProblem, validation_problem

NOT_FOUND = {"entity_type": "payment"}
UNPAYABLE = {"DR": "a draft (send it first)", "C": "cancelled"}
SETTLED = ("P", "PP")


def payments_of(invoice: Invoice) -> QuerySet:
    return Payment.objects.filter(invoice=invoice)


def payment_get(invoice: Invoice, payment_id: int) -> Payment:
    found = payments_of(invoice).filter(pk=payment_id).first()
    if found is None:
        raise ApiProblem(404, "The payment was not found", meta=NOT_FOUND)
    return found


@transaction.atomic
def payment_create(*, invoice: Invoice, values: dict[str, Any], request_id: str) -> Payment:
    """Record a payment (validated `values`) and settle the invoice; 422 when the invoice
    cannot take it."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status in UNPAYABLE:
        reason = f"The invoice is {UNPAYABLE[locked.status]}: it cannot be paid."
        raise validation_problem([("status", reason)])
    if values["amount"] > locked.open_amount:
        message = f"The amount exceeds the open amount of {locked.open_amount:.2f}."
        raise validation_problem([("amount", message)])
    payment = Payment.objects.create(invoice=locked, request_id=request_id, **values)
    _settle(locked, locked.total_paid + payment.amount, paid_on=payment.date)
    return payment


def payment_update(*, payment: Payment, notes: str | None) -> Payment:
    """PUT changes the notes only (the reference's DocumentInvoicePaymentPUT)."""
    if notes is not None:
        payment.notes = notes
        payment.save(update_fields=["notes"])
    return payment


@transaction.atomic
def payments_delete(*, invoice: Invoice, ids: list[int]) -> None:
    """All or nothing (404 when one id is not the invoice's); the invoice is settled anew."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    rows = payments_of(locked).filter(pk__in=ids)
    if rows.count() != len(ids):
        raise ApiProblem(404, "The payment was not found", meta=NOT_FOUND)
    removed = rows.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    rows.delete()
    latest = payments_of(locked).order_by("-date").values_list("date", flat=True).first()
    _settle(locked, max(locked.total_paid - removed, Decimal(0)), paid_on=latest)


def _settle(invoice: Invoice, total_paid: Decimal, *, paid_on) -> None:
    """P when nothing is open, PP when part is paid, else the status before payments."""
    if invoice.status not in SETTLED:
        invoice.unpaid_status = invoice.status
    invoice.total_paid = total_paid
    if total_paid <= 0:
        invoice.status, invoice.paid_date = invoice.unpaid_status or "S", None
    elif total_paid >= invoice.total:
        invoice.status, invoice.paid_date = "P", paid_on
    else:
        invoice.status, invoice.paid_date = "PP", None
    invoice.save(update_fields=["status", "total_paid", "paid_date", "unpaid_status"])

"""The invoice fields beyond what every priced document has: VAT inclusion, discount,
service period, cash discount, and what the invoice is paid to (bank account, QR set-up)
and addressed to (person, prepage address). Read from a POST/PUT body, checked as the
provider checks them: every bad field in one 422.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from partnerapp.sandbox.models import BankAccount, Contact, Isr, Owner, Person
from partnerapp.sandbox.validation import Fields

NOT_OWNED = "The {} does not exist."
_CENT = Decimal("0.01")


def invoice_values(fields: Fields, owner: Owner, contact: Contact | None) -> dict[str, Any]:
    """Model values for the invoice-only fields that the body gives (None: not given)."""
    return {
        "vat_included": fields.boolean("vat_included"),
        **_discount(fields),
        "period_from": fields.date("period_from"),
        "period_to": fields.date("period_to"),
        **_cash_discount(fields),
        "isr_position": fields.choice("isr_position", ("A", "F", "L")),
        "bank_account": _owned(fields, "bank_account_id", BankAccount.objects.filter(owner=owner)),
        "isr": _owned(fields, "isr_id", Isr.objects.filter(owner=owner)),
        "contact_person": _person(fields, contact),
        **_prepage_address(fields, contact),
    }


def check_invoice_dates(fields: Fields, values: dict[str, Any], current) -> None:
    """The period runs forwards; a cash discount ends between the invoice date and due date."""
    merged = {
        name: values.get(name) or getattr(current, name, None)
        for name in ("date", "due", "period_from", "period_to", "cash_discount_date")
    }
    start, end = merged["period_from"], merged["period_to"]
    if start and end and start > end:
        fields.error("period_to", "The period cannot end before it starts.")
    if merged["date"] and merged["due"] and merged["due"] < merged["date"]:
        fields.error("due", "The due date cannot be before the invoice date.")
    if (discount_day := merged["cash_discount_date"]) is not None:
        if merged["date"] and discount_day < merged["date"]:
            fields.error("cash_discount_date", "The cash discount cannot end before the date.")
        elif merged["due"] and discount_day > merged["due"]:
            fields.error("cash_discount_date", "The cash discount cannot end after the due date.")
    rate = values.get("cash_discount_rate") or getattr(current, "cash_discount_rate", 0)
    if rate and merged["cash_discount_date"] is None:
        fields.error("cash_discount_date", "A cash discount needs its deadline date.")


def _discount(fields: Fields) -> dict[str, Any]:
    rate = fields.number("discount_rate", low=0)
    kind = fields.choice("discount_type", ("A", "P"))
    if rate is not None and (kind or "P") == "P" and rate > 100:
        fields.error("discount_rate", "A discount in percent cannot exceed 100.")
    if rate is not None and rate != rate.quantize(_CENT):
        fields.error("discount_rate", "This value should have at most 2 decimals.")
    return {"discount_rate": rate, "discount_type": kind}


def _cash_discount(fields: Fields) -> dict[str, Any]:
    rate = fields.integer("cash_discount_rate")
    if rate is not None and not 0 <= rate <= 100:
        fields.error("cash_discount_rate", "This value should be between 0 and 100.")
        rate = None
    return {"cash_discount_rate": rate, "cash_discount_date": fields.date("cash_discount_date")}


def _owned(fields: Fields, key: str, queryset):
    """The row `key` names among the owner's (`queryset`); an error when it is not one."""
    row_id = fields.integer(key)
    if row_id is None:
        return None
    row = queryset.filter(pk=row_id).first()
    if row is None:
        fields.error(key, NOT_OWNED.format(key.removesuffix("_id").replace("_", " ")))
    return row


def _person(fields: Fields, contact: Contact | None) -> Person | None:
    if contact is None:
        fields.integer("contact_person_id")  # still type-checked
        return None
    return _owned(fields, "contact_person_id", Person.objects.filter(contact=contact))


def _prepage_address(fields: Fields, contact: Contact | None) -> dict[str, Any]:
    """The sandbox keeps one address per contact (its id is the contact's): only that one."""
    address_id = fields.integer("contact_prepage_address_id")
    if address_id is not None and contact is not None and address_id != contact.pk:
        fields.error("contact_prepage_address_id", "The address does not belong to the contact.")
    return {}

"""Sandbox rows as the provider's JSON (field names and types per the v2 reference)."""

from __future__ import annotations

from typing import Any

from partnerapp.sandbox.models import Contact, Invoice, Owner


def _datetime(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def owner_json(owner: Owner) -> dict[str, Any]:
    return {"id": owner.pk, "name": owner.name, "surname": owner.surname}


def profile_json(owner: Owner) -> dict[str, Any]:
    return {
        "id": owner.pk,
        "name": owner.name,
        "surname": owner.surname,
        "email": owner.email,
        "language": owner.language,
        "company_name": owner.company_name,
        "company_addition": "",
        "company_country": "CH",
        "company_street": "",
        "company_street_no": "",
        "company_street2": "",
        "company_postcode": "",
        "company_city": "",
        "company_phone": "",
        "company_fax": "",
        "company_email": owner.company_email,
        "company_website": "",
        "company_vat_id": "",
        "company_currency": "CHF",
    }


def contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.pk,
        "number": contact.number,
        "relation": ["CL"],
        "type": contact.type,
        "gender": contact.gender or None,
        "gender_salutation_active": contact.type == "P",
        "name": contact.name,
        "name_addition": "",
        "salutation": contact.salutation,
        "phone": contact.phone,
        "fax": "",
        "email": contact.email,
        "website": "",
        "notes": "",
        "communication_language": contact.language,
        "communication_channel": "E" if contact.email else "P",
        "communication_newsletter": "N",
        "currency": contact.currency,
        "ebill_account_id": "",
        "vat_identification": "",
        "vat_rate": 0,
        "discount_rate": 0,
        "discount_type": "P",
        "payment_grace": 30,
        "hourly_rate": 0,
        "main_address_id": None,
        "created": _datetime(contact.created),
        "custom_fields": [],
    }


def invoice_json(invoice: Invoice, withs: frozenset[str] = frozenset()) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": invoice.pk,
        "number": invoice.number,
        "contact_id": invoice.contact_id,
        "contact_name": invoice.contact.name,
        "contact_address_id": None,
        "contact_prepage_address_id": None,
        "contact_person_id": None,
        "date": invoice.date.isoformat(),
        "due": invoice.due.isoformat(),
        "period_from": None,
        "period_to": None,
        "period_text": invoice.period_text,
        "currency": invoice.currency,
        "total": float(invoice.total),
        "vat_included": False,
        "discount_rate": 0,
        "discount_type": "P",
        "cash_discount_rate": 0,
        "cash_discount_date": None,
        "total_paid": float(invoice.total_paid),
        "paid_date": None,
        "bank_account_id": None,
        "isr_id": None,
        "isr_position": "A",
        "isr_reference_number": "",
        "payment_link_paypal": False,
        "payment_link_paypal_url": "",
        "payment_link_postfinance": False,
        "payment_link_postfinance_url": "",
        "payment_link_payrexx": False,
        "payment_link_payrexx_url": "",
        "payment_link_smartcommerce": False,
        "payment_link_smartcommerce_url": "",
        "language": invoice.language,
        "signature_id": None,
        "layout_id": None,
        "page_amount": 1,
        "notes": invoice.notes,
        "status": invoice.status,
        "created": _datetime(invoice.created),
    }
    if "contact" in withs:
        item["contact"] = contact_json(invoice.contact)
    return item

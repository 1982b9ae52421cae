"""Sandbox rows as the provider's JSON (field names and types per the v2 reference).

Ids the sandbox does not model (bank accounts, ISRs, layouts, people) are null,
as they are at the provider for an account that never set them up.
"""

from __future__ import annotations

from typing import Any

from partnerapp.sandbox.kinds import INVOICE, LETTER, OFFER, DocumentKind
from partnerapp.sandbox.models import Contact, Document, Owner


def _datetime(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _date(value) -> str | None:
    return value.isoformat() if value else None


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


def split_street(street: str) -> tuple[str, str]:
    """ "Bahnhofstrasse 12" → ("Bahnhofstrasse", "12"); a street without a number stays whole."""
    name, _, number = street.rpartition(" ")
    return (name, number) if name and number[:1].isdigit() else (street, "")


def address_json(contact: Contact) -> dict[str, Any]:
    street, street_no = split_street(contact.street)
    return {
        "id": contact.pk,  # one address per contact: it carries the contact's id
        "default": True,
        "country": contact.country,
        "street": street,
        "street_no": street_no,
        "street2": "",
        "postcode": contact.postcode,
        "city": contact.city,
        "hide_on_documents": False,
        "default_prepage": True,
    }


def contact_json(contact: Contact, withs: frozenset[str] = frozenset()) -> dict[str, Any]:
    item = {
        "id": contact.pk,
        "number": contact.number,
        "relation": contact.relation.split(),
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
        "notes": contact.notes,
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
        "main_address_id": contact.pk,
        "created": _datetime(contact.created),
        "custom_fields": [],
    }
    if "main_address" in withs:
        item["main_address"] = address_json(contact)
    return item


def document_json(
    kind: DocumentKind, document: Document, withs: frozenset[str] = frozenset()
) -> dict[str, Any]:
    item = _letter_fields(document) if kind is LETTER else _priced_fields(document)
    if kind is INVOICE:
        item.update(_invoice_fields(document))
    elif kind is OFFER:
        item.update(_offer_fields(document))
    if "contact" in withs:
        item["contact"] = contact_json(document.contact)
    if "contact_address" in withs:
        item["contact_address"] = address_json(document.contact)
    if "positions" in withs and kind.priced:
        item["positions"] = document.positions
    return item


def _common_fields(document: Document) -> dict[str, Any]:
    return {
        "id": document.pk,
        "contact_id": document.contact_id,
        "contact_name": document.contact.name,
        "contact_address_id": document.contact_id,
        "contact_prepage_address_id": None,
        "contact_person_id": None,
        "date": document.date.isoformat(),
        "language": document.language,
        "signature_id": None,
        "layout_id": None,
        "page_amount": 1,
        "notes": document.notes,
        "status": document.status,
        "created": _datetime(document.created),
    }


def _priced_fields(document) -> dict[str, Any]:
    return {
        **_common_fields(document),
        "number": document.number,
        "period_text": document.period_text,
        "currency": document.currency,
        "total": float(document.total),
        "vat_included": False,
        "discount_rate": 0,
        "discount_type": "P",
    }


def _letter_fields(letter) -> dict[str, Any]:
    return {**_common_fields(letter), "title": letter.title, "content": letter.content}


def _invoice_fields(invoice) -> dict[str, Any]:
    return {
        "due": invoice.due.isoformat(),
        "period_from": None,
        "period_to": None,
        "cash_discount_rate": 0,
        "cash_discount_date": None,
        "total_paid": float(invoice.total_paid),
        "paid_date": _date(invoice.paid_date),
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
    }


def _offer_fields(offer) -> dict[str, Any]:
    return {
        "valid_until": offer.valid_until.isoformat(),
        "accept_online": False,
        "accept_online_url": "",
        "accept_online_status": "U",
    }

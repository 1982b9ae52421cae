"""Sandbox rows as the provider's JSON (field names and types per the v2 reference).

Ids the sandbox does not model (layouts, signatures) are null, as they are at the
provider for an account that never set them up.
"""

from __future__ import annotations

from typing import Any

from partnerapp.sandbox.invoice_extras import described_withs
from partnerapp.sandbox.kinds import INVOICE, LETTER, OFFER, DocumentKind
from partnerapp.sandbox.models import (
    BankAccount,
    CatalogItem,
    Contact,
    Document,
    Isr,
    Owner,
    Payment,
    Person,
    Unit,
)


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


def address_json(contact: Contact, withs: frozenset[str] = frozenset()) -> dict[str, Any]:
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
        item.update(_invoice_withs(document, withs))
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
        # One address per contact, so it is the default postal (prepage) address too.
        "contact_prepage_address_id": document.contact_id,
        "contact_person_id": getattr(document, "contact_person_id", None),
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
        "vat_included": invoice.vat_included,
        "discount_rate": float(invoice.discount_rate),
        "discount_type": invoice.discount_type,
        "period_from": _date(invoice.period_from),
        "period_to": _date(invoice.period_to),
        "cash_discount_rate": invoice.cash_discount_rate,
        "cash_discount_date": _date(invoice.cash_discount_date),
        "total_paid": float(invoice.total_paid),
        "paid_date": _date(invoice.paid_date),
        "bank_account_id": invoice.bank_account_id,
        "isr_id": invoice.isr_id,
        "isr_position": invoice.isr_position,
        "isr_reference_number": invoice.isr_reference_number,
        "payment_link_paypal": False,
        "payment_link_paypal_url": "",
        "payment_link_postfinance": False,
        "payment_link_postfinance_url": "",
        "payment_link_payrexx": False,
        "payment_link_payrexx_url": "",
        "payment_link_smartcommerce": False,
        "payment_link_smartcommerce_url": "",
    }


def _invoice_withs(invoice, withs: frozenset[str]) -> dict[str, Any]:
    """The related objects asked for; null where the invoice names none."""
    related = {
        "contact_person": (invoice.contact_person, person_json),
        "contact_prepage_address": (invoice.contact, address_json),
        "bank_account": (invoice.bank_account, bank_account_json),
        "isr": (invoice.isr, isr_json),
    }
    item = {
        key: render(row) if row is not None else None
        for key, (row, render) in related.items()
        if key in withs
    }
    return {**item, **described_withs(invoice, withs)}


def _offer_fields(offer) -> dict[str, Any]:
    return {
        "valid_until": offer.valid_until.isoformat(),
        "accept_online": False,
        "accept_online_url": "",
        "accept_online_status": "U",
    }


# -- payments, people, configuration, catalog ------------------------------------------------


def payment_json(payment: Payment, withs: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "type": payment.type,
        "channel": payment.channel,
        "amount": float(payment.amount),
        "date": payment.date.isoformat(),
        "notes": payment.notes,
        "created": _datetime(payment.created),
    }


def person_json(person: Person, withs: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        "id": person.pk,
        "default": person.default,
        "name": person.name,
        "surname": person.surname,
        "gender": person.gender,
        "email": person.email,
        "phone": person.phone,
        "department": person.department,
        "salutation": person.salutation,
        "show_title": True,
        "show_department": bool(person.department),
        "wants_newsletter": False,
        "custom_fields": [],
        "permissions": ["view", "edit"],
    }


def bank_account_json(account: BankAccount, withs: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        "id": account.pk,
        "default": account.default,
        "description": account.description,
        "bank_name": account.bank_name,
        "number": account.number,
        "iban": account.iban,
        "bic": account.bic,
        "post_account": account.post_account,
        "auto_sync": "inactive",
        "auto_sync_direction": None,
        "permissions": ["view", "edit"],
    }


def isr_json(isr: Isr, withs: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        "id": isr.pk,
        "default": isr.default,
        "type": isr.type,
        "position": isr.position,
        "name": isr.name,
        "bank_name": isr.bank_name,
        "bank_address": isr.bank_address,
        "recipient_name": isr.recipient_name,
        "recipient_addition": isr.recipient_addition,
        "recipient_street": isr.recipient_street,
        "recipient_city": isr.recipient_city,
        "delivery_number": isr.delivery_number,
        "iban": isr.iban,
        "subscriber_number": isr.subscriber_number,
        "permissions": ["view", "edit"],
    }


def unit_json(unit: Unit, withs: frozenset[str] = frozenset()) -> dict[str, Any]:
    permissions = ["view", "edit"] if unit.custom else ["view"]
    return {
        "id": unit.pk,
        "name": unit.name,
        "scope": unit.scope,
        "custom": unit.custom,
        "permissions": permissions,
    }


def catalog_item_json(item: CatalogItem, withs: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A product or a service: services have no purchase price or stock."""
    body = {
        "id": item.pk,
        "number": item.number,
        "name": item.name,
        "description": item.description,
        "notes": item.notes,
        "category_id": None,
        "including_vat": item.including_vat,
        "vat": float(item.vat),
        "unit_id": item.unit_id,
        "unit_name": item.unit.name,
        "price": float(item.price),
        "default_amount": item.default_amount,
        "custom_fields": [],
        "created": _datetime(item.created),
        "permissions": ["view", "edit"],
    }
    if item.type == "P":
        body["price_purchase"] = float(item.price_purchase)
        body["inventory_available"] = float(item.inventory_available)
        body["inventory_reserved"] = 0.0
    return body

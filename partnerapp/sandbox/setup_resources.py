"""Read-only resources an invoice refers to, as thin views: a contact's addresses and
people (scope `contact`), bank accounts and ISR/QR set-ups (scope `configuration`, as
the reference and the PHP client's IsrsEndpoint say), units, products and services
(scope `catalog`). Lists take q, filter, with, limit, offset and sort like the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

from partnerapp.sandbox import contacts, listing
from partnerapp.sandbox.api import endpoint
from partnerapp.sandbox.configuration import system_units
from partnerapp.sandbox.models import BankAccount, CatalogItem, Isr, Owner, Person, Unit
from partnerapp.sandbox.representations import (
    address_json,
    bank_account_json,
    catalog_item_json,
    isr_json,
    person_json,
    unit_json,
)
from partnerapp.sandbox.responses import ApiProblem, item_response


def _spec(filters: dict[str, str], sorts: dict[str, str], search, default: str):
    return listing.ListSpec(filters, sorts, frozenset(), tuple(search), default)


ADDRESSES = _spec(
    {"id": "pk", "city": "city", "postcode": "postcode", "country": "country"},
    {"id": "pk", "street": "street", "city": "city", "postcode": "postcode"},
    ("street", "city", "postcode"),
    "street",
)
PEOPLE = _spec(
    {"id": "pk", "name": "name", "surname": "surname", "email": "email", "gender": "gender"},
    {"id": "pk", "name": "name", "surname": "surname", "email": "email"},
    ("name", "surname", "email", "department"),
    "surname",
)
BANK_ACCOUNTS = _spec(
    {"id": "pk", "iban": "iban", "bank_name": "bank_name", "default": "default"},
    {"id": "pk", "bank_name": "bank_name", "iban": "iban"},
    ("description", "bank_name", "iban"),
    "id",
)
ISRS = _spec(
    {"id": "pk", "type": "type", "iban": "iban", "default": "default"},
    {"id": "pk", "delivery_number": "delivery_number", "name": "name", "type": "type"},
    ("name", "bank_name", "recipient_name", "iban"),
    "delivery_number",
)
UNITS = _spec(
    {"id": "pk", "name": "name", "scope": "scope"},
    {"id": "pk", "name": "name", "custom": "owner_id"},
    ("name",),
    "custom,name",
)
CATALOG = _spec(
    {"id": "pk", "number": "number", "name": "name", "price": "price", "unit_id": "unit_id"},
    {"id": "pk", "number": "number", "name": "name", "price": "price", "created": "created"},
    ("number", "name", "description", "notes"),
    "name",
)


def _not_found(entity_type: str, label: str) -> ApiProblem:
    return ApiProblem(404, f"The {label} was not found", meta={"entity_type": entity_type})


def _serve(request, rows: QuerySet, spec, render, item_id: int | None, entity: tuple[str, str]):
    """The list, or (with `item_id`) the one row; 404 naming `entity` when it is not there."""
    if item_id is None:
        return listing.respond(request, rows, spec, render)
    listing.parse_withs(request, spec.withs)
    row = rows.filter(pk=item_id).first()
    if row is None:
        raise _not_found(*entity)
    return item_response(render(row))


def _views(scope: str, rows: Callable[..., QuerySet], spec, render, entity) -> tuple:
    """(list view, item view) over `rows(owner, **path ids)`."""

    def collection(request: HttpRequest, **ids: Any) -> HttpResponse:
        return _serve(request, rows(request.sandbox_owner, **ids), spec, render, None, entity)

    def item(request: HttpRequest, item_id: int, **ids: Any) -> HttpResponse:
        return _serve(request, rows(request.sandbox_owner, **ids), spec, render, item_id, entity)

    guard = endpoint(methods={"GET"}, scope=scope)
    return guard(collection), guard(item)


def _addresses(owner: Owner, contact_id: int) -> QuerySet:
    """The sandbox's one address per contact lives on the contact row (same id)."""
    contact = contacts.contact_get(owner, contact_id)
    return contacts.contacts_of(owner).filter(pk=contact.pk)


def _people(owner: Owner, contact_id: int) -> QuerySet:
    return Person.objects.filter(contact=contacts.contact_get(owner, contact_id))


def _units(owner: Owner) -> QuerySet:
    system_units()  # the shared rows exist before anyone reads them
    return Unit.objects.filter(Q(owner=None) | Q(owner=owner))


def _catalog(kind: str) -> Callable[[Owner], QuerySet]:
    return lambda owner: CatalogItem.objects.filter(owner=owner, type=kind).select_related("unit")


address_list, address_item = _views(
    "contact", _addresses, ADDRESSES, address_json, ("contact_address", "address")
)
person_list, person_item = _views(
    "contact", _people, PEOPLE, person_json, ("contact_person", "person")
)
bank_account_list, bank_account_item = _views(
    "configuration",
    lambda owner: BankAccount.objects.filter(owner=owner),
    BANK_ACCOUNTS,
    bank_account_json,
    ("bank_account", "bank account"),
)
isr_list, isr_item = _views(
    "configuration", lambda owner: Isr.objects.filter(owner=owner), ISRS, isr_json, ("isr", "ISR")
)
unit_list, unit_item = _views("catalog", _units, UNITS, unit_json, ("unit", "unit"))
product_list, product_item = _views(
    "catalog", _catalog("P"), CATALOG, catalog_item_json, ("product", "product")
)
service_list, service_item = _views(
    "catalog", _catalog("S"), CATALOG, catalog_item_json, ("service", "service")
)

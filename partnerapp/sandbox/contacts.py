"""What the provider does with contacts: create, update, delete."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from partnerapp.sandbox.kinds import KINDS
from partnerapp.sandbox.models import Contact, Owner
from partnerapp.sandbox.responses import ApiProblem, validation_problem
from partnerapp.sandbox.validation import LANGUAGES, Fields

NOT_FOUND = {"entity_type": "contact"}


def contacts_of(owner: Owner) -> QuerySet:
    return Contact.objects.filter(owner=owner)


def contact_get(owner: Owner, contact_id: int) -> Contact:
    found = contacts_of(owner).filter(pk=contact_id).first()
    if found is None:
        raise ApiProblem(404, "The contact was not found", meta=NOT_FOUND)
    return found


def contact_create(*, owner: Owner, body: dict[str, Any]) -> Contact:
    contact = Contact(owner=owner, **_read(Fields(body)))
    if not contact.number:
        contact.number = _next_number(owner)
    return _save(contact)


def contact_update(*, contact: Contact, body: dict[str, Any]) -> Contact:
    for name, value in _read(Fields(body, partial=True)).items():
        setattr(contact, name, value)
    return _save(contact)


@transaction.atomic
def contacts_delete(*, owner: Owner, ids: list[int]) -> None:
    """All or nothing; a contact that documents refer to cannot go (422)."""
    rows = contacts_of(owner).filter(pk__in=ids)
    if rows.count() != len(ids):
        raise ApiProblem(404, "The contact was not found", meta=NOT_FOUND)
    for kind in KINDS:
        used = kind.model.objects.filter(contact_id__in=ids).values_list("contact_id", flat=True)
        if first := used.first():
            reason = f"Contact {first} is used by {kind.label}s and cannot be deleted."
            raise validation_problem([("id", reason)])
    rows.delete()


def _read(fields: Fields) -> dict[str, Any]:
    values = {
        "number": fields.string("number", max_length=20, blank=False),
        "type": fields.choice("type", ("C", "P"), required=True),
        "gender": fields.choice("gender", ("M", "F")),
        "name": fields.string("name", required=True, blank=False),
        "salutation": fields.string("salutation"),
        "email": fields.email("email"),
        "phone": fields.string("phone", max_length=40),
        "language": fields.choice("communication_language", LANGUAGES),
        "currency": fields.choice("currency", ("CHF", "EUR", "USD", "GBP")),
        "notes": fields.string("notes", max_length=10_000),
        "relation": _relation(fields),
    }
    if values["type"] == "P" and values["gender"] is None and not fields.partial:
        fields.error("gender", "The gender is required for a private person.")
    values.update(_address(fields))
    fields.raise_if_any()
    return {name: value for name, value in values.items() if value is not None}


def _relation(fields: Fields) -> str | None:
    relation = fields.array("relation", required=True, non_empty=True)
    if relation is None:
        return None
    if not all(isinstance(r, str) for r in relation) or not set(relation) <= {"CL", "CR"}:
        fields.error("relation", "The value you selected is not a valid choice.")
        return None
    return " ".join(sorted(set(relation)))


def _address(fields: Fields) -> dict[str, Any]:
    """The sandbox keeps one address per contact: `main_address` on POST."""
    raw = fields.object("main_address", required=True)
    if raw is None:
        return {}
    address = fields.nested("main_address", raw)
    street = address.string("street", required=True, blank=False)
    street_no = address.string("street_no", max_length=20)
    values = {
        "street": f"{street} {street_no}".strip() if street and street_no else street,
        "postcode": address.string("postcode", required=True, blank=False, max_length=10),
        "city": address.string("city", required=True, blank=False, max_length=100),
        "country": _country(address),
    }
    return values


def _country(address: Fields) -> str | None:
    country = address.string("country", required=True, blank=False, max_length=2)
    if country is not None and not (len(country) == 2 and country.isalpha()):
        address.error("country", "This value is not a valid country (ISO2).")
        return None
    return country.upper() if country else None


def _next_number(owner: Owner) -> str:
    sequence = contacts_of(owner).count() + 10001
    while contacts_of(owner).filter(number=str(sequence)).exists():
        sequence += 1
    return str(sequence)


def _save(contact: Contact) -> Contact:
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        raise validation_problem([("number", "This number is already used.")]) from None
    return contact

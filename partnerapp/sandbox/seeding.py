"""Realistic Swiss demo data for sandbox owners, deterministic under a seed.

German, French, Italian and English speaking customers with plausible names,
addresses and emails (a few missing or invalid, as in real address books),
invoices in CHF and EUR with mixed statuses.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from partnerapp.sandbox.configuration import configuration_for_owner, system_units
from partnerapp.sandbox.documents import document_total
from partnerapp.sandbox.models import (
    BankAccount,
    CatalogItem,
    Contact,
    DeliveryNote,
    Invoice,
    Isr,
    Letter,
    Offer,
    OrderConfirmation,
    Owner,
    Payment,
    Person,
)
from partnerapp.sandbox.placeholders import DEFAULT_SALUTATIONS

FIRST_NAMES = {
    "de": ["Anna", "Lukas", "Sarah", "Reto", "Claudia", "Beat", "Nina", "Urs", "Monika", "Jonas"],
    "fr": ["Camille", "Julien", "Sophie", "Nicolas", "Léa", "Mathieu", "Chloé", "Olivier"],
    "it": ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Elena", "Davide"],
    "en": ["Emma", "James", "Olivia", "Daniel", "Grace", "Thomas"],
}
LAST_NAMES = {
    "de": ["Müller", "Meier", "Keller", "Schmid", "Huber", "Brunner", "Baumann", "Frei", "Gerber"],
    "fr": ["Favre", "Rochat", "Dubois", "Bonvin", "Perrin", "Morand", "Jaquet", "Girard"],
    "it": ["Bernasconi", "Rossi", "Ferrari", "Pedrazzini", "Fontana", "Galli", "Bianchi"],
    "en": ["Smith", "Taylor", "Brown", "Wilson", "Clarke"],
}
PLACES = {
    "de": [
        ("8001", "Zürich"),
        ("3011", "Bern"),
        ("4051", "Basel"),
        ("6003", "Luzern"),
        ("9000", "St. Gallen"),
        ("8400", "Winterthur"),
        ("5000", "Aarau"),
    ],
    "fr": [
        ("1201", "Genève"),
        ("1003", "Lausanne"),
        ("2000", "Neuchâtel"),
        ("1700", "Fribourg"),
        ("1950", "Sion"),
        ("1400", "Yverdon-les-Bains"),
    ],
    "it": [("6900", "Lugano"), ("6500", "Bellinzona"), ("6600", "Locarno"), ("6850", "Mendrisio")],
    "en": [("6300", "Zug"), ("8002", "Zürich"), ("1202", "Genève")],
}
STREETS = {
    "de": ["Bahnhofstrasse", "Seestrasse", "Hauptstrasse", "Dorfstrasse", "Kirchweg", "Rosenweg"],
    "fr": ["Rue du Rhône", "Avenue de la Gare", "Rue de Lausanne", "Chemin des Vignes"],
    "it": ["Via Nassa", "Via Cantonale", "Corso San Gottardo", "Via Lugano"],
    "en": ["Baarerstrasse", "Bahnhofplatz", "Rue de la Corraterie"],
}
TRADES = {
    "de": [
        ("Schreinerei", "GmbH"),
        ("Elektro", "AG"),
        ("Gartenbau", "GmbH"),
        ("Treuhand", "AG"),
        ("Bäckerei", "GmbH"),
        ("Malergeschäft", "AG"),
    ],
    "fr": [
        ("Boulangerie", "Sàrl"),
        ("Menuiserie", "SA"),
        ("Fiduciaire", "SA"),
        ("Électricité", "Sàrl"),
    ],
    "it": [
        ("Falegnameria", "Sagl"),
        ("Panetteria", "SA"),
        ("Fiduciaria", "SA"),
        ("Elettricità", "Sagl"),
    ],
    "en": [("Consulting", "Ltd"), ("Software", "AG"), ("Design Studio", "GmbH")],
}
SALUTATIONS = {
    "de": {"M": "Sehr geehrter Herr {last}", "F": "Sehr geehrte Frau {last}"},
    "fr": {"M": "Monsieur {last}", "F": "Madame {last}"},
    "it": {"M": "Egregio Signor {last}", "F": "Gentile Signora {last}"},
    "en": {"M": "Dear Mr {last}", "F": "Dear Ms {last}"},
}
MAIL_HOSTS = ["bluewin.ch", "gmx.ch", "sunrise.ch", "hispeed.ch", "protonmail.ch"]
PERIODS = {
    "de": "Leistungen {month}",
    "fr": "Prestations {month}",
    "it": "Prestazioni {month}",
    "en": "Services {month}",
}
LANGUAGE_WEIGHTS = [("de", 55), ("fr", 25), ("it", 12), ("en", 8)]
STATUS_WEIGHTS = [("DR", 40), ("S", 24), ("P", 24), ("PP", 3), ("R1", 4), ("R2", 2), ("C", 3)]
DEMO_PASSWORD_HASH_CACHE: dict[str, str] = {}


@dataclass(frozen=True)
class SeedResult:
    owners_created: int
    contacts: int
    invoices: int


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isalnum() else "-" for ch in ascii_text.lower()).strip("-")


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _email(rng: random.Random, local: str, domain: str) -> str:
    roll = rng.random()
    if roll < 0.05:
        return ""  # no email on file
    if roll < 0.08:
        return f"{local}(at){domain}"  # a typo the provider will refuse
    return f"{local}@{domain}"


def _contact(rng: random.Random, owner: Owner, number: int) -> Contact:
    language = _pick(rng, LANGUAGE_WEIGHTS)
    postcode, city = rng.choice(PLACES[language])
    first, last = rng.choice(FIRST_NAMES[language]), rng.choice(LAST_NAMES[language])
    street = f"{rng.choice(STREETS[language])} {rng.randint(1, 120)}"
    if rng.random() < 0.55:
        trade, form = rng.choice(TRADES[language])
        name = f"{trade} {last} {form}"
        email = _email(rng, "info", f"{slug(trade)}-{slug(last)}.ch")
        return Contact(
            owner=owner,
            number=str(10000 + number),
            type="C",
            name=name,
            salutation="",
            email=email,
            language=language,
            street=street,
            postcode=postcode,
            city=city,
            currency="CHF",
        )
    gender = rng.choice("MF")
    email = _email(rng, f"{slug(first)}.{slug(last)}", rng.choice(MAIL_HOSTS))
    return Contact(
        owner=owner,
        number=str(10000 + number),
        type="P",
        gender=gender,
        name=f"{first} {last}",
        salutation=SALUTATIONS[language][gender].format(last=last),
        email=email,
        language=language,
        street=street,
        postcode=postcode,
        city=city,
    )


SERVICES = {
    "de": [("Beratung", 180), ("Buchhaltung", 120), ("Montage", 95), ("Reisezeit", 80)],
    "fr": [("Conseil", 180), ("Comptabilité", 120), ("Montage", 95), ("Déplacement", 80)],
    "it": [("Consulenza", 180), ("Contabilità", 120), ("Montaggio", 95), ("Trasferta", 80)],
    "en": [("Consulting", 180), ("Bookkeeping", 120), ("Installation", 95), ("Travel", 80)],
}
VAT_RATES = [(8.1, 85), (2.6, 10), (0.0, 5)]  # Swiss standard, reduced, exempt
LETTERS = {
    "de": ("Terminbestätigung", "Gerne bestätigen wir Ihnen unseren Termin."),
    "fr": ("Confirmation de rendez-vous", "Nous vous confirmons volontiers notre rendez-vous."),
    "it": ("Conferma appuntamento", "Le confermiamo volentieri il nostro appuntamento."),
    "en": ("Appointment confirmation", "We are happy to confirm our appointment."),
}
OTHER_STATUSES = {
    Offer: [("DR", 40), ("S", 30), ("A", 15), ("DE", 10), ("B", 5)],
    DeliveryNote: [("DR", 40), ("S", 45), ("B", 15)],
    OrderConfirmation: [("DR", 40), ("S", 45), ("B", 15)],
    Letter: [("DR", 50), ("S", 50)],
}
PREFIXES = {Offer: "OF", DeliveryNote: "LS", OrderConfirmation: "AB"}


def _positions(rng: random.Random, language: str) -> list[dict]:
    lines = []
    for name, price in rng.sample(SERVICES[language], rng.randint(1, 3)):
        amount = rng.randint(2, 40) / 2
        vat = _pick(rng, VAT_RATES)
        lines.append(
            {
                "type": "N",
                "catalog_type": "S",
                "number": "",
                "name": name,
                "description": "",
                "price": float(price),
                "vat": vat,
                "amount": amount,
                "unit_id": 1,
                "discount_rate": 0.0,
                "discount_type": "P",
                "total": round(price * amount, 2),
                "show_only_total": False,
            }
        )
    return lines


def _priced(rng: random.Random, contact: Contact, today: date, *, max_age: int) -> dict:
    """What every priced document of the seed shares: date, currency, positions, total."""
    issued = today - timedelta(days=rng.randint(0, max_age))
    currency = "EUR" if rng.random() < 0.2 else "CHF"
    lines = _positions(rng, contact.language)
    return {
        "owner": contact.owner,
        "contact": contact,
        "date": issued,
        "currency": currency,
        "positions": lines,
        "total": document_total(lines, currency),
        "language": contact.language,
        "period_text": PERIODS[contact.language].format(month=issued.strftime("%m.%Y")),
    }


@dataclass(frozen=True)
class Setup:
    """What every seeded invoice refers to: the owner's bank account and QR set-up."""

    bank_account: BankAccount
    isr: Isr
    people: dict[int, Person]  # contact id → its default person


def _invoice(
    rng: random.Random, contact: Contact, number: int, today: date, setup: Setup
) -> Invoice:
    status = _pick(rng, STATUS_WEIGHTS)
    values = _priced(rng, contact, today, max_age=10 if status == "DR" else 120)
    total = values["total"]
    paid = {"P": total, "PP": (total / 2).quantize(Decimal("0.05"))}.get(status, Decimal(0))
    return Invoice(
        **values,
        number=f"RE-{values['date'].year}-{number:05d}",
        due=values["date"] + timedelta(days=30),
        total_paid=paid,
        paid_date=_paid_day(values["date"], today) if status == "P" else None,
        unpaid_status="S" if paid else "",
        status=status,
        contact_person=setup.people.get(contact.pk),
        bank_account=setup.bank_account,
        isr=setup.isr,
    )


def _paid_day(issued: date, today: date) -> date:
    return min(issued + timedelta(days=20), today)


def _payments(invoices: list[Invoice], today: date) -> list[Payment]:
    """The payment behind each seeded paid or partially paid invoice."""
    return [
        Payment(
            invoice=invoice,
            type="N",
            channel="T",
            amount=invoice.total_paid,
            date=_paid_day(invoice.date, today),
        )
        for invoice in invoices
        if invoice.total_paid > 0
    ]


PEOPLE_DEPARTMENTS = ["Buchhaltung", "Einkauf", "Geschäftsleitung", "Administration"]


def _people(seed: int, owner: Owner, contacts: list[Contact]) -> dict[int, Person]:
    """One person per company contact (its own dice: the other seeded data stays as it was)."""
    rng = random.Random(f"{seed}:{owner.email}:people")
    people = []
    for contact in contacts:
        if contact.type != "C":
            continue
        gender = rng.choice("MF")
        first = rng.choice(FIRST_NAMES[contact.language])
        last = rng.choice(LAST_NAMES[contact.language])
        domain = contact.email.partition("@")[2]
        people.append(
            Person(
                contact=contact,
                default=True,
                gender=gender,
                name=first,
                surname=last,
                email=f"{slug(first)}.{slug(last)}@{domain}" if domain else "",
                department=rng.choice(PEOPLE_DEPARTMENTS),
                salutation=SALUTATIONS[contact.language][gender].format(last=last),
            )
        )
    return {person.contact_id: person for person in Person.objects.bulk_create(people)}


CATALOG_PRODUCTS = [("Montagematerial", 45.5, 2), ("Kabelsatz", 19.9, 2), ("Leuchte LED", 89.0, 2)]


def _catalog(owner: Owner) -> None:
    """The owner's services (the ones invoices bill) and a few products."""
    units = {unit.pk: unit for unit in system_units()}
    items = [
        CatalogItem(
            owner=owner,
            type="S",
            number=f"S-{n:03d}",
            name=name,
            price=price,
            vat=8.1,
            unit=units[1],
        )
        for n, (name, price) in enumerate(SERVICES["de"], start=1)
    ]
    items += [
        CatalogItem(
            owner=owner,
            type="P",
            number=f"P-{n:03d}",
            name=name,
            price=price,
            vat=8.1,
            unit=units[unit],
            price_purchase=round(price * 0.6, 2),
            inventory_available=10 * n,
        )
        for n, (name, price, unit) in enumerate(CATALOG_PRODUCTS, start=1)
    ]
    CatalogItem.objects.bulk_create(items)


def _other(model: type, rng: random.Random, contact: Contact, number: int, today: date):
    status = _pick(rng, OTHER_STATUSES[model])
    if model is Letter:
        title, content = LETTERS[contact.language]
        issued = today - timedelta(days=rng.randint(0, 60))
        return Letter(
            owner=contact.owner,
            contact=contact,
            date=issued,
            language=contact.language,
            status=status,
            title=title,
            content=f"{contact.salutation or DEFAULT_SALUTATIONS[contact.language]}\n\n{content}",
        )
    values = _priced(rng, contact, today, max_age=90)
    extra = {"valid_until": values["date"] + timedelta(days=30)} if model is Offer else {}
    number_text = f"{PREFIXES[model]}-{values['date'].year}-{number:05d}"
    return model(**values, **extra, number=number_text, status=status)


@transaction.atomic
def seed_owner(
    *,
    email: str,
    password: str,
    name: str,
    surname: str,
    company: str,
    invoices: int,
    seed: int,
    today: date,
    other_documents: int | None = None,
) -> tuple[Owner, bool]:
    """Create an owner with contacts, invoices and `other_documents` of each other kind
    (default: a tenth of the invoices, at least 2); an existing owner is left as it is."""
    existing = Owner.objects.filter(email=email).first()
    if existing:
        return existing, False
    if password not in DEMO_PASSWORD_HASH_CACHE:  # hashing is slow on purpose; do it once
        DEMO_PASSWORD_HASH_CACHE[password] = make_password(password)
    owner = Owner.objects.create(
        email=email,
        password=DEMO_PASSWORD_HASH_CACHE[password],
        name=name,
        surname=surname,
        company_name=company,
        company_email=f"info@{slug(company)}.ch",
    )
    rng = random.Random(f"{seed}:{email}")
    contact_count = max(1, min(invoices, max(10, invoices // 4)))
    contacts = Contact.objects.bulk_create(
        [_contact(rng, owner, n) for n in range(1, contact_count + 1)]
    )
    setup = Setup(*configuration_for_owner(owner), people=_people(seed, owner, contacts))
    _catalog(owner)
    created = Invoice.objects.bulk_create(
        [_invoice(rng, rng.choice(contacts), n, today, setup) for n in range(1, invoices + 1)],
        batch_size=1000,
    )
    Payment.objects.bulk_create(_payments(created, today), batch_size=1000)
    others = max(2, invoices // 10) if other_documents is None else other_documents
    for model in OTHER_STATUSES:
        model.objects.bulk_create(
            [_other(model, rng, rng.choice(contacts), n, today) for n in range(1, others + 1)],
            batch_size=1000,
        )
    return owner, True

"""Seeding: realistic Swiss demo data, the same for the same seed."""

import io

from django.core.management import call_command
from django.utils import timezone

from partnerapp.sandbox.models import Invoice, Owner
from partnerapp.sandbox.seeding import seed_owner


def seed(email="seed@sandbox.example", invoices=400, seed_value=11):
    owner, _ = seed_owner(
        email=email,
        password="pw",
        name="Reto",
        surname="Huber",
        company="Huber Treuhand AG",
        invoices=invoices,
        seed=seed_value,
        today=timezone.localdate(),
    )
    return owner


def test_contacts_speak_german_french_and_italian(db):
    owner = seed()
    languages = set(owner.contacts.values_list("language", flat=True))
    assert {"de", "fr", "it"} <= languages
    cities = set(owner.contacts.values_list("city", flat=True))
    assert {"Zürich", "Genève", "Lugano"} & cities


def test_a_few_emails_are_missing_or_invalid(db):
    emails = list(seed().contacts.values_list("email", flat=True))
    missing = sum(1 for email in emails if not email)
    invalid = sum(1 for email in emails if email and "@" not in email)
    assert 0 < missing + invalid < len(emails) * 0.2


def test_invoices_have_mixed_statuses_currencies_and_real_totals(db):
    owner = seed()
    invoices = list(owner.invoices.all())
    assert {"DR", "S", "P"} <= {invoice.status for invoice in invoices}
    assert {"CHF", "EUR"} == {invoice.currency for invoice in invoices}
    for invoice in invoices[:20]:
        assert invoice.positions and invoice.total > 0 and invoice.due > invoice.date
    paid = owner.invoices.filter(status="P").first()
    assert paid.total_paid == paid.total


def test_every_other_kind_is_seeded_too(db):
    owner = seed(invoices=50)
    assert owner.offers.count() == owner.deliverynotes.count() == 5
    assert owner.orderconfirmations.count() == owner.letters.count() == 5


def test_the_same_seed_gives_the_same_data(db):
    first = seed("a@sandbox.example")
    numbers = list(first.invoices.order_by("pk").values_list("number", "total", "status"))
    Owner.objects.filter(pk=first.pk).delete()
    again = seed("a@sandbox.example")
    assert list(again.invoices.order_by("pk").values_list("number", "total", "status")) == numbers


def test_the_command_seeds_n_owners_with_m_invoices_and_keeps_existing_ones(db):
    out = io.StringIO()
    call_command("sandbox_seed", owners=3, invoices=20, stdout=out)
    call_command("sandbox_seed", owners=3, invoices=20, stdout=out)
    assert Owner.objects.count() == 3 and Invoice.objects.count() == 60
    assert "owner3@sandbox.example already has 20 invoices" in out.getvalue()

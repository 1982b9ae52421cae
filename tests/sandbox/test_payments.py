"""Payments on invoices: recorded, listed, deleted; they move the invoice to PP and P
and back; bad bodies are 422s; the scope, other owners and lost responses as elsewhere."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import Invoice

TODAY = timezone.localdate().isoformat()


def payments_url(invoice, suffix=""):
    return f"/receivables/invoices/{invoice.pk}/payments{suffix}"


def pay(call, invoice, amount, **extra):
    body = {"type": "N", "channel": "T", "amount": amount, "date": TODAY, **extra}
    return call("POST", payments_url(invoice), body)


def open_invoice(owner, status="S") -> Invoice:
    return owner.invoices.filter(status=status, total__gt=10).order_by("pk").first()


def test_a_partial_payment_makes_the_invoice_partially_paid(call, owner):
    invoice = open_invoice(owner)
    response = pay(call, invoice, 10, notes="Teilzahlung")
    assert response.status_code == 201
    item = response.json()["item"]
    assert item["amount"] == 10.0 and item["type"] == "N" and item["channel"] == "T"
    assert item["notes"] == "Teilzahlung" and item["date"] == TODAY
    invoice.refresh_from_db()
    assert invoice.status == "PP" and invoice.total_paid == 10 and invoice.paid_date is None


def test_paying_the_rest_makes_it_paid_on_the_payment_date(call, owner):
    invoice = open_invoice(owner)
    pay(call, invoice, 10)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    rest = float(invoice.total - 10)
    assert pay(call, invoice, rest, date=yesterday).status_code == 201
    shown = call("GET", f"/receivables/invoices/{invoice.pk}").json()["item"]
    assert shown["status"] == "P" and shown["total_paid"] == float(invoice.total)
    assert shown["paid_date"] == yesterday


def test_deleting_payments_moves_the_invoice_back(call, owner):
    invoice = open_invoice(owner)
    Invoice.objects.filter(pk=invoice.pk).update(status="R1")
    first = pay(call, invoice, 5).json()["item"]["id"]
    second = pay(call, invoice, float(invoice.total - 5)).json()["item"]["id"]
    assert Invoice.objects.get(pk=invoice.pk).status == "P"
    assert call("DELETE", payments_url(invoice, f"/{second}")).status_code == 204
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_paid, invoice.paid_date) == ("PP", 5, None)
    assert call("DELETE", payments_url(invoice, f"/{first}")).status_code == 204
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_paid) == ("R1", 0)  # the reminder level it had


def test_several_payments_are_deleted_by_comma_separated_ids(call, owner):
    invoice = open_invoice(owner)
    ids = [pay(call, invoice, 1).json()["item"]["id"] for _ in range(3)]
    response = call("DELETE", payments_url(invoice, f"/{ids[0]},{ids[2]}"))
    assert response.status_code == 204 and not response.content
    assert list(invoice.payments.values_list("pk", flat=True)) == [ids[1]]
    assert Invoice.objects.get(pk=invoice.pk).total_paid == 1


def test_deleting_with_an_unknown_payment_id_deletes_nothing(call, owner):
    invoice = open_invoice(owner)
    paid = pay(call, invoice, 1).json()["item"]["id"]
    response = call("DELETE", payments_url(invoice, f"/{paid},987654"))
    assert response.status_code == 404 and response.json()["meta"]["entity_type"] == "payment"
    assert invoice.payments.count() == 1


def test_the_payments_are_listed_and_served_one_by_one(call, owner):
    invoice = open_invoice(owner)
    ids = [pay(call, invoice, amount).json()["item"]["id"] for amount in (1, 2.5)]
    listed = call("GET", payments_url(invoice, "?sort=amount")).json()
    assert [item["id"] for item in listed["items"]] == ids
    assert listed["pagination"]["total"] == 2
    one = call("GET", payments_url(invoice, f"/{ids[1]}")).json()["item"]
    assert one["amount"] == 2.5 and set(one) >= {"created", "channel", "notes"}


def test_a_seeded_paid_invoice_lists_the_payment_behind_it(call, owner):
    invoice = owner.invoices.filter(status="P").first()
    items = call("GET", payments_url(invoice)).json()["items"]
    assert sum(Decimal(str(item["amount"])) for item in items) == invoice.total_paid


def test_only_the_notes_of_a_payment_change(call, owner):
    invoice = open_invoice(owner)
    paid = pay(call, invoice, 1).json()["item"]["id"]
    changed = call("PUT", payments_url(invoice, f"/{paid}"), {"notes": "Bank"})
    assert changed.status_code == 200 and changed.json()["item"]["notes"] == "Bank"
    refused = call("PUT", payments_url(invoice, f"/{paid}"), {"amount": 2})
    assert refused.status_code == 422
    assert refused.json()["meta"]["errors"][0]["key"] == "amount"


def test_a_missing_channel_is_a_bank_transfer(call, owner):
    invoice = open_invoice(owner)
    body = {"type": "W", "amount": 1, "date": TODAY}
    assert call("POST", payments_url(invoice), body).json()["item"]["channel"] == "T"


@pytest.mark.parametrize(
    ("body", "keys"),
    [
        ({}, {"type", "amount", "date"}),
        ({"type": "X", "channel": "BTC", "amount": 1, "date": TODAY}, {"type", "channel"}),
        ({"type": "N", "amount": -5, "date": "2025-13-01"}, {"amount", "date"}),
        ({"type": "N", "amount": 0, "date": TODAY}, {"amount"}),
        ({"type": "N", "amount": "ten", "date": TODAY}, {"amount"}),
        ({"type": "N", "amount": 1.005, "date": TODAY}, {"amount"}),
        ({"type": "N", "amount": True, "date": TODAY}, {"amount"}),
        ({"type": "N", "amount": 1, "date": "01.03.2025"}, {"date"}),
        ({"type": "N", "amount": 1, "date": "2999-01-01"}, {"date"}),
        ({"type": "N", "amount": 1, "date": TODAY, "notes": 5}, {"notes"}),
    ],
)
def test_a_bad_payment_is_a_422_naming_each_field(call, owner, body, keys):
    invoice = open_invoice(owner)
    response = call("POST", payments_url(invoice), body)
    assert response.status_code == 422
    assert {error["key"] for error in response.json()["meta"]["errors"]} == keys
    assert invoice.payments.count() == 0


def test_paying_more_than_is_open_is_refused(call, owner):
    invoice = open_invoice(owner)
    response = pay(call, invoice, float(invoice.total + Decimal("0.05")))
    assert response.status_code == 422
    assert "open amount" in response.json()["meta"]["errors"][0]["message"]
    paid = owner.invoices.filter(status="P").first()
    assert pay(call, paid, 1).status_code == 422


@pytest.mark.parametrize(("status", "word"), [("DR", "draft"), ("C", "cancelled")])
def test_a_draft_or_cancelled_invoice_cannot_be_paid(call, owner, status, word):
    invoice = owner.invoices.filter(status=status).first()
    response = pay(call, invoice, 1)
    assert response.status_code == 422
    error = response.json()["meta"]["errors"][0]
    assert error["key"] == "status" and word in error["message"]
    assert Invoice.objects.get(pk=invoice.pk).status == status


def test_another_owners_invoice_is_not_found(call, other_owner):
    theirs = open_invoice(other_owner) or other_owner.invoices.first()
    assert pay(call, theirs, 1).status_code == 404
    response = call("GET", payments_url(theirs))
    assert response.status_code == 404 and response.json()["meta"]["entity_type"] == "invoice"


def test_a_payment_of_another_invoice_is_not_found(call, owner):
    first, second = owner.invoices.filter(status="S").order_by("pk")[:2]
    paid = pay(call, first, 1).json()["item"]["id"]
    assert call("GET", payments_url(second, f"/{paid}")).status_code == 404


def test_payments_need_the_invoice_scope(client, bearer, owner):
    invoice = open_invoice(owner)
    url = f"/sandbox/v2{payments_url(invoice)}"
    response = client.get(url, **bearer("profile contact"))
    assert response.status_code == 400 and response.json()["code"] == 11


def test_a_lost_response_still_records_the_payment(call, owner):
    invoice = open_invoice(owner)
    call("GET", "/auth/owner")  # the token is taken before the faults start
    faults.profile_update(owner=owner, changes={"p_lost": 1, "lost_mode": "502"})
    response = pay(call, invoice, 3)
    assert response.status_code == 502
    faults.profile_reset(owner=owner)
    listed = call("GET", payments_url(invoice)).json()["items"]
    assert [item["amount"] for item in listed] == [3.0]  # reconcile by listing finds it
    assert invoice.payments.get().request_id

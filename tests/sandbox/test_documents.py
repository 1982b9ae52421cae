"""Invoices and the other document kinds: create, update, delete, pdf, PATCH actions."""

import io
import json
from datetime import date

import pytest
from pypdf import PdfReader

from partnerapp.sandbox import kinds
from partnerapp.sandbox.models import Invoice, OutboxEmail, PostalDispatch
from tests.sandbox.conftest import API, EMAIL

POSITIONS = [
    {"type": "N", "catalog_type": "S", "name": "Beratung", "price": 180, "amount": 2, "vat": 8.1},
    {"type": "N", "catalog_type": "P", "name": "Material", "price": 45.5, "amount": 1, "vat": 8.1},
]
POST = {"palette": "C", "print": "S", "speed": "E"}


def new_invoice(owner, **changes):
    contact = owner.contacts.order_by("pk").first()
    return {
        "contact_id": contact.pk,
        "contact_address_id": contact.pk,
        "currency": "CHF",
        "date": "2025-03-01",
        "due": "2025-03-31",
        "language": "de",
        "positions": POSITIONS,
        **changes,
    }


def test_creating_an_invoice_numbers_it_and_totals_its_positions(call, owner):
    response = call("POST", "/receivables/invoices", new_invoice(owner))
    assert response.status_code == 201
    item = response.json()["item"]
    # (360 + 45.50) * 1.081 = 438.3455 → rounded to 5 Rappen
    assert item["total"] == 438.35 and item["status"] == "DR"
    assert item["number"].startswith("RE-2025-")
    stored = Invoice.objects.get(pk=item["id"])
    assert stored.owner == owner and len(stored.positions) == 2


def test_an_invoice_without_positions_or_dates_is_a_422(call, owner):
    body = new_invoice(owner, due="31.03.2025", contact_id=987654)
    del body["positions"]
    response = call("POST", "/receivables/invoices", body)
    assert response.status_code == 422
    keys = {error["key"] for error in response.json()["meta"]["errors"]}
    assert keys == {"due", "contact_id", "positions"}


def test_a_taken_invoice_number_is_a_422(call, owner):
    taken = owner.invoices.first().number
    response = call("POST", "/receivables/invoices", new_invoice(owner, number=taken))
    assert response.status_code == 422
    assert response.json()["meta"]["errors"][0]["key"] == "number"


def test_updating_an_invoice_keeps_what_is_not_given(call, owner):
    invoice = owner.invoices.filter(status="DR").first()
    response = call("PUT", f"/receivables/invoices/{invoice.pk}", {"notes": "Bitte bis Ende Monat"})
    assert response.status_code == 200
    invoice_after = Invoice.objects.get(pk=invoice.pk)
    assert invoice_after.notes == "Bitte bis Ende Monat"
    assert (invoice_after.total, invoice_after.number) == (invoice.total, invoice.number)


def test_new_positions_change_the_total(call, owner):
    invoice = owner.invoices.filter(status="DR").first()
    one_line = [
        {"type": "N", "catalog_type": "S", "name": "X", "price": 100, "amount": 1, "vat": 0}
    ]
    item = call("PUT", f"/receivables/invoices/{invoice.pk}", {"positions": one_line}).json()
    assert item["item"]["total"] == 100.0


def test_deleting_invoices_by_comma_separated_ids(call, owner):
    first, second = owner.invoices.order_by("pk").values_list("pk", flat=True)[:2]
    response = call("DELETE", f"/receivables/invoices/{first},{second}")
    assert response.status_code == 204
    assert set(Invoice.objects.filter(pk__in=[first, second]).values_list("status", flat=True)) == {
        "D"
    }
    assert call("GET", f"/receivables/invoices/{first}").status_code == 404
    listed = call("GET", "/receivables/invoices?limit=200").json()["items"]
    assert first not in {item["id"] for item in listed}


def test_deleting_with_one_unknown_id_deletes_nothing(call, owner):
    first = owner.invoices.order_by("pk").first()
    response = call("DELETE", f"/receivables/invoices/{first.pk},987654")
    assert response.status_code == 404 and response.json()["meta"]["entity_type"] == "invoice"
    first.refresh_from_db()
    assert first.status != "D"


def test_the_list_sorts_by_total_descending(call):
    items = call("GET", "/receivables/invoices?sort=-total&limit=200").json()["items"]
    totals = [item["total"] for item in items]
    assert totals == sorted(totals, reverse=True)


@pytest.mark.parametrize("key", ["number", "date", "due", "total", "status"])
def test_the_list_sorts_on_every_documented_key(call, key):
    assert call("GET", f"/receivables/invoices?sort={key},-{key}").status_code == 200


def test_the_list_filters_with_or(call, owner):
    expression = {"or": [{"status": "P"}, {"status": "C"}]}
    query = "filter=" + json.dumps(expression) + "&limit=200"
    items = call("GET", f"/receivables/invoices?{query}").json()["items"]
    assert {item["status"] for item in items} <= {"P", "C"}
    assert len(items) == owner.invoices.filter(status__in=["P", "C"]).count()


def test_the_list_includes_contact_and_positions_on_request(call):
    item = call("GET", "/receivables/invoices?with=contact,positions&limit=1").json()["items"][0]
    assert item["contact"]["id"] == item["contact_id"] and item["positions"]


def test_the_pdf_is_a_real_pdf(call, owner):
    invoice = owner.invoices.first()
    response = call("GET", f"/receivables/invoices/{invoice.pk}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert invoice.number in text and invoice.contact.city.split()[0] in text


def test_the_pdf_of_a_letter_holds_its_title(call, owner):
    letter = owner.letters.first()
    response = call("GET", f"/contacts/letters/{letter.pk}/pdf")
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert letter.title in text


def test_change_status_answers_the_changed_invoice(call, owner):
    invoice = owner.invoices.filter(status="S").first()
    response = call("PATCH", f"/receivables/invoices/{invoice.pk}/change-status", {"status": "P"})
    assert response.status_code == 200 and response.json()["item"]["status"] == "P"
    invoice.refresh_from_db()
    assert invoice.total_paid == invoice.total and invoice.paid_date is not None


def test_an_unknown_status_is_a_422(call, owner):
    invoice = owner.invoices.first()
    response = call("PATCH", f"/receivables/invoices/{invoice.pk}/change-status", {"status": "A"})
    assert response.status_code == 422


def test_send_by_post_records_the_letter_and_marks_the_draft_sent(call, owner):
    invoice = owner.invoices.filter(status="DR").first()
    response = call("PATCH", f"/receivables/invoices/{invoice.pk}/send-by-post", POST)
    assert response.status_code == 204
    dispatch = PostalDispatch.objects.get()
    assert (dispatch.document_type, dispatch.document_id, dispatch.palette) == (
        "invoice",
        invoice.pk,
        "C",
    )
    assert dispatch.request_id == response["X-Request-Id"]
    invoice.refresh_from_db()
    assert invoice.status == "S"


def test_send_by_post_needs_palette_print_and_speed(call, owner):
    invoice = owner.invoices.filter(status="DR").first()
    response = call("PATCH", f"/receivables/invoices/{invoice.pk}/send-by-post", {"palette": "X"})
    keys = {error["key"] for error in response.json()["meta"]["errors"]}
    assert response.status_code == 422 and keys == {"palette", "print", "speed"}


OTHER_KINDS = [kinds.OFFER, kinds.DELIVERY_NOTE, kinds.ORDER_CONFIRMATION, kinds.LETTER]


@pytest.mark.parametrize("kind", OTHER_KINDS, ids=lambda kind: kind.name)
def test_every_kind_is_listed_and_served(call, owner, kind):
    body = call("GET", f"/{kind.path}").json()
    assert body["pagination"]["total"] == kind.model.objects.filter(owner=owner).count() > 0
    first = body["items"][0]
    assert call("GET", f"/{kind.path}/{first['id']}").json()["item"]["id"] == first["id"]


@pytest.mark.parametrize("kind", OTHER_KINDS, ids=lambda kind: kind.name)
def test_every_kind_sends_by_email_once_per_call(call, owner, kind):
    document = kind.model.objects.filter(owner=owner, status="DR").first()
    response = call("PATCH", f"/{kind.path}/{document.pk}/send-by-email", EMAIL)
    assert response.status_code == 204
    email = OutboxEmail.objects.get()
    assert (email.document_type, email.document_id) == (kind.name, document.pk)
    assert "{" not in email.subject + email.body
    document.refresh_from_db()
    assert document.status == "S"


@pytest.mark.parametrize("kind", OTHER_KINDS, ids=lambda kind: kind.name)
def test_every_kind_sends_by_post(call, owner, kind):
    document = kind.model.objects.filter(owner=owner).exclude(status="D").first()
    assert call("PATCH", f"/{kind.path}/{document.pk}/send-by-post", POST).status_code == 204
    assert PostalDispatch.objects.get().document_type == kind.name


@pytest.mark.parametrize("kind", OTHER_KINDS, ids=lambda kind: kind.name)
def test_every_kind_changes_status_within_its_own_statuses(call, owner, kind):
    document = kind.model.objects.filter(owner=owner).first()
    target = list(kind.statuses)[1]
    response = call("PATCH", f"/{kind.path}/{document.pk}/change-status", {"status": target})
    assert response.status_code == 200 and response.json()["item"]["status"] == target
    wrong = call("PATCH", f"/{kind.path}/{document.pk}/change-status", {"status": "R1"})
    assert wrong.status_code == 422


@pytest.mark.parametrize("kind", OTHER_KINDS, ids=lambda kind: kind.name)
def test_every_kind_is_guarded_by_its_own_scope(client, bearer, owner, kind):
    document = kind.model.objects.filter(owner=owner).first()
    headers = bearer("profile invoice")
    response = client.patch(
        f"{API}/{kind.path}/{document.pk}/send-by-email",
        json.dumps(EMAIL),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 400 and not OutboxEmail.objects.exists()
    assert response.json()["code"] == 11 and kind.scope in response.json()["meta"]["hint"]


def test_an_offer_is_created_with_its_validity(call, owner):
    body = new_invoice(owner, valid_until="2025-04-30")
    del body["due"]
    item = call("POST", "/receivables/offers", body).json()["item"]
    assert item["valid_until"] == "2025-04-30" and item["number"].startswith("OF-")


def test_a_letter_is_created_and_updated(call, owner):
    contact = owner.contacts.first()
    body = {
        "contact_id": contact.pk,
        "date": "2025-03-01",
        "language": "fr",
        "title": "Rendez-vous",
    }
    created = call("POST", "/contacts/letters", body)
    assert created.status_code == 201
    letter_id = created.json()["item"]["id"]
    updated = call("PUT", f"/contacts/letters/{letter_id}", {"content": "À bientôt"})
    assert updated.json()["item"]["title"] == "Rendez-vous"
    assert owner.letters.get(pk=letter_id).content == "À bientôt"


def test_a_receipt_is_only_for_invoices(call, owner):
    offer = owner.offers.filter(status="DR").first()
    body = {**EMAIL, "receipt": True}
    response = call("PATCH", f"/receivables/offers/{offer.pk}/send-by-email", body)
    assert response.status_code == 422 and response.json()["meta"]["errors"][0]["key"] == "receipt"


def test_a_cancelled_invoice_cannot_be_sent(call, owner):
    invoice = owner.invoices.filter(status="C").first() or owner.invoices.first()
    Invoice.objects.filter(pk=invoice.pk).update(status="C")
    response = call("PATCH", f"/receivables/invoices/{invoice.pk}/send-by-email", EMAIL)
    assert response.status_code == 422 and not OutboxEmail.objects.exists()


def test_dates_are_iso(call, owner):
    item = call("GET", f"/receivables/invoices/{owner.invoices.first().pk}").json()["item"]
    assert date.fromisoformat(item["date"]) and date.fromisoformat(item["due"])

"""QR references on invoices (27 digits, recursive modulo 10) and the ISR/QR set-ups."""

import pytest

from partnerapp.sandbox.references import (
    is_iban,
    is_qr_reference,
    mod10_check_digit,
    qr_reference,
)
from tests.sandbox.conftest import API
from tests.sandbox.test_documents import new_invoice

# The QR reference of SIX's published QR-bill examples (an independent check digit).
PUBLISHED = ["210000000003139471430009017"]


@pytest.mark.parametrize("reference", PUBLISHED)
def test_published_references_carry_the_check_digit_we_compute(reference):
    assert mod10_check_digit(reference[:-1]) == reference[-1]
    assert is_qr_reference(reference)


@pytest.mark.parametrize(
    "broken",
    [
        "210000000003139471430009018",  # wrong check digit
        "21000000000313947143000901",  # 26 digits
        "21000000000313947143000901A",
        "120000000003139471430009017",  # two digits swapped
    ],
)
def test_a_broken_reference_is_not_one(broken):
    assert not is_qr_reference(broken)


def test_a_reference_is_padded_to_27_digits():
    assert qr_reference("21000000000313947143000901") == PUBLISHED[0]
    short = qr_reference("313947143000901")
    assert short.startswith("00000000000313947143000901") and is_qr_reference(short)


def test_every_invoice_shows_its_own_valid_reference(call):
    items = call("GET", "/receivables/invoices?limit=200").json()["items"]
    references = [item["isr_reference_number"] for item in items]
    assert all(is_qr_reference(reference) for reference in references)
    assert len(set(references)) == len(references)


def test_a_created_invoice_has_a_reference_and_the_default_qr_setup(call, owner):
    item = call("POST", "/receivables/invoices", new_invoice(owner)).json()["item"]
    assert is_qr_reference(item["isr_reference_number"])
    isr = owner.isrs.get(default=True)
    assert item["isr_id"] == isr.pk and item["bank_account_id"] == owner.bank_accounts.get().pk


def test_the_isrs_are_listed_and_served(call, owner):
    listed = call("GET", "/receivables/configuration/isrs").json()
    assert listed["pagination"]["total"] == 1
    isr = listed["items"][0]
    assert isr["default"] is True and isr["type"] in {"ISR", "ISR+", "RIS"}
    assert is_iban(isr["iban"]) and 30000 <= int(isr["iban"][4:9]) <= 31999  # a QR-IBAN
    one = call("GET", f"/receivables/configuration/isrs/{isr['id']}")
    assert one.status_code == 200 and one.json()["item"] == isr


def test_another_owners_isr_is_not_found(call, other_owner):
    theirs = other_owner.isrs.get()
    response = call("GET", f"/receivables/configuration/isrs/{theirs.pk}")
    assert response.status_code == 404 and response.json()["meta"]["entity_type"] == "isr"


def test_isrs_need_the_configuration_scope(client, bearer):
    response = client.get(f"{API}/receivables/configuration/isrs", **bearer("profile invoice"))
    assert response.status_code == 400 and response.json()["code"] == 11

"""Invoice fields beyond the common ones: discount, VAT inclusion, period, cash discount,
payment set-up; the reference's `with` keys; change-status with `date_time`."""

import pytest
from django.utils import timezone

from partnerapp.sandbox.models import Invoice
from tests.sandbox.test_documents import new_invoice

INVOICES = "/receivables/invoices"
WITHS = (
    "contact_person,contact_prepage_address,bank_account,isr,custom_fields,texts,"
    "free_texts,workflow,permissions"
)


def create(call, owner, **changes):
    return call("POST", INVOICES, new_invoice(owner, **changes))


def test_the_invoice_fields_are_stored_and_echoed(call, owner):
    response = create(
        call,
        owner,
        vat_included=True,
        discount_rate=10,
        discount_type="P",
        period_from="2025-02-01",
        period_to="2025-02-28",
        cash_discount_rate=2,
        cash_discount_date="2025-03-10",
        isr_position="F",
    )
    assert response.status_code == 201, response.content
    item = response.json()["item"]
    expected = {
        "vat_included": True,
        "discount_rate": 10.0,
        "discount_type": "P",
        "period_from": "2025-02-01",
        "period_to": "2025-02-28",
        "cash_discount_rate": 2,
        "cash_discount_date": "2025-03-10",
        "isr_position": "F",
    }
    assert {key: item[key] for key in expected} == expected
    # prices include VAT: 405.50 less 10 % = 364.95
    assert item["total"] == 364.95
    assert call("GET", f"{INVOICES}/{item['id']}").json()["item"]["period_to"] == "2025-02-28"


def test_a_discount_in_francs_comes_off_the_total(call, owner):
    item = create(call, owner, discount_rate=38.35, discount_type="A").json()["item"]
    assert item["total"] == 400.0  # 438.35 - 38.35


def test_changing_the_discount_changes_the_total(call, owner):
    created = create(call, owner).json()["item"]
    changed = call("PUT", f"{INVOICES}/{created['id']}", {"vat_included": True}).json()["item"]
    assert changed["total"] == 405.5


@pytest.mark.parametrize(
    ("changes", "keys"),
    [
        ({"vat_included": "yes", "discount_type": "X"}, {"vat_included", "discount_type"}),
        ({"discount_rate": 120}, {"discount_rate"}),
        ({"discount_rate": -1}, {"discount_rate"}),
        ({"discount_rate": 500, "discount_type": "A"}, {"discount_rate"}),
        ({"period_from": "2025-03-01", "period_to": "2025-02-01"}, {"period_to"}),
        ({"period_from": "1.2.2025"}, {"period_from"}),
        ({"cash_discount_rate": 2}, {"cash_discount_date"}),
        ({"cash_discount_rate": 101, "cash_discount_date": "2025-03-10"}, {"cash_discount_rate"}),
        ({"cash_discount_rate": 2.5, "cash_discount_date": "2025-03-10"}, {"cash_discount_rate"}),
        ({"cash_discount_rate": 2, "cash_discount_date": "2025-04-30"}, {"cash_discount_date"}),
        ({"due": "2025-02-01"}, {"due"}),
        (
            {"isr_position": "X", "isr_id": 987654, "bank_account_id": 987654},
            {"isr_position", "isr_id", "bank_account_id"},
        ),
        (
            {"contact_person_id": 987654, "contact_prepage_address_id": 987654},
            {"contact_person_id", "contact_prepage_address_id"},
        ),
    ],
)
def test_a_bad_invoice_field_is_a_422(call, owner, changes, keys):
    response = create(call, owner, **changes)
    assert response.status_code == 422
    assert {error["key"] for error in response.json()["meta"]["errors"]} == keys


def test_another_owners_qr_setup_cannot_be_named(call, owner, other_owner):
    response = create(call, owner, isr_id=other_owner.isrs.get().pk)
    assert response.status_code == 422 and response.json()["meta"]["errors"][0]["key"] == "isr_id"


def test_every_documented_with_key_is_served(call, owner):
    invoice = owner.invoices.filter(contact_person__isnull=False).exclude(status="DR").first()
    item = call("GET", f"{INVOICES}/{invoice.pk}?with={WITHS}").json()["item"]
    assert item["contact_person"]["id"] == invoice.contact_person_id
    assert item["contact_prepage_address"]["id"] == invoice.contact_id
    assert item["bank_account"]["id"] == item["bank_account_id"]
    assert item["isr"]["iban"] == invoice.isr.iban
    assert item["custom_fields"] == [] and item["free_texts"] == []
    assert {text["status"] for text in item["texts"]} == {"D", "R1", "R2", "R3"}
    assert [step["status"] for step in item["workflow"]] == ["R1", "R2", "R3"]
    assert item["permissions"] == ["view", "manage"]


def test_the_with_keys_work_on_the_list_too(call):
    items = call("GET", f"{INVOICES}?with={WITHS}&limit=50").json()["items"]
    assert all("workflow" in item and "isr" in item for item in items)
    drafts = [item for item in items if item["status"] == "DR"]
    assert all(item["permissions"] == ["view", "edit", "manage"] for item in drafts)


def test_an_invoice_without_a_person_shows_null(call, owner):
    invoice = owner.invoices.filter(contact_person__isnull=True).first()
    item = call("GET", f"{INVOICES}/{invoice.pk}?with=contact_person").json()["item"]
    assert item["contact_person_id"] is None and item["contact_person"] is None


def test_change_status_stores_its_date_time(call, owner):
    invoice = owner.invoices.filter(status="S").first()
    body = {"status": "R1", "date_time": "2025-03-04 08:15:00"}
    response = call("PATCH", f"{INVOICES}/{invoice.pk}/change-status", body)
    assert response.status_code == 200 and response.json()["item"]["status"] == "R1"
    stored = timezone.localtime(Invoice.objects.get(pk=invoice.pk).status_changed)
    assert stored.strftime("%Y-%m-%d %H:%M:%S") == "2025-03-04 08:15:00"


def test_paid_by_change_status_on_a_day_is_paid_that_day(call, owner):
    invoice = owner.invoices.filter(status="S").first()
    body = {"status": "P", "date_time": "2025-03-04 23:30:00"}
    item = call("PATCH", f"{INVOICES}/{invoice.pk}/change-status", body).json()["item"]
    assert item["paid_date"] == "2025-03-04" and item["total_paid"] == item["total"]


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-04",
        "2025-03-04T08:15:00",
        "04.03.2025 08:15:00",
        "2025-02-30 08:15:00",
        "2025-03-04 25:00:00",
        20250304,
        "2025-03-04 08:15:00+01:00",
    ],
)
def test_a_date_time_not_in_y_m_d_h_i_s_is_a_422(call, owner, value):
    invoice = owner.invoices.filter(status="S").first()
    body = {"status": "R1", "date_time": value}
    response = call("PATCH", f"{INVOICES}/{invoice.pk}/change-status", body)
    assert response.status_code == 422
    assert response.json()["meta"]["errors"][0]["key"] == "date_time"
    assert Invoice.objects.get(pk=invoice.pk).status == "S"

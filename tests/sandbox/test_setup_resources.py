"""A contact's addresses and people, bank accounts, units, products and services."""

import pytest

from partnerapp.sandbox.references import is_iban
from tests.sandbox.conftest import API


def company_with_person(owner):
    return owner.contacts.filter(type="C", people__isnull=False).first()


def test_a_contact_has_its_one_address(call, owner):
    contact = owner.contacts.first()
    listed = call("GET", f"/contacts/{contact.pk}/addresses").json()
    assert [item["id"] for item in listed["items"]] == [contact.pk]
    one = call("GET", f"/contacts/{contact.pk}/addresses/{contact.pk}").json()["item"]
    assert one["postcode"] == contact.postcode and one["default"] is True


def test_another_address_id_is_not_found(call, owner):
    first, second = owner.contacts.order_by("pk")[:2]
    response = call("GET", f"/contacts/{first.pk}/addresses/{second.pk}")
    assert response.status_code == 404
    assert response.json()["meta"]["entity_type"] == "contact_address"


def test_a_company_lists_its_people(call, owner):
    contact = company_with_person(owner)
    items = call("GET", f"/contacts/{contact.pk}/people").json()["items"]
    person = contact.people.get()
    assert [item["id"] for item in items] == [person.pk]
    one = call("GET", f"/contacts/{contact.pk}/people/{person.pk}").json()["item"]
    assert (one["surname"], one["default"]) == (person.surname, True)


def test_another_owners_contact_has_no_addresses_or_people(call, other_owner):
    theirs = other_owner.contacts.first()
    for path in ("addresses", "people"):
        response = call("GET", f"/contacts/{theirs.pk}/{path}")
        assert response.status_code == 404
        assert response.json()["meta"]["entity_type"] == "contact"


def test_the_bank_accounts_are_listed_and_served(call, owner):
    items = call("GET", "/configuration/bank-accounts").json()["items"]
    account = owner.bank_accounts.get()
    assert [item["id"] for item in items] == [account.pk] and is_iban(items[0]["iban"])
    one = call("GET", f"/configuration/bank-accounts/{account.pk}").json()["item"]
    assert one["auto_sync"] == "inactive" and one["default"] is True


def test_the_system_units_are_everyones(call):
    items = call("GET", "/catalog/configuration/units?limit=200").json()["items"]
    assert {"hour", "piece"} <= {item["name"] for item in items}
    assert not any(item["custom"] for item in items)
    assert call("GET", "/catalog/configuration/units/1").json()["item"]["name"] == "hour"


@pytest.mark.parametrize("path", ["products", "services"])
def test_the_catalog_is_listed_searched_and_served(call, owner, path):
    listed = call("GET", f"/catalog/{path}?sort=-price").json()["items"]
    prices = [item["price"] for item in listed]
    assert listed and prices == sorted(prices, reverse=True)
    one = call("GET", f"/catalog/{path}/{listed[0]['id']}").json()["item"]
    assert one == listed[0] and one["unit_name"]
    found = call("GET", f"/catalog/{path}?q={listed[-1]['name'][:5]}").json()["items"]
    assert listed[-1]["id"] in {item["id"] for item in found}


def test_a_product_is_not_a_service(call, owner):
    product = owner.catalog_items.filter(type="P").first()
    response = call("GET", f"/catalog/services/{product.pk}")
    assert response.status_code == 404 and response.json()["meta"]["entity_type"] == "service"


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/catalog/products", "catalog"),
        ("/catalog/configuration/units", "catalog"),
        ("/configuration/bank-accounts", "configuration"),
    ],
)
def test_each_needs_its_scope(client, bearer, path, scope):
    response = client.get(API + path, **bearer("profile invoice contact"))
    assert response.status_code == 400 and scope in response.json()["meta"]["hint"]


def test_a_bad_sort_or_with_key_is_a_400(call):
    assert call("GET", "/catalog/products?sort=colour").status_code == 400
    assert call("GET", "/configuration/bank-accounts/1?with=owner").status_code == 400
    assert call("POST", "/catalog/products", {}).status_code == 405

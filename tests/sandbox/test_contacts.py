"""Contacts: list, get, create, update, delete (DESIGN §2, scope `contact`)."""

from partnerapp.sandbox.models import Contact
from tests.sandbox.conftest import API

NEW_CONTACT = {
    "relation": ["CL"],
    "type": "P",
    "gender": "F",
    "name": "Chiara Bernasconi",
    "email": "chiara.bernasconi@bluewin.ch",
    "communication_language": "it",
    "main_address": {
        "street": "Via Nassa",
        "street_no": "5",
        "postcode": "6900",
        "city": "Lugano",
        "country": "CH",
    },
}


def test_the_contact_list_pages_and_searches(call, owner):
    body = call("GET", "/contacts?limit=5&sort=-number").json()
    numbers = [item["number"] for item in body["items"]]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == 5
    assert body["pagination"]["total"] == owner.contacts.count()
    someone = owner.contacts.order_by("pk").first()
    found = call("GET", f"/contacts?q={someone.number}").json()["items"]
    assert [item["id"] for item in found] == [someone.pk]


def test_creating_a_contact_answers_201_with_the_item(call, owner):
    response = call("POST", "/contacts", NEW_CONTACT)
    assert response.status_code == 201
    item = response.json()["item"]
    stored = Contact.objects.get(pk=item["id"], owner=owner)
    assert (stored.name, stored.street, stored.city, stored.language) == (
        "Chiara Bernasconi",
        "Via Nassa 5",
        "Lugano",
        "it",
    )
    assert item["number"] and item["main_address_id"] == stored.pk


def test_a_contact_with_address_on_request(call, owner):
    contact = owner.contacts.first()
    item = call("GET", f"/contacts/{contact.pk}?with=main_address").json()["item"]
    assert item["main_address"]["city"] == contact.city
    assert item["main_address"]["id"] == item["main_address_id"]


def test_an_invalid_contact_is_a_422_naming_every_field(call):
    body = {**NEW_CONTACT, "email": "not-an-email", "type": "X", "main_address": {"city": ""}}
    del body["name"]
    response = call("POST", "/contacts", body)
    assert response.status_code == 422
    keys = {error["key"] for error in response.json()["meta"]["errors"]}
    assert keys == {
        "name",
        "email",
        "type",
        "main_address.street",
        "main_address.postcode",
        "main_address.city",
        "main_address.country",
    }


def test_updating_a_contact_changes_only_what_is_given(call, owner):
    contact = owner.contacts.first()
    response = call("PUT", f"/contacts/{contact.pk}", {"email": "neu@example.ch"})
    assert response.status_code == 200
    contact_after = Contact.objects.get(pk=contact.pk)
    assert contact_after.email == "neu@example.ch" and contact_after.name == contact.name


def test_deleting_contacts_by_comma_separated_ids(call, owner):
    first = call("POST", "/contacts", NEW_CONTACT).json()["item"]["id"]
    second = call("POST", "/contacts", {**NEW_CONTACT, "name": "Marco Rossi"}).json()["item"]["id"]
    response = call("DELETE", f"/contacts/{first},{second}")
    assert response.status_code == 204
    assert not Contact.objects.filter(pk__in=[first, second]).exists()


def test_a_contact_with_documents_cannot_be_deleted(call, owner):
    used = owner.invoices.first().contact
    response = call("DELETE", f"/contacts/{used.pk}")
    assert response.status_code == 422 and Contact.objects.filter(pk=used.pk).exists()


def test_deleting_an_unknown_contact_deletes_nothing(call, owner):
    created = call("POST", "/contacts", NEW_CONTACT).json()["item"]["id"]
    response = call("DELETE", f"/contacts/{created},987654")
    assert response.status_code == 404
    assert response.json()["meta"] == {"entity_type": "contact"}
    assert Contact.objects.filter(pk=created).exists()


def test_another_owners_contact_is_not_found(call, other_owner):
    response = call("GET", f"/contacts/{other_owner.contacts.first().pk}")
    assert response.status_code == 404 and response.json()["meta"] == {"entity_type": "contact"}


def test_contacts_need_the_contact_scope(client, bearer, owner):
    response = client.get(API + "/contacts", **bearer("profile invoice"))
    assert response.status_code == 400
    assert response.json()["meta"]["hint"] == (
        "End user has to generate access token with: [`contact`] scopes included"
    )

"""The sandbox's list filter answers 200 or 400 for any JSON, never a server error."""

import json

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from partnerapp.sandbox.seeding import seed_owner
from partnerapp.sandbox.services import client_register

keys = st.sampled_from(
    ["status", "currency", "contact_id", "date", "total", "number", "and", "or", "colour", "id"]
)
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
)
filters = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            keys | st.sampled_from(["gte", "lte", "in", "eq", "xx"]), inner, max_size=3
        )
    ),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def bearer(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        owner, _ = seed_owner(
            email="filters@sandbox.example",
            password="pw",
            name="F",
            surname="G",
            company="F AG",
            invoices=15,
            seed=2,
            today=timezone.localdate(),
        )
        client = client_register(
            client_id="filters",
            secret="filters-secret",
            name="filters",
            redirect_uris=[],
            scopes=None,
        )
        client.owner = owner
        client.save(update_fields=["owner"])
        token = (
            DjangoClient()
            .post(
                "/sandbox/v2/auth/access-tokens",
                {
                    "grant_type": "client_credentials",
                    "client_id": "filters",
                    "client_secret": "filters-secret",
                    "scope": "invoice",
                },
            )
            .json()["access_token"]
        )
    yield {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    with django_db_blocker.unblock():
        owner.delete()
        client.delete()


@pytest.mark.django_db
@given(expression=filters)
@settings(max_examples=150)
def test_any_json_filter_is_answered_or_refused(bearer, expression):
    response = DjangoClient().get(
        "/sandbox/v2/receivables/invoices", {"filter": json.dumps(expression)}, **bearer
    )
    assert response.status_code in (200, 400), (expression, response.content[:200])
    if response.status_code == 400:
        assert response.json()["message"]

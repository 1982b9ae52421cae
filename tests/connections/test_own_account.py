"""A partner's own account, added with client credentials instead of the consent page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from partnerapp.connections.models import Connection
from partnerapp.connections.services import ConnectionUnusable, connection_call
from partnerapp.sandbox.models import AccessToken, Client
from partnerapp.sandbox.services import client_register
from tests.connections.test_secrets import database_dump

OWN_ID, OWN_SECRET = "keller-own-client", "own-secret-of-keller"


@pytest.fixture
def own_client(sandbox):
    """The API client the owner registered in her own account."""
    client = client_register(
        client_id=OWN_ID,
        secret=OWN_SECRET,
        name="Keller's own client",
        redirect_uris=[],
        scopes=None,
    )
    client.owner = sandbox.owner
    client.save(update_fields=["owner"])
    return client


def add_own_account(client, partner, *, secret=OWN_SECRET):
    client.force_login(partner)
    return client.post(
        reverse("connections:own_account"),
        {
            "client_id": OWN_ID,
            "client_secret": secret,
            "scopes": ["profile", "invoice", "contact"],
        },
    )


def test_an_own_account_is_added_without_the_consent_page(client, partner, own_client, sandbox):
    response = add_own_account(client, partner)
    connection = Connection.objects.get(user=partner)
    assert response.status_code == 302 and response["Location"].endswith(f"/{connection.pk}/")
    assert connection.grant == Connection.Grant.OWN_ACCOUNT
    assert connection.account_id == str(sandbox.owner.pk) and connection.owner_name == "Anna Keller"
    assert connection.refresh_token == "" and connection.own_client_secret == OWN_SECRET
    assert connection_call(connection, lambda api: api.owner())["surname"] == "Keller"


def test_the_client_secret_is_stored_encrypted(client, partner, own_client):
    add_own_account(client, partner)
    connection = Connection.objects.get(user=partner)
    dump = database_dump()
    assert connection.own_client_secret_ciphertext in dump
    assert OWN_SECRET not in dump and connection.access_token not in dump


def test_an_expired_token_is_renewed_with_the_client_credentials(client, partner, own_client):
    add_own_account(client, partner)
    connection = Connection.objects.get(user=partner)
    connection.access_token_expires_at = timezone.now() - timedelta(seconds=1)
    connection.save()
    tokens_before = AccessToken.objects.filter(client=own_client).count()
    connection_call(connection, lambda api: api.owner())
    connection.refresh_from_db()
    assert AccessToken.objects.filter(client=own_client).count() == tokens_before + 1
    assert not connection.access_token_expires_soon()


def test_wrong_credentials_are_explained_and_nothing_is_stored(client, partner, own_client):
    response = add_own_account(client, partner, secret="not-the-secret")
    assert response.status_code == 400
    assert "Client authentication failed" in response.content.decode()
    assert not Connection.objects.exists()


def test_a_deleted_client_sends_the_connection_to_needs_reauth(
    client, partner, own_client, sandbox
):
    add_own_account(client, partner)
    connection = Connection.objects.get(user=partner)
    Client.objects.filter(pk=own_client.pk).delete()  # the owner removed her API client
    connection.access_token_expires_at = None
    connection.save()
    with pytest.raises(ConnectionUnusable, match="client credentials"):
        connection_call(connection, lambda api: api.owner())
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    own_client.pk = None  # the owner registers the client again ...
    own_client.save()
    assert add_own_account(client, partner).status_code == 302  # ... and we enter it again
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE

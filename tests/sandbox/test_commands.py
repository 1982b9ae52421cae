"""The sandbox's management commands as `make demo` and operators call them."""

import io

import pytest
from django.core.management import CommandError, call_command

from partnerapp.sandbox.models import Client


def test_a_client_secret_starting_with_a_dash_registers(db):
    call_command(
        "sandbox_register_client",
        client_id="demo",
        secret="-rCTYn-f4As1ADDkzB",
        redirect_uris=["http://127.0.0.1:8000/connections/callback/"],
        stdout=io.StringIO(),
    )
    assert Client.objects.get(client_id="demo").check_secret("-rCTYn-f4As1ADDkzB")


def test_registering_without_a_secret_is_refused(db):
    with pytest.raises(CommandError):
        call_command("sandbox_register_client", client_id="demo", redirect_uris=["http://x/cb"])


def register_for(owner_email: str, **options) -> dict[str, str]:
    printed = io.StringIO()
    call_command("sandbox_register_client", owner=owner_email, stdout=printed, **options)
    lines = [line.split(": ", 1) for line in printed.getvalue().splitlines() if ": " in line]
    return dict(lines)


def test_a_client_for_an_owners_own_account_is_printed_once(client, owner):
    printed = register_for(owner.email)
    stored = Client.objects.get(client_id=printed["client_id"])
    assert stored.owner == owner and stored.check_secret(printed["client_secret"])
    assert printed["client_secret"] not in stored.secret_digest  # only a digest is kept
    response = client.post(
        "/sandbox/v2/auth/access-tokens",
        {
            "grant_type": "client_credentials",
            "client_id": printed["client_id"],
            "client_secret": printed["client_secret"],
            "scope": "",
        },
    )
    assert response.status_code == 201
    me = client.get(
        "/sandbox/v2/auth/owner", HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}"
    )
    assert me.json()["item"]["id"] == owner.pk


def test_each_own_account_client_gets_a_fresh_id_and_secret(owner):
    first, second = register_for(owner.email), register_for(str(owner.pk))
    assert first["client_id"] != second["client_id"]
    assert first["client_secret"] != second["client_secret"]
    assert Client.objects.filter(owner=owner).count() == 2


def test_an_own_account_client_for_nobody_is_refused(db):
    with pytest.raises(CommandError):
        register_for("nobody@example.com")


def test_registering_a_partner_app_still_needs_its_redirect_uri(db):
    with pytest.raises(CommandError):
        call_command("sandbox_register_client", client_id="demo", secret="s3cret")

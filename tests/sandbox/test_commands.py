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

"""Tokens at rest and in every place a person or a log could see them."""

import json
import sqlite3
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse
from django.views.debug import ExceptionReporter

from partnerapp.connections import crypto, services
from partnerapp.connections.models import Connection
from tests.jobs.factories import ConnectionFactory


def secrets_of(connection: Connection) -> list[str]:
    return [connection.access_token, connection.refresh_token]


def database_dump() -> str:
    """Everything the database holds, as text: pg_dump on PostgreSQL, iterdump on SQLite."""
    settings_dict = db.settings_dict
    if db.vendor == "postgresql":
        command = [
            "pg_dump",
            "-h",
            settings_dict["HOST"] or "localhost",
            "-p",
            str(settings_dict["PORT"] or 5432),
            "-U",
            settings_dict["USER"],
            settings_dict["NAME"],
        ]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout
    with sqlite3.connect(settings_dict["NAME"]) as raw:
        return "\n".join(raw.iterdump())


def test_a_database_dump_holds_no_token_in_clear_text(connect):
    connection = connect()
    dump = database_dump() + call_command_output("dumpdata")
    assert connection.access_token_ciphertext in dump  # the dump did include the row
    for secret in secrets_of(connection):
        assert secret not in dump


def call_command_output(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_rotating_keys_reencrypts_every_token(connect, settings):
    connection = connect()
    before = connection.access_token_ciphertext
    plain = secrets_of(connection)
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *settings.TOKEN_ENCRYPTION_KEYS]
    call_command("rotate_token_keys", stdout=sys.stderr)
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    connection.refresh_from_db()
    assert connection.access_token_ciphertext != before
    assert secrets_of(connection) == plain


def test_rotating_keys_reencrypts_an_own_accounts_client_secret_too(db, settings):
    connection = ConnectionFactory(own_client_secret_ciphertext=crypto.encrypt("client-s3cret"))
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *settings.TOKEN_ENCRYPTION_KEYS]
    call_command("rotate_token_keys", stdout=sys.stderr)
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    connection.refresh_from_db()
    assert connection.own_client_secret == "client-s3cret"


def test_rotating_keys_reencrypts_a_pending_connect_links_token_too(partner, settings):
    from partnerapp.connections import links
    from partnerapp.organizations.current import personal_organization

    link, token = links.link_create(
        user=partner,
        organization_id=personal_organization(partner).pk,
        client_name="Bäckerei Brunner GmbH",
        scopes=["profile", "invoice"],
        language="de",
    )
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *settings.TOKEN_ENCRYPTION_KEYS]
    call_command("rotate_token_keys", stdout=sys.stderr)
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    link.refresh_from_db()
    assert link.token == token


def test_a_wrong_key_cannot_read_tokens(connect, settings):
    connection = connect()
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.InvalidToken):
        connection.access_token  # noqa: B018


def test_the_admin_never_shows_tokens(client, connect, django_user_model):
    connection = connect()
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw-12345!")
    client.force_login(admin)
    page = client.get(reverse("admin:connections_connection_change", args=[connection.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and connection.owner_name in html
    for secret in secrets_of(connection):
        assert secret not in html


def test_an_error_report_during_a_refresh_hides_the_tokens(connect, monkeypatch, rf):
    """Django's error pages (DEBUG) and admin error mails list local variables."""
    connection = connect()
    issued = []
    real_refresh = services.oauth.refresh

    def refresh_and_remember(*args, **kwargs):  # the real refresh, over HTTP; we keep its pair
        issued.append(real_refresh(*args, **kwargs))
        return issued[-1]

    def crash_while_saving(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.oauth, "refresh", refresh_and_remember)
    monkeypatch.setattr(services, "_store_refreshed", crash_while_saving)
    with pytest.raises(RuntimeError) as caught:
        services.connection_refresh(connection_id=connection.pk, force=True)
    report = ExceptionReporter(
        rf.get("/"),
        caught.type,
        caught.value,
        caught.tb.tb_next,  # from the app down
    ).get_traceback_html()
    assert "connection_refresh" in report and issued
    for secret in (issued[0].access_token, issued[0].refresh_token, *secrets_of(connection)):
        assert secret not in report


def test_logged_json_of_a_connection_page_holds_no_token(client, connect, partner):
    connection = connect()
    client.force_login(partner)
    html = client.get(reverse("dashboard:connection", args=[connection.pk])).content.decode()
    assert json.dumps(secrets_of(connection))  # sanity: there are secrets to look for
    for secret in secrets_of(connection):
        assert secret not in html

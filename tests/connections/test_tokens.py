"""Using a connection: refresh, 401 recovery, revoked grants, disconnect, no tokens in logs."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from partnerapp.connections.models import Connection
from partnerapp.connections.services import (
    ConnectionUnusable,
    connection_call,
    connection_disconnect,
)
from partnerapp.sandbox.models import AccessToken, Grant, RefreshToken
from partnerapp.sandbox.services import grant_revoke


def expire(connection: Connection) -> Connection:
    connection.access_token_expires_at = timezone.now() - timedelta(seconds=1)
    connection.save()
    return connection


def test_an_expired_token_is_refreshed_before_the_call(connect):
    connection = expire(connect())
    old_access, old_refresh = connection.access_token, connection.refresh_token
    owner = connection_call(connection, lambda api: api.owner())
    connection.refresh_from_db()
    assert owner["name"] == "Anna"
    assert connection.access_token != old_access and connection.refresh_token != old_refresh
    assert connection.last_refreshed_at is not None
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1


def test_a_401_refreshes_once_and_repeats_the_call(connect):
    connection = connect()
    AccessToken.objects.all().delete()  # the provider forgot the token (e.g. forced expiry)
    assert connection_call(connection, lambda api: api.owner())["surname"] == "Keller"
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1


def test_a_revoked_grant_marks_the_connection_needs_reauth(connect, sandbox):
    connection = connect()
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    with pytest.raises(ConnectionUnusable):
        connection_call(connection, lambda api: api.owner())
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    assert "must connect the account again" in connection.last_error


def test_reconnecting_reactivates_the_same_connection(connect, sandbox):
    connection = connect()
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    with pytest.raises(ConnectionUnusable):
        connection_call(connection, lambda api: api.owner())
    again = connect()
    assert again.pk == connection.pk and again.status == Connection.Status.ACTIVE
    assert again.last_error == ""


def test_disconnect_forgets_the_tokens(connect):
    connection = connect()
    connection_disconnect(connection)
    connection.refresh_from_db()
    assert connection.status == Connection.Status.DISCONNECTED
    assert connection.access_token == "" and connection.refresh_token == ""
    with pytest.raises(ConnectionUnusable):
        connection_call(connection, lambda api: api.owner())


def test_tokens_never_reach_the_logs(connect, caplog):
    caplog.set_level(logging.DEBUG)
    connection = expire(connect())
    connection_call(connection, lambda api: api.owner())
    connection.refresh_from_db()
    text = caplog.text
    assert connection.access_token not in text and connection.refresh_token not in text

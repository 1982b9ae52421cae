"""Using a connection: refresh, 401 recovery, revoked grants, disconnect, no tokens in logs.

Every test here runs under each of the sandbox's token error styles: league/oauth2-server's
own answers (what the provider runs), the provider's wrapped shape, and the legacy
`invalid_grant` answer — the client must understand all three the same way.
"""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from partnerapp.connections import tasks
from partnerapp.connections.models import ClientRefusal, Connection
from partnerapp.connections.services import (
    ClientCredentialsRefused,
    ConnectionUnusable,
    connection_call,
    connection_disconnect,
    connection_refresh,
)
from partnerapp.sandbox import faults
from partnerapp.sandbox.models import AccessToken, Grant, RefreshToken
from partnerapp.sandbox.seeding import seed_owner
from partnerapp.sandbox.services import grant_revoke
from tests.journeys import OWNER_PASSWORD

STYLES = ["league", "wrapped", "legacy"]


@pytest.fixture(params=STYLES, autouse=True)
def token_error_style(request, sandbox):
    faults.profile_update(owner=None, changes={"token_error_style": request.param})
    return request.param


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


def test_a_revoked_grant_emails_the_partner_user(connect, sandbox, partner, mailoutbox):
    connection = connect()
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    with pytest.raises(ConnectionUnusable):
        connection_call(expire(connection), lambda api: api.owner())
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [partner.email] and "needs to be reconnected" in mail.subject
    assert f"/connections/{connection.pk}/" in mail.body
    assert "\\n" not in mail.body and "\n\nJobs of this account are paused" in mail.body


def test_the_daily_check_refreshes_idle_connections_and_records_health(connect, sandbox):
    fresh, idle = connect(), connect(owner=second_owner(sandbox))
    a_day_ago = timezone.now() - timedelta(hours=25)
    Connection.objects.filter(pk=idle.pk).update(last_refreshed_at=a_day_ago)
    Connection.objects.filter(pk=fresh.pk).update(last_refreshed_at=timezone.now())
    assert tasks.refresh_idle_connections() == {"refreshed": 1, "needs_reauth": 0, "failed": 0}
    idle.refresh_from_db()
    assert idle.last_refreshed_at > a_day_ago and idle.health_checked_at is not None


def test_the_daily_check_finds_revoked_grants(connect, sandbox, mailoutbox):
    connection = connect()
    Connection.objects.filter(pk=connection.pk).update(
        last_refreshed_at=timezone.now() - timedelta(days=2)
    )
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    assert tasks.refresh_idle_connections()["needs_reauth"] == 1
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH and len(mailoutbox) == 1


def test_the_providers_hint_is_shown_when_the_grant_is_revoked(connect, sandbox, token_error_style):
    connection = connect()
    grant_revoke(Grant.objects.get(owner=sandbox.owner))
    with pytest.raises(ConnectionUnusable):
        connection_call(expire(connection), lambda api: api.owner())
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    if token_error_style != "legacy":
        assert "Token has been revoked" in connection.last_error


def test_a_reused_refresh_token_needs_the_owner_again(connect):
    connection = connect()
    spent = connection.refresh_token_ciphertext
    connection_refresh(connection_id=connection.pk, force=True)
    Connection.objects.filter(pk=connection.pk).update(refresh_token_ciphertext=spent)
    with pytest.raises(ConnectionUnusable):
        connection_refresh(connection_id=connection.pk, force=True)
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.NEEDS_REAUTH


def test_a_call_in_flight_with_the_old_token_takes_the_new_one(connect):
    """A sibling refreshed (the provider revokes the old access token): our 401 is answered
    by the stored token, without a second refresh."""
    connection = connect()
    stale = Connection.objects.get(pk=connection.pk)
    connection_refresh(connection_id=connection.pk, force=True)
    assert connection_call(stale, lambda api: api.owner())["surname"] == "Keller"
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1
    assert (
        stale.access_token_ciphertext
        == Connection.objects.get(pk=connection.pk).access_token_ciphertext
    )


def test_a_stored_token_that_died_too_is_refreshed_once(connect):
    connection = connect()
    stale = Connection.objects.get(pk=connection.pk)
    connection_refresh(connection_id=connection.pk, force=True)
    AccessToken.objects.all().delete()  # and the new one dies as well (forced expiry)
    assert connection_call(stale, lambda api: api.owner())["surname"] == "Keller"
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 2


def test_refused_client_credentials_alert_the_operator_not_the_connection(
    connect, settings, client, partner, caplog
):
    connection = expire(connect())
    secret, settings.SMARTBUSINESS_CLIENT_SECRET = settings.SMARTBUSINESS_CLIENT_SECRET, "wrong"
    with pytest.raises(ClientCredentialsRefused, match="SMARTBUSINESS_CLIENT_SECRET"):
        connection_call(connection, lambda api: api.owner())
    connection.refresh_from_db()
    assert connection.status == Connection.Status.ACTIVE and connection.refresh_token
    assert ClientRefusal.objects.get().client_id == settings.SMARTBUSINESS_CLIENT_ID
    assert "refuses partnerapp's client id" in caplog.text
    client.force_login(partner)
    assert "SMARTBUSINESS_CLIENT_ID" in client.get("/").content.decode()
    Connection.objects.filter(pk=connection.pk).update(
        last_refreshed_at=timezone.now() - timedelta(days=2)
    )
    assert tasks.refresh_idle_connections() == {"refreshed": 0, "needs_reauth": 0, "failed": 1}
    settings.SMARTBUSINESS_CLIENT_SECRET = secret  # the operator fixed it
    connection_call(connection, lambda api: api.owner())
    assert not ClientRefusal.objects.exists()


def second_owner(sandbox):
    owner, _ = seed_owner(
        email="second@sandbox.example",
        password=OWNER_PASSWORD,
        name="Marco",
        surname="Rossi",
        company="Rossi SA",
        invoices=5,
        seed=1,
        today=timezone.localdate(),
    )
    return owner

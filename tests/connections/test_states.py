"""The connection's state machine and the refresh margin: small rules with big effects."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partnerapp.connections import states
from partnerapp.connections.models import Connection
from tests.jobs.factories import ConnectionFactory

Status = Connection.Status


@pytest.mark.parametrize(
    ("source", "target"),
    [(Status.DISCONNECTED, Status.NEEDS_REAUTH), (Status.NEEDS_REAUTH, Status.NEEDS_REAUTH)],
)
def test_moves_that_make_no_sense_are_refused(db, source, target):
    connection = ConnectionFactory(status=source)
    with pytest.raises(states.InvalidTransition):
        states.connection_move(connection, target=target)


def test_a_move_writes_only_the_fields_it_names(db):
    connection = ConnectionFactory(owner_name="Anna Keller", last_error="")
    stale = Connection.objects.get(pk=connection.pk)
    Connection.objects.filter(pk=connection.pk).update(owner_name="Anna Keller-Meier")
    assert states.connection_move(stale, target=Status.NEEDS_REAUTH, last_error="revoked")
    connection.refresh_from_db()
    assert (connection.status, connection.last_error) == (Status.NEEDS_REAUTH, "revoked")
    assert connection.owner_name == "Anna Keller-Meier"  # the stale copy did not write it back


def test_a_move_loses_to_a_process_that_moved_first(db):
    connection = ConnectionFactory()
    Connection.objects.filter(pk=connection.pk).update(status=Status.DISCONNECTED)
    assert not states.connection_move(connection, target=Status.NEEDS_REAUTH)
    assert Connection.objects.get(pk=connection.pk).status == Status.DISCONNECTED


def expiring_in(seconds: float, *, lifetime: int | None) -> Connection:
    return Connection(
        access_token_expires_at=timezone.now() + timedelta(seconds=seconds),
        access_token_lifetime=lifetime,
    )


def test_the_refresh_margin_is_the_setting_for_long_lived_tokens(settings):
    settings.TOKEN_REFRESH_MARGIN_SECONDS = 300
    assert expiring_in(200, lifetime=43200).access_token_expires_soon()
    assert not expiring_in(400, lifetime=43200).access_token_expires_soon()


def test_the_refresh_margin_never_exceeds_half_a_short_lifetime(settings):
    """A provider giving 5-minute tokens with a 5-minute margin would mean a refresh per call."""
    settings.TOKEN_REFRESH_MARGIN_SECONDS = 300
    assert expiring_in(200, lifetime=300).refresh_margin() == 150
    assert not expiring_in(200, lifetime=300).access_token_expires_soon()
    assert expiring_in(100, lifetime=300).access_token_expires_soon()

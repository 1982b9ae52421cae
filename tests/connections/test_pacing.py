"""The shared limiter: permits from the provider's window, across threads and processes."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections as db_connections
from django.utils import timezone

from partnerapp.connections import pacing
from partnerapp.connections.models import Connection, RequestLogEntry
from partnerapp.sandbox.models import RateWindow
from partnerapp.smartbusiness.ratelimit import RateLimit
from tests.connections.test_single_flight import no_worker_outlives_its_test, spawn  # noqa: F401
from tests.jobs.factories import ConnectionFactory


def window(connection, *, limit, remaining, reset_in):
    Connection.objects.filter(pk=connection.pk).update(
        rate_limit_limit=limit,
        rate_limit_remaining=remaining,
        rate_limit_reset_at=timezone.now() + timedelta(seconds=reset_in) if reset_in else None,
    )


def test_an_unknown_window_grants_permits(db):
    connection = ConnectionFactory()
    assert [pacing.permit_take(connection.pk) for _ in range(3)] == [0, 0, 0]


def test_a_spent_window_waits_for_its_reset(db):
    connection = ConnectionFactory()
    window(connection, limit=50, remaining=0, reset_in=30)
    assert 29 < pacing.permit_take(connection.pk) <= 30
    with pytest.raises(pacing.PacingWait) as caught:
        pacing.pace(connection.pk, max_wait=5)
    assert caught.value.retry_after > 5


def test_an_ended_window_starts_again_with_the_full_limit(db):
    connection = ConnectionFactory()
    window(connection, limit=50, remaining=0, reset_in=-1)
    assert pacing.permit_take(connection.pk) == 0
    connection.refresh_from_db()
    assert (connection.rate_limit_remaining, connection.rate_limit_reset_at) == (49, None)


def test_responses_only_ever_lower_the_count(db):
    connection = ConnectionFactory()
    window(connection, limit=50, remaining=10, reset_in=30)
    pacing.window_record(connection.pk, RateLimit(limit=50, remaining=20, reset=30))
    connection.refresh_from_db()
    assert connection.rate_limit_remaining == 10
    pacing.window_record(connection.pk, RateLimit(limit=50, remaining=4, reset=30))
    connection.refresh_from_db()
    assert connection.rate_limit_remaining == 4


def test_concurrent_takers_never_overspend(transactional_db):
    connection = ConnectionFactory()
    window(connection, limit=50, remaining=25, reset_in=60)
    granted = []

    def take() -> None:
        for _ in range(10):
            granted.append(pacing.permit_take(connection.pk) == 0)
        db_connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 25


BUDGET, PERIOD, CALLS, WORKERS = 50, 60, 200, 4


def test_four_workers_make_200_calls_on_a_budget_of_50_per_minute_without_a_429(connect, settings):
    """200 calls in windows of 50 need four windows: the theoretical minimum is 3 x 60 s."""
    settings.SANDBOX_RATE_LIMIT, settings.SANDBOX_RATE_LIMIT_PERIOD = BUDGET, PERIOD
    connection = connect()
    RateWindow.objects.all().delete()  # the consent's call is an hour ago: a fresh window
    started = time.monotonic()
    workers = [
        spawn(connection, settings, "--calls", str(CALLS // WORKERS)) for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = [worker.communicate(timeout=PERIOD * 5)[0].strip() for worker in workers]
    elapsed = time.monotonic() - started

    assert all(output.startswith("ok ") for output in outputs), outputs
    calls = RequestLogEntry.objects.filter(connection=connection)
    assert calls.filter(status=200).count() == CALLS
    assert not calls.filter(status=429).exists()
    minimum = (CALLS // BUDGET - 1) * PERIOD
    assert minimum - 2 <= elapsed <= minimum + 15, f"{elapsed:.1f} s (minimum {minimum} s)"

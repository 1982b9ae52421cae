"""The shared limiter: permits from the provider's window, across threads and processes."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections as db_connections
from django.utils import timezone

from partnerapp.connections import pacing
from partnerapp.connections.models import RateWindow as OurWindow
from partnerapp.connections.models import RequestLogEntry
from partnerapp.sandbox.models import RateWindow
from partnerapp.smartbusiness.ratelimit import RateLimit
from tests.connections.test_single_flight import no_worker_outlives_its_test, spawn  # noqa: F401
from tests.jobs.factories import ConnectionFactory

NOW = timezone.now


def window(connection, *, limit, remaining, reset_in):
    OurWindow.objects.update_or_create(
        connection=connection,
        defaults={
            "limit": limit,
            "remaining": remaining,
            "reset_at": timezone.now() + timedelta(seconds=reset_in) if reset_in else None,
        },
    )


def seen(connection) -> OurWindow:
    """Our copy of the connection's window, as stored."""
    return OurWindow.objects.get(connection=connection)


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
    assert (seen(connection).remaining, seen(connection).reset_at) == (49, None)


def test_responses_only_ever_lower_the_count(db):
    connection = ConnectionFactory()
    window(connection, limit=50, remaining=10, reset_in=30)
    pacing.window_record(connection.pk, RateLimit(limit=50, remaining=20, reset=30), sent_at=NOW())
    assert seen(connection).remaining == 10
    pacing.window_record(connection.pk, RateLimit(limit=50, remaining=4, reset=30), sent_at=NOW())
    assert seen(connection).remaining == 4


def test_an_answer_from_the_previous_window_does_not_end_the_new_one(db):
    """A call sent just before the window ended comes back after we opened the next one,
    saying "0 left, 1 s to go": taking that would reopen our window a second later with a
    full budget while the provider's window has only just begun."""
    connection = ConnectionFactory()
    window(connection, limit=50, remaining=0, reset_in=-1)
    sent_before = NOW() - timedelta(seconds=2)
    assert pacing.permit_take(connection.pk) == 0  # opens our next window
    pacing.window_record(
        connection.pk, RateLimit(limit=50, remaining=0, reset=1), sent_at=sent_before
    )
    assert (seen(connection).remaining, seen(connection).reset_at) == (49, None)

    pacing.window_record(connection.pk, RateLimit(limit=50, remaining=48, reset=60), sent_at=NOW())
    assert seen(connection).remaining == 48
    assert 58 < (seen(connection).reset_at - NOW()).total_seconds() <= 60


def test_a_spent_budget_never_reopens_before_the_providers_reset(db):
    """Our copy thought the window ends in 5 s; the provider says 0 left for 30 s more."""
    connection = ConnectionFactory()
    window(connection, limit=50, remaining=3, reset_in=5)
    pacing.window_record(connection.pk, RateLimit(limit=50, remaining=0, reset=30), sent_at=NOW())
    assert seen(connection).remaining == 0
    assert 29 < pacing.permit_take(connection.pk) <= 30


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


def test_a_slice_takes_its_permits_together_while_the_window_has_plenty(db):
    connection = ConnectionFactory()
    window(connection, limit=200, remaining=100, reset_in=60)
    with pacing.batched(connection.pk, size=4):
        pacing.pace(connection.pk, max_wait=0)
        assert seen(connection).remaining == 96  # four at once
        for _ in range(3):
            pacing.pace(connection.pk, max_wait=0)
        assert seen(connection).remaining == 96  # the three others were the slice's
        pacing.pace(connection.pk, max_wait=0)
        assert seen(connection).remaining == 92


def test_near_the_end_of_the_window_permits_go_one_at_a_time(db):
    connection = ConnectionFactory()
    window(connection, limit=200, remaining=pacing.BATCH_FLOOR - 1, reset_in=60)
    with pacing.batched(connection.pk, size=4):
        pacing.pace(connection.pk, max_wait=0)
        assert seen(connection).remaining == pacing.BATCH_FLOOR - 2


def test_permits_taken_together_are_only_held_for_a_moment(db, monkeypatch):
    connection = ConnectionFactory()
    window(connection, limit=200, remaining=100, reset_in=60)
    monkeypatch.setattr(pacing, "BATCH_LIFETIME", 0)  # a window might have ended meanwhile
    with pacing.batched(connection.pk, size=4):
        pacing.pace(connection.pk, max_wait=0)
        pacing.pace(connection.pk, max_wait=0)
    assert seen(connection).remaining == 92


def test_an_ended_window_opens_again_for_a_batch(db):
    connection = ConnectionFactory()
    window(connection, limit=200, remaining=0, reset_in=-1)
    with pacing.batched(connection.pk, size=4):
        pacing.pace(connection.pk, max_wait=0)
    assert (seen(connection).remaining, seen(connection).reset_at) == (196, None)


def test_slices_taking_permits_together_never_overspend(transactional_db):
    connection = ConnectionFactory()
    window(connection, limit=200, remaining=120, reset_in=60)
    granted = []

    def take() -> None:
        with pacing.batched(connection.pk, size=4):
            for _ in range(40):
                try:
                    pacing.pace(connection.pk, max_wait=0)
                except pacing.PacingWait:
                    granted.append(False)
                else:
                    granted.append(True)
        db_connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 120  # every permit of the window, and not one more
    assert seen(connection).remaining == 0


BUDGET, PERIOD, CALLS, WORKERS = 50, 60, 200, 4


def test_four_workers_make_200_calls_on_a_budget_of_50_per_minute_without_a_429(connect, settings):
    """200 calls in windows of 50 need four windows: the theoretical minimum is 3 x 60 s."""
    settings.SANDBOX_RATE_LIMIT, settings.SANDBOX_RATE_LIMIT_PERIOD = BUDGET, PERIOD
    connection = connect()
    # The consent's call is an hour ago: the provider's window and our copy have both ended.
    RateWindow.objects.all().delete()
    window(connection, limit=BUDGET, remaining=BUDGET - 1, reset_in=-3600)
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
    # Never faster than the budget allows; and no window left unused — the work lost a
    # whole period only if it took one more (a busy machine adds seconds, not a window).
    assert minimum - 2 <= elapsed < minimum + PERIOD, f"{elapsed:.1f} s (minimum {minimum} s)"
    starts = sorted(calls.values_list("created_at", flat=True))
    windows = [starts[0]]
    for moment in starts:
        if (moment - windows[-1]).total_seconds() >= PERIOD:
            windows.append(moment)
    assert len(windows) == CALLS // BUDGET, windows


SQLITE_CHECK = """
from datetime import timedelta
from django.utils import timezone
from django.db import connection
from partnerapp.connections import pacing
from partnerapp.connections.models import RateWindow
from partnerapp.smartbusiness.ratelimit import RateLimit
from tests.jobs.factories import ConnectionFactory

def seen():
    w = RateWindow.objects.get(connection=c)
    return w.limit, w.remaining, round((w.reset_at - timezone.now()).total_seconds())

c = ConnectionFactory()
assert connection.vendor == "sqlite", connection.vendor
assert pacing.permit_take(c.pk) == 0  # the first call: unknown window
RateWindow.objects.filter(connection=c).update(
    limit=50, remaining=3, reset_at=timezone.now() + timedelta(seconds=5),
    opened_at=timezone.now() - timedelta(seconds=10),
)
pacing.window_record(c.pk, RateLimit(limit=50, remaining=0, reset=30), sent_at=timezone.now())
print("spent", seen())
pacing.window_record(c.pk, RateLimit(limit=60, remaining=20, reset=10), sent_at=timezone.now())
print("later", seen())
print("taken", pacing.permits_take(c.pk, 4), pacing.permit_take(c.pk) > 25)
"""


def test_on_sqlite_the_written_out_statements_mean_the_same(tmp_path):
    """`make demo` runs on SQLite, where the permit and the window record are the same
    statements in SQLite's words (MIN/MAX for LEAST/GREATEST, dates as text)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    embedded = {"DATABASE_URL", "CELERY_BROKER_URL", "PARTNERAPP_ENV", "DJANGO_SETTINGS_MODULE"}
    env = {key: value for key, value in os.environ.items() if key not in embedded}
    env["PARTNERAPP_VAR_DIR"] = str(tmp_path)
    for command in (["migrate", "-v", "0"], ["shell", "-c", SQLITE_CHECK]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    assert "spent (50, 0, 30)" in done.stdout  # the provider's later reset wins
    assert "later (60, 0, 30)" in done.stdout  # a new limit; the count never goes up
    assert "taken False True" in done.stdout  # spent: no batch, no permit until the reset

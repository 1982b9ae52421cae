"""16 processes calling through one connection while its token keeps expiring.

Before the rate window had its own row and the refresh lock was an advisory lock, the
refresh's `SELECT … FOR UPDATE` on the connection row deadlocked against the request
log's inserts (their foreign key share-locks the row) and the pacing UPDATE. Now: no
deadlock in PostgreSQL's statistics, and no error reaches any caller.
"""

import time

from django.db import connection as db_connection

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import RefreshToken
from tests.conftest import require_postgresql
from tests.connections.test_single_flight import (  # noqa: F401
    expired,
    no_worker_outlives_its_test,
    spawn,
)

PROCESSES = 16
CALLS = 40


def deadlocks() -> int:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_sixteen_processes_and_expiring_tokens_never_deadlock(connect, settings):
    require_postgresql()
    faults.profile_update(
        owner=None, changes={"token_lifetime": 2, "rate_limit": 100_000, "rate_limit_period": 3600}
    )
    connection = expired(connect())
    before = deadlocks()
    processes = [spawn(connection, settings, "--calls", str(CALLS)) for _ in range(PROCESSES)]
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [process.communicate(timeout=240)[0].strip() for process in processes]
    time.sleep(1.5)  # the exited backends have flushed their statistics
    assert results == [results[0]] * PROCESSES and results[0].startswith("ok "), results
    assert deadlocks() == before
    assert RefreshToken.objects.filter(used_at__isnull=False).count() >= 2  # it did expire

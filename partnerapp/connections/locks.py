"""One token refresh per connection at a time, across threads, processes and hosts.

On PostgreSQL: a transaction-scoped advisory lock keyed by the connection, held by a
transaction that commits the new pair before it releases the lock. Nothing else
takes that lock, so it cannot deadlock with the writes every call makes (the request
log's foreign key share-locks the connection row; the rate window has its own row).
On SQLite (the single-host development default) a row lock does not exist and holding
the database's write lock during an HTTP call would stall every other writer, so a
file lock under var/ serialises the refreshers and each write commits at once.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction

# The advisory lock space is shared by everything using the database: ours carry this
# tag in their upper 32 bits ("PArf"), the connection id in the lower.
REFRESH_LOCK_TAG = 0x50417266


def refresh_lock_key(connection_id: int) -> int:
    return (REFRESH_LOCK_TAG << 32) | (connection_id & 0xFFFFFFFF)


@contextmanager
def connection_lock(connection_id: int) -> Iterator[None]:
    """Hold the refresh lock of one connection; writes inside commit before release."""
    if db_connection.vendor == "postgresql":
        with transaction.atomic():
            with db_connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s)", [refresh_lock_key(connection_id)]
                )
            yield
        return
    lock_dir = settings.VAR_DIR / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"connection-{connection_id}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

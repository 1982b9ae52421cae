"""One token refresh per connection at a time, across threads, processes and hosts.

On PostgreSQL: a row lock on the connection (SELECT ... FOR UPDATE) held by a
transaction that commits the new pair before it releases the lock. On SQLite
(the single-host development default) a row lock does not exist and holding the
database's write lock during an HTTP call would stall every other writer, so a
file lock under var/ serialises the refreshers and each write commits at once.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction

from partnerapp.connections.models import Connection


@contextmanager
def connection_lock(connection_id: int) -> Iterator[None]:
    """Hold the refresh lock of one connection; writes inside commit before release."""
    if db_connection.vendor == "postgresql":
        with transaction.atomic():
            Connection.objects.select_for_update().filter(pk=connection_id).first()
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

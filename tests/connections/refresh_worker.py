"""A separate process that uses a connection, for the concurrency and crash tests.

    python -m tests.connections.refresh_worker <connection_id> [--die-before-commit]

Prints "ready", waits for a line on stdin (so many processes start together), makes
one API call through the connection and prints "ok <owner id>" or "error <type>".
With --die-before-commit it stops right after the provider returned a new token pair
and before the pair is saved, prints "got-new-pair" and waits to be killed.
"""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from partnerapp.connections.models import Connection  # noqa: E402
from partnerapp.connections.services import connection_call  # noqa: E402


def hang_before_commit(self, *args, **kwargs):
    print("got-new-pair", flush=True)
    time.sleep(3600)


def main() -> None:
    connection_id = int(sys.argv[1])
    if "--die-before-commit" in sys.argv:
        Connection.save = hang_before_commit
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        owner = connection_call(Connection.objects.get(pk=connection_id), lambda api: api.owner())
    except Exception as exc:
        print(f"error {type(exc).__name__}: {exc}", flush=True)
        return
    print(f"ok {owner['id']}", flush=True)


if __name__ == "__main__":
    main()

"""A separate process that uses a connection, for the concurrency, pacing and crash tests.

    python -m tests.connections.connection_worker <connection_id> [--calls N]
                                                   [--die-before-commit]

Prints "ready", waits for a line on stdin (so many processes start together), makes
N API calls (default 1) through the connection — paced by the shared limiter — and
prints "ok <owner id>" or "error <type>: <message>".
With --die-before-commit it stops right after the provider returned a new token pair
and before the pair is saved, prints "got-new-pair" and waits to be killed.
"""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from partnerapp.connections import services  # noqa: E402
from partnerapp.connections.models import Connection  # noqa: E402
from partnerapp.connections.services import CallContext, connection_call  # noqa: E402

PATIENT = CallContext(max_wait=600)  # wait for the rate-limit reset instead of giving up


def hang_before_commit(*args, **kwargs):
    print("got-new-pair", flush=True)
    time.sleep(3600)


def main() -> None:
    connection_id = int(sys.argv[1])
    if "--die-before-commit" in sys.argv:
        services._store_refreshed = hang_before_commit  # the write of the new pair
    calls = int(sys.argv[sys.argv.index("--calls") + 1]) if "--calls" in sys.argv else 1
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        for _call in range(calls):
            connection = Connection.objects.get(pk=connection_id)
            owner = connection_call(connection, lambda api: api.owner(), PATIENT)
    except Exception as exc:
        print(f"error {type(exc).__name__}: {exc}", flush=True)
        return
    print(f"ok {owner['id']}", flush=True)


if __name__ == "__main__":
    main()

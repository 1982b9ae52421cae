"""A separate process that logs provider calls the way a job's work slice does.

    python -m tests.connections.request_log_writer <connection_id> <calls>

Prints "ready", waits for a line on stdin (so the processes start together), logs
`calls` calls inside `requestlog.batched()` (written every FLUSH_SIZE calls and when
the block ends; every seventh refused with 429) and prints "ok".
"""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from partnerapp.connections import requestlog  # noqa: E402
from partnerapp.smartbusiness.client import ApiCall  # noqa: E402


def main() -> None:
    connection_id, calls = int(sys.argv[1]), int(sys.argv[2])
    print("ready", flush=True)
    sys.stdin.readline()
    with requestlog.batched():
        for n in range(calls):
            call = ApiCall(
                "GET", "/receivables/invoices", 429 if n % 7 == 0 else 200, 0.01, "", None
            )
            requestlog.entry_record(connection_id, call, job_id=None, job_item_id=None)
    print("ok", flush=True)


if __name__ == "__main__":
    main()

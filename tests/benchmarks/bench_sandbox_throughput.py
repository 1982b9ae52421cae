"""Benchmark: send-by-email throughput of the sandbox under gunicorn, zero latency.

A script, not a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
        .venv/bin/python tests/benchmarks/bench_sandbox_throughput.py [--requests 3000]

Seeds a benchmark owner (kept apart from other owners) with enough drafts, starts
`manage.py sandbox_serve` on a free port, then sends every draft by email once:
first from one client one after another (the baseline), then from 32 concurrent
clients. Prints requests/s of both side by side, checks the outbox holds each
invoice exactly once, and stops the server. Goal: >= 300 requests/s concurrent.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
OWNER = "throughput@sandbox.example"
CLIENT_ID, SECRET = "throughput-bench", "throughput-bench-secret"
EMAIL = {
    "subject": "Rechnung {INVOICENO}",
    "body": "{SALUTATION}\n\nIhre Rechnung über {INVOICEAMOUNT}, fällig am {DATEDUE}.",
    "recipients": [{"email": "kunde@example.ch", "name": "Kunde"}],
}


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerapp.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def prepare(drafts: int) -> list[int]:
    """A fresh benchmark owner with `drafts` drafts, a client with its own account,
    and a rate limit that does not get in the way."""
    from django.utils import timezone

    from partnerapp.sandbox import faults
    from partnerapp.sandbox.models import Invoice, Owner
    from partnerapp.sandbox.seeding import seed_owner
    from partnerapp.sandbox.services import client_register

    Owner.objects.filter(email=OWNER).delete()
    owner, _ = seed_owner(
        email=OWNER,
        password="throughput",
        name="Bench",
        surname="Mark",
        company="Benchmark AG",
        invoices=drafts * 3,
        seed=1,
        today=timezone.localdate(),
        other_documents=0,
    )
    client = client_register(
        client_id=CLIENT_ID, secret=SECRET, name="benchmark", redirect_uris=[], scopes=None
    )
    client.owner = owner
    client.save(update_fields=["owner"])
    faults.profile_update(owner=owner, changes={"rate_limit": 10_000_000})
    Invoice.objects.filter(owner=owner).update(status="DR")
    return list(owner.invoices.order_by("pk").values_list("pk", flat=True)[:drafts])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox_serve", f"--bind=127.0.0.1:{port}"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "false"},  # as served for real: no query log kept
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/sandbox/v2/openapi.json", timeout=5)
            return server
        except requests.RequestException:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the sandbox server did not come up")


def token(api: str) -> str:
    response = requests.post(
        f"{api}/auth/access-tokens",
        json={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "scope": "invoice",
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def send_all(api: str, access: str, invoice_ids: list[int], concurrency: int) -> float:
    """Seconds to send each invoice once with `concurrency` clients; fails on any non-204."""
    local = threading.local()  # one keep-alive session per client thread

    def send(invoice_id: int) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Bearer {access}"
        session = local.session
        url = f"{api}/receivables/invoices/{invoice_id}/send-by-email"
        return session.patch(url, json=EMAIL, timeout=30).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = list(pool.map(send, invoice_ids))
    elapsed = time.perf_counter() - started
    if set(statuses) != {204}:
        raise SystemExit(f"unexpected answers: {sorted(set(statuses))}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="concurrent phase")
    parser.add_argument("--baseline-requests", type=int, default=300, help="one-client phase")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from partnerapp.sandbox.services import outbox_summary

    ids = prepare(args.requests + args.baseline_requests)
    port = free_port()
    server = serve(port)
    try:
        api = f"http://127.0.0.1:{port}/sandbox/v2"
        access = token(api)
        baseline = send_all(api, access, ids[: args.baseline_requests], 1)
        concurrent = send_all(api, access, ids[args.baseline_requests :], args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)
    owner_id = _owner_id()
    sends = outbox_summary(owner_id=owner_id)["sends_per_document"]
    exactly_once = len(sends) == len(ids) and set(sends.values()) == {1}
    one, many = args.baseline_requests / baseline, args.requests / concurrent
    print(f"sandbox send-by-email on {connection.vendor}, gunicorn 2x16 threads, no latency")
    print(f"  1 client, sequential:     {one:7.1f} requests/s ({args.baseline_requests} requests)")
    print(
        f"  {args.concurrency} clients, concurrent:  {many:7.1f} requests/s "
        f"({args.requests} requests)"
    )
    print(
        f"  ratio concurrent/sequential: {many / one:.1f}x; goal >= 300/s: "
        f"{'met' if many >= 300 else 'MISSED'}; outbox exactly once: {exactly_once}"
    )


def _owner_id() -> int:
    from partnerapp.sandbox.models import Owner

    return Owner.objects.get(email=OWNER).pk


if __name__ == "__main__":
    main()

"""Benchmark: send-by-email throughput and CPU cost of the sandbox under gunicorn, zero latency.

A script, not a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
        .venv/bin/python tests/benchmarks/bench_sandbox_throughput.py [--requests 3000]
        [--workers N --threads M] [--profile]

Seeds a benchmark owner (kept apart from other owners) with enough drafts, starts
`manage.py sandbox_serve` on a free port, then sends every draft by email once:
first from one client one after another (the baseline), then from 32 concurrent
clients. For both phases it prints requests/s and the server's CPU per request (the
gunicorn workers' user + system time from /proc over the phase, divided by its
requests), side by side with their goals (>= 300 requests/s concurrent, <= 2.5 ms CPU
per send), and checks the outbox holds each invoice exactly once. The clients run on
the same cores, so their CPU per request is printed too.

--profile runs the workers under cProfile (sandbox/profiling.py) and prints the top of
the summed profile; its figures are the profiler's, not the goals'.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
GOAL_RATE, GOAL_CPU_MS = 300, 2.5
TICKS = os.sysconf("SC_CLK_TCK")


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
    # No latency and no faults, whatever an earlier benchmark left in the global profile
    # (which the owner's is copied from): bench_accounts sets 100 ms there.
    faults.profile_reset(owner=None)
    quiet = {"latency_ms": 0, "jitter_ms": 0, "p429": 0, "p500": 0, "p503": 0, "p_lost": 0}
    faults.profile_update(owner=owner, changes={**quiet, "rate_limit": 10_000_000})
    Invoice.objects.filter(owner=owner).update(status="DR")
    return list(owner.invoices.order_by("pk").values_list("pk", flat=True)[:drafts])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port: int, options: list[str], profile_dir: str | None, log) -> subprocess.Popen:
    """The sandbox under gunicorn; its log (errors only) goes to `log`."""
    env = {**os.environ, "DEBUG": "false", "LOG_LEVEL": "WARNING"}  # as served for real
    if profile_dir:
        env["SANDBOX_PROFILE_DIR"] = profile_dir
    server = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox_serve", f"--bind=127.0.0.1:{port}", *options],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120  # a shared machine can be slow to start it
    while time.monotonic() < deadline:
        try:
            # Any answer will do (a 401 here): the server is up.
            requests.get(f"http://127.0.0.1:{port}/sandbox/v2/auth/owner", timeout=5)
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


# -- CPU from /proc ----------------------------------------------------------------------------


def workers_of(master: int) -> list[int]:
    """The gunicorn workers: the master's children (sandbox_serve execs gunicorn)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes, summed (fields 14 and 15 of /proc/pid/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


@dataclass(frozen=True)
class Phase:
    requests: int
    seconds: float
    server_cpu: float  # seconds, all workers
    client_cpu: float  # seconds, this process

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def server_ms(self) -> float:
        return self.server_cpu * 1000 / self.requests

    @property
    def client_ms(self) -> float:
        return self.client_cpu * 1000 / self.requests


def measured(master: int, run) -> Phase:
    """Run `run()` (it returns how many requests it made) and measure it."""
    workers = workers_of(master)
    server_before, client_before = cpu_seconds(workers), _own_cpu()
    started = time.perf_counter()
    count = run()
    seconds = time.perf_counter() - started
    if workers_of(master) != workers:
        raise SystemExit("a gunicorn worker was replaced during the phase: CPU not comparable")
    return Phase(count, seconds, cpu_seconds(workers) - server_before, _own_cpu() - client_before)


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


# -- the clients -------------------------------------------------------------------------------


def each_once(api: str, access: str, ids: list[int], concurrency: int, method: str) -> int:
    """`method` on each invoice once with `concurrency` keep-alive clients: PATCH sends it by
    email (must answer 204), GET reads it (200). Returns the number of requests."""
    local = threading.local()
    expected = 204 if method == "PATCH" else 200

    def call(invoice_id: int) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Bearer {access}"
        url = f"{api}/receivables/invoices/{invoice_id}"
        if method == "PATCH":
            return local.session.patch(f"{url}/send-by-email", json=EMAIL, timeout=30).status_code
        return local.session.get(url, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = list(pool.map(call, ids))
    if set(statuses) != {expected}:
        raise SystemExit(f"unexpected answers to {method}: {sorted(set(statuses))}")
    return len(ids)


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def report(args, server_options: str, one: Phase, many: Phase, exactly_once: bool) -> None:
    from django.db import connection

    print(f"sandbox send-by-email on {connection.vendor}, gunicorn {server_options}, no latency")
    print(f"  {'':34}{'sequential':>12}{'concurrent':>12}   goal")
    print(f"  {'clients':34}{1:>12}{args.concurrency:>12}")
    print(f"  {'requests':34}{one.requests:>12}{many.requests:>12}")
    print(
        f"  {'requests/s':34}{one.rate:>12.1f}{many.rate:>12.1f}   "
        f">= {GOAL_RATE} concurrent: {verdict(many.rate >= GOAL_RATE)}"
    )
    print(
        f"  {'server CPU ms per request':34}{one.server_ms:>12.2f}{many.server_ms:>12.2f}   "
        f"<= {GOAL_CPU_MS} concurrent: {verdict(many.server_ms <= GOAL_CPU_MS)}"
    )
    print(f"  {'client CPU ms per request':34}{one.client_ms:>12.2f}{many.client_ms:>12.2f}")
    print(f"  ratio concurrent/sequential: {many.rate / one.rate:.1f}x")
    print(f"  outbox: each invoice exactly once: {verdict(exactly_once)} ({exactly_once})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="concurrent phase")
    parser.add_argument("--baseline-requests", type=int, default=300, help="one-client phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, help="sandbox_serve's default unless given")
    parser.add_argument("--threads", type=int, help="per worker; sandbox_serve's default")
    parser.add_argument("--profile", action="store_true", help="cProfile the workers")
    args = parser.parse_args()
    setup_django()
    from partnerapp.sandbox.management.commands.sandbox_serve import Command as Serve
    from partnerapp.sandbox.profiling import print_profile
    from partnerapp.sandbox.services import outbox_summary

    workers = args.workers or Serve.DEFAULT_WORKERS
    threads = args.threads or Serve.DEFAULT_THREADS
    ids = prepare(args.requests + args.baseline_requests)
    profile_dir = tempfile.mkdtemp(prefix="sandbox-profile-") if args.profile else None
    options = [f"--workers={workers}", f"--threads={threads}"]
    one, many = run_phases(args, ids, options, profile_dir)
    sends = outbox_summary(owner_id=_owner_id())["sends_per_document"]
    exactly_once = len(sends) == len(ids) and set(sends.values()) == {1}
    report(args, f"{workers} workers x {threads} threads (gthread)", one, many, exactly_once)
    if profile_dir:
        print("\n(figures above are under cProfile, not comparable with the goals)\n")
        print(print_profile(profile_dir))


def run_phases(args, ids: list[int], options: list[str], profile_dir) -> tuple[Phase, Phase]:
    """Serve, warm up, then the sequential and the concurrent phase, each measured."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/sandbox/v2"
    with tempfile.NamedTemporaryFile(prefix="sandbox-serve-", suffix=".log", delete=False) as log:
        server = serve(port, options, profile_dir, log)
        try:
            access = token(api)
            # Warm every worker and thread up (imports, database connections) with reads.
            each_once(api, access, ids[: args.concurrency * 8], args.concurrency, "GET")
            sequential, concurrent = ids[: args.baseline_requests], ids[args.baseline_requests :]
            one = measured(server.pid, lambda: each_once(api, access, sequential, 1, "PATCH"))
            many = measured(
                server.pid, lambda: each_once(api, access, concurrent, args.concurrency, "PATCH")
            )
        except SystemExit:
            print(f"the server's log: {log.name}", file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)
    return one, many


def _owner_id() -> int:
    from partnerapp.sandbox.models import Owner

    return Owner.objects.get(email=OWNER).pk


if __name__ == "__main__":
    main()

"""Benchmark (`make bench`): 200 accounts at once — aggregate rate, fairness, a newcomer.

A script, not a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python tests/benchmarks/bench_accounts.py [--accounts 200] [--drafts 50]

It serves the app and its sandbox under gunicorn and starts celery beat and --workers
real worker processes (thread pools of --threads), as bench_jobs.py and
bench_recovery.py do. Every account's sandbox budget is --budget calls per --period s.

Accounts are connected in bulk, not through the consent page 200 times (each consent
hashes a password at the sandbox: minutes of CPU that would measure nothing here): the
sandbox's own Grant / AccessToken / RefreshToken rows are written as its token endpoint
writes them (digests of random tokens, the same lifetime), and partnerapp stores the
tokens encrypted as the callback does. Every call of the run then authenticates at the
sandbox over HTTP with those tokens, as with any other.

Phases, in one run:
1. capacity: --capacity-accounts accounts x --capacity-drafts drafts without any budget,
   all worker threads busy: the machine's invoices/s for this pipeline (2 shared cores).
2. for each variant (the current scheduling, then the baseline): --accounts jobs of
   --drafts drafts each, created, prepared and confirmed at once; while they run, --probes
   times a job of --probe-items drafts on another account: seconds from its confirm to
   its first sent item.

The baseline is the same code with the scheduling before this change: slices bounded
by time only (JOB_SLICE_SECONDS) and every slice queued alike (no priority for a new
job's first slice); it runs on fresh accounts of the same shape.

It prints, each with its goal and met/missed: the aggregate rate against the bound that
applies (the summed budgets, or the measured capacity if lower), max/min per-account
throughput (each account's sent items over the time from its confirm to its last send),
the p95 wait for a newcomer's first send, job_run tasks per item, and the SQL
statements of one scheduling tick of the beat (the stalled-job sweep) at this many
running jobs, with its query plan's row count.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_jobs import (
    EMAIL,
    PASSWORD,
    configure,
    double_sends,
    free_port,
    register_client,
    start,
    start_server,
)
from tests.benchmarks.bench_recovery import environment, start_beat, stop

RATE_GOAL, FAIRNESS_GOAL, FIRST_SEND_GOAL = 0.9, 1.5, 5.0
BASELINE = {"JOB_SLICE_ITEMS": "0", "JOB_CONTINUE_PRIORITY": "0"}
WAIT = 1800  # seconds: a generous bound for any one phase, not a measurement
SCOPES = ["profile", "invoice", "contact"]


def seed_account(email: str, drafts: int, *, budget: int | None, period: int):
    """A fresh sandbox owner with `drafts` drafts (valid customer emails) and its budget."""
    from django.utils import timezone

    from partnerapp.sandbox import faults
    from partnerapp.sandbox.models import Owner
    from partnerapp.sandbox.seeding import seed_owner

    Owner.objects.filter(email=email).delete()
    owner, _ = seed_owner(
        email=email,
        password=PASSWORD,
        name="Bench",
        surname=email[:8],
        company=f"{email.split('@')[0]} AG",
        invoices=drafts,
        seed=3,
        today=timezone.localdate(),
        other_documents=0,
    )
    owner.invoices.update(status="DR")
    for contact in owner.contacts.all():
        contact.email = f"kunde{contact.pk}@example.ch"
        contact.save(update_fields=["email"])
    if budget is not None:
        faults.profile_update(
            owner=owner, changes={"rate_limit": budget, "rate_limit_period": period}
        )
    return owner


def connect_in_bulk(user, owners: list, port: int) -> list:
    """Connections for `owners` without the consent page (see the module docstring)."""
    from django.conf import settings
    from django.utils import timezone

    from partnerapp.connections.models import Connection
    from partnerapp.sandbox.models import AccessToken, Client, Grant, RefreshToken, digest

    client = Client.objects.get(client_id=settings.SMARTBUSINESS_CLIENT_ID)
    expires = timezone.now() + timedelta(seconds=settings.SANDBOX_ACCESS_TOKEN_LIFETIME)
    connections = []
    for owner in owners:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        grant = Grant.objects.create(owner=owner, client=client, scopes=" ".join(SCOPES))
        token = AccessToken.objects.create(
            token_digest=digest(access),
            client=client,
            owner=owner,
            grant=grant,
            scopes=" ".join(SCOPES),
            expires_at=expires,
        )
        RefreshToken.objects.create(token_digest=digest(refresh), grant=grant, access_token=token)
        connection = Connection(
            user=user,
            base_url=f"http://127.0.0.1:{port}/sandbox/v2",
            account_id=str(owner.pk),
            owner_name=owner.company_name,
            scopes=" ".join(SCOPES),
        )
        connection.store_tokens(access_token=access, refresh_token=refresh, expires_at=expires)
        connection.save()
        connections.append(connection)
    return connections


def job_run_tasks(*logs: Path) -> int:
    """`job_run` tasks the workers took (celery logs a "received" line for each)."""
    mark = b"Task partnerapp.jobs.tasks.job_run["
    return sum(
        1
        for log in logs
        for line in log.read_bytes().splitlines()
        if mark in line and b"received" in line
    )


def start_worker(number: int, threads: int, log: Path):
    command = [sys.executable, "-m", "celery", "-A", "partnerapp", "worker", "--pool=threads"]
    queue = os.environ["CELERY_TASK_DEFAULT_QUEUE"]
    command += [f"--concurrency={threads}", "--loglevel=INFO", "-Q", queue, "-n", f"w{number}@%h"]
    return start(command, log, b"ready.", DEBUG="false")


def wait_until(predicate, what: str, *, alive=(), poll: float = 0.05):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in alive):
            raise SystemExit(f"a worker or beat exited while waiting for {what}")
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise SystemExit(f"gave up waiting for {what}")


def create_jobs(user, connections: list, *, alive) -> list:
    """One draft job over every draft of each connection, prepared (the preview read)."""
    from partnerapp.jobs import services
    from partnerapp.jobs.models import BatchJob

    jobs = [
        services.job_create(
            user=user,
            connection=connection,
            action="invoice.send_by_email",
            selection_spec={"filter": {"status": "DR"}},
            parameters=EMAIL,
        )
        for connection in connections
    ]
    unprepared = BatchJob.objects.filter(pk__in=[job.pk for job in jobs], prepared_at=None)
    wait_until(lambda: not unprepared.exists(), "the previews", alive=alive, poll=0.2)
    for job in jobs:
        job.refresh_from_db()
    return jobs


def confirm(jobs: list) -> dict:
    """Confirm each job (the preview's button); {job id: when it was confirmed}."""
    from django.utils import timezone

    from partnerapp.jobs import services

    confirmed = {}
    for job in jobs:
        confirmed[job.pk] = timezone.now()
        services.job_start(job=job)
    return confirmed


def probe(user, connection, *, alive) -> tuple[float, float]:
    """A small job on another account, confirmed now: seconds to its first sent item, and
    of those the seconds until a worker began its first slice (the job's started_at): the
    time its first task spent in the broker's queue."""
    from partnerapp.jobs.models import JobItem

    (job,) = create_jobs(user, [connection], alive=alive)
    confirmed_at = confirm([job])[job.pk]
    sent = JobItem.objects.filter(job=job, state=JobItem.State.SENT)
    wait_until(sent.exists, "a probe's first send", alive=alive, poll=0.02)
    first = sent.order_by("finished_at").values_list("finished_at", flat=True).first()
    job.refresh_from_db()
    return (first - confirmed_at).total_seconds(), (job.started_at - confirmed_at).total_seconds()


def per_account(jobs: list, confirmed: dict) -> dict:
    """{job id: (sent, invoices/s from its confirm to its last send)}."""
    from django.db.models import Count, Max

    from partnerapp.jobs.models import JobItem

    rows = (
        JobItem.objects.filter(job__in=jobs, state=JobItem.State.SENT)
        .values("job")
        .annotate(sent=Count("pk"), last=Max("finished_at"))
    )
    return {
        row["job"]: (
            row["sent"],
            row["sent"] / (row["last"] - confirmed[row["job"]]).total_seconds(),
        )
        for row in rows
    }


def sweep_tick_statements() -> tuple[int, str]:
    """The statements of one stalled-job sweep (the beat's every-5-s tick) while the jobs
    run, and the rows its query plan reads, from EXPLAIN ANALYZE on this database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partnerapp.jobs import engine

    with CaptureQueriesContext(connection) as queries:
        engine.sweep_stalled_jobs(older_than=10**7)  # nothing that old: a tick that claims none
    statements = len(queries.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + queries.captured_queries[0]["sql"])
        plan = cursor.fetchone()[0][0]["Plan"]
    read = _rows_read(plan)
    return statements, f"{plan['Node Type']}, {read} rows read"


def _rows_read(plan: dict) -> int:
    """Rows a plan's scans produced plus those their filters removed (what was touched)."""
    own = 0
    if "Scan" in plan["Node Type"]:
        own = plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
    return own + sum(_rows_read(child) for child in plan.get("Plans", []))


def run_variant(name: str, env: dict, *, user, args, port: int, prefix: str) -> dict:
    from partnerapp.celery import app

    app.control.purge()
    var = Path(os.environ["PARTNERAPP_VAR_DIR"]) / name
    var.mkdir(exist_ok=True)
    logs = [var / f"worker-{n}.log" for n in range(args.workers)]
    for log in logs:
        log.unlink(missing_ok=True)  # tasks are counted in these
    owners = [
        seed_account(
            f"{prefix}{n}@sandbox.example", args.drafts, budget=args.budget, period=args.period
        )
        for n in range(args.accounts)
    ]
    probe_owners = [
        seed_account(
            f"{prefix}probe{n}@sandbox.example",
            args.probe_items,
            budget=args.budget,
            period=args.period,
        )
        for n in range(args.probes)
    ]
    connections = connect_in_bulk(user, owners, port)
    probe_connections = connect_in_bulk(user, probe_owners, port)
    processes = []
    try:
        with environment(env):
            processes.append(start_beat(var / "beat.log"))
            for number, log in enumerate(logs):
                processes.append(start_worker(number, args.threads, log))
        result = _measure(user, connections, probe_connections, alive=processes, args=args)
        result["tasks"] = job_run_tasks(*logs)
        result["double_sends"] = sum(double_sends(owner) for owner in owners + probe_owners)
        return result
    finally:
        for process in processes:
            if process.poll() is None:
                stop(process)


def _measure(user, connections, probe_connections, *, alive, args) -> dict:
    from partnerapp.connections.models import RequestLogEntry
    from partnerapp.jobs.models import BatchJob, JobItem

    jobs = create_jobs(user, connections, alive=alive)
    items = JobItem.objects.filter(job__in=jobs)
    total = items.count()
    confirmed = confirm(jobs)
    started = min(confirmed.values())
    sent = items.filter(state=JobItem.State.SENT)
    wait_until(lambda: sent.count() >= total // 10, "10 % sent", alive=alive, poll=0.5)
    statements, plan = sweep_tick_statements()
    waits, queued = [], []
    for connection in probe_connections:
        wait, in_queue = probe(user, connection, alive=alive)
        waits.append(wait)
        queued.append(in_queue)
    probes_during = total - sent.count() > 0
    running = BatchJob.objects.filter(pk__in=[job.pk for job in jobs], finished_at=None)
    wait_until(lambda: not running.exists(), "every job done", alive=alive, poll=0.5)
    accounts = per_account(jobs, confirmed)
    rates = [rate for _sent, rate in accounts.values()]
    done = items.filter(state=JobItem.State.SENT)
    last = max(done.values_list("finished_at", flat=True))
    return {
        "items": total,
        "sent": done.count(),
        "aggregate": done.count() / (last - started).total_seconds(),
        "seconds": (last - started).total_seconds(),
        "fairness": max(rates) / min(rates),
        "slowest": min(rates),
        "fastest": max(rates),
        "p95_first_send": _p95(waits),
        "waits": waits,
        "queued": queued,
        "probes_during": probes_during,
        "statements": statements,
        "plan": plan,
        "too_many": RequestLogEntry.objects.filter(
            job_id__in=[job.pk for job in jobs], status=429
        ).count(),
    }


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def measure_capacity(user, *, args, port: int) -> float:
    """Invoices/s of the same workers on a few accounts without a budget, every thread busy."""
    from partnerapp.celery import app
    from partnerapp.jobs.models import JobItem

    app.control.purge()
    var = Path(os.environ["PARTNERAPP_VAR_DIR"]) / "capacity"
    var.mkdir(exist_ok=True)
    owners = [
        seed_account(f"capacity{n}@sandbox.example", args.capacity_drafts, budget=None, period=0)
        for n in range(args.capacity_accounts)
    ]
    connections = connect_in_bulk(user, owners, port)
    processes = []
    try:
        processes.append(start_beat(var / "beat.log"))
        for number in range(args.workers):
            processes.append(start_worker(number, args.threads, var / f"worker-{number}.log"))
        jobs = create_jobs(user, connections, alive=processes)
        confirmed = confirm(jobs)
        pending = JobItem.objects.filter(job__in=jobs, state=JobItem.State.PENDING)
        wait_until(lambda: not pending.exists(), "the capacity run", alive=processes, poll=0.5)
        sent = JobItem.objects.filter(job__in=jobs, state=JobItem.State.SENT)
        last = max(sent.values_list("finished_at", flat=True))
        return sent.count() / (last - min(confirmed.values())).total_seconds()
    finally:
        for process in processes:
            if process.poll() is None:
                stop(process)


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def report(args, capacity: float, new: dict, old: dict) -> None:
    budgets = args.accounts * args.budget / args.period
    bound, which = (capacity, "machine capacity") if capacity < budgets else (budgets, "budgets")
    print(
        f"summed budgets: {args.accounts} x {args.budget}/{args.period} s = {budgets:.1f} "
        f"invoices/s; machine capacity (phase 1: {args.capacity_accounts} accounts x "
        f"{args.capacity_drafts} drafts, no budget, the same {args.workers} workers x "
        f"{args.threads} threads): {capacity:.1f} invoices/s -> the bound is the {which}"
    )
    print(f"{'':38}{'current':>12}{'baseline':>12}")
    rows = [
        ("invoices sent / in the jobs", lambda r: f"{r['sent']}/{r['items']}", None),
        ("seconds from first confirm to last", lambda r: f"{r['seconds']:.1f}", None),
        (
            f"aggregate invoices/s ({which})",
            lambda r: f"{r['aggregate']:.1f}",
            (
                f"goal >= {RATE_GOAL:.0%} of {bound:.1f} = {RATE_GOAL * bound:.1f}",
                new["aggregate"] >= RATE_GOAL * bound,
            ),
        ),
        ("  as a share of the bound", lambda r: f"{r['aggregate'] / bound:.0%}", None),
        (
            "max/min per-account invoices/s",
            lambda r: f"{r['fairness']:.2f}",
            (f"goal <= {FAIRNESS_GOAL}", new["fairness"] <= FAIRNESS_GOAL),
        ),
        ("  slowest / fastest account", lambda r: f"{r['slowest']:.2f}/{r['fastest']:.2f}", None),
        (
            f"p95 first-send wait, s ({args.probes} jobs)",
            lambda r: f"{r['p95_first_send']:.2f}",
            (f"goal < {FIRST_SEND_GOAL:g} s", new["p95_first_send"] < FIRST_SEND_GOAL),
        ),
        ("  p95 confirm to first slice begun, s", lambda r: f"{_p95(r['queued']):.2f}", None),
        ("  all started during the run", lambda r: "yes" if r["probes_during"] else "no", None),
        ("job_run tasks per item", lambda r: f"{r['tasks'] / r['items']:.3f}", None),
        ("429 answers", lambda r: f"{r['too_many']}", None),
        (
            "double sends",
            lambda r: f"{r['double_sends']}",
            ("goal 0", new["double_sends"] + old["double_sends"] == 0),
        ),
        (
            "SQL statements per sweep tick",
            lambda r: f"{r['statements']}",
            (f"goal: not growing with {args.accounts} jobs", new["statements"] == 1),
        ),
    ]
    for label, value, goal in rows:
        tail = f"  {goal[0]}: {verdict(goal[1])}" if goal else ""
        print(f"{label:38}{value(new):>12}{value(old):>12}{tail}")
    print(f"  the sweep tick's plan (current): {new['plan']}")
    print("  first-send waits, s (current): " + " ".join(f"{w:.1f}" for w in new["waits"]))
    print("  first-send waits, s (baseline): " + " ".join(f"{w:.1f}" for w in old["waits"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--drafts", type=int, default=50)
    parser.add_argument("--budget", type=int, default=60, help="calls per --period per account")
    parser.add_argument("--period", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="per worker process")
    parser.add_argument("--probes", type=int, default=10)
    parser.add_argument("--probe-items", type=int, default=10)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--capacity-accounts", type=int, default=8)
    parser.add_argument("--capacity-drafts", type=int, default=250)
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline variant")
    args = parser.parse_args()
    port = free_port()
    configure(port, 4)  # the default: 4 work slots per account
    from django.contrib.auth import get_user_model
    from django.db import connection as db

    from partnerapp.sandbox import faults

    register_client(port)
    faults.profile_update(owner=None, changes={"latency_ms": args.latency_ms})
    user, _ = get_user_model().objects.get_or_create(username="bench", email="bench@example.com")
    var = Path(os.environ["PARTNERAPP_VAR_DIR"])
    server = start_server(port, var / "server.log")
    try:
        print(
            f"accounts benchmark on {db.vendor}: {args.accounts} accounts x {args.drafts} drafts, "
            f"each {args.budget} calls per {args.period} s at the sandbox (latency "
            f"{args.latency_ms} ms); {args.workers} worker processes x {args.threads} threads, "
            f"4 work slots per account; {args.probes} jobs of {args.probe_items} drafts on "
            f"other accounts started one after another once 10 % is sent"
        )
        capacity = measure_capacity(user, args=args, port=port)
        context = {"user": user, "args": args, "port": port}
        new = run_variant("current", {}, prefix="acct", **context)
        old = (
            new if args.no_baseline else run_variant("baseline", BASELINE, prefix="base", **context)
        )
        report(args, capacity, new, old)
    finally:
        stop(server)


if __name__ == "__main__":
    main()

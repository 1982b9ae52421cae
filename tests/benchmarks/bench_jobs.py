"""Benchmark (`make bench`): the job pipeline against a plain loop, on the same sandbox.

A script, not a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python tests/benchmarks/bench_jobs.py [--invoices 2000] [--latency-ms 100]

It serves the app and its sandbox under gunicorn (`manage.py sandbox_serve`), sets the
sandbox's latency, connects the accounts through the real consent flow and starts one
real Celery worker (a thread pool of --concurrency, the connection's work slots set to
the same). Side by side in one run it measures:

(a) a plain sequential loop through the client (one keep-alive session, nothing
    recorded) over a sample of drafts;
(b) the job pipeline on N drafts selected by a filter (listed 200 at a time, then
    claim → send → record for each): invoices/s, the ratio to (a), API calls per
    invoice, 429s, double sends (from the sandbox outbox) and the worker's peak RSS;
(c) a rate-limited run: another account whose sandbox budget is 300 calls per 60 s,
    600 drafts: achieved rate as a fraction of the budget, and its 429s.

(a) and (b) run --runs times (default 3), each on a fresh account, and the summary
prints each figure with its goal and "met"/"missed": the ratio in each of the runs, the
worker's CPU per invoice (its user + system time over the job, preparation included,
beside the plain loop's own CPU per invoice) and the SQL statements the worker sends per
invoice while it sends (counted in the worker by `worker_probe.py`). `--profile FILE`
runs the worker's tasks under cProfile (thread CPU time) and prints the top of it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "jobs-bench"
EMAIL = {"subject": "Rechnung {INVOICENO}", "body": "{SALUTATION}\n\n{INVOICEAMOUNT}"}
BUDGET, PERIOD = 300, 60
RATIO_GOAL, CPU_GOAL_MS, STATEMENTS_GOAL = 13.0, 2.0, 3.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure(port: int, concurrency: int) -> None:
    """Settings for this process and its children, before Django starts."""
    os.environ.setdefault("PARTNERAPP_VAR_DIR", tempfile.mkdtemp(prefix="bench-jobs-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # this process prints figures, not logs
    os.environ["PORT"] = str(port)
    os.environ["SMARTBUSINESS_BASE_URL"] = f"http://127.0.0.1:{port}/sandbox/v2"
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-jobs-{uuid.uuid4().hex[:8]}"
    os.environ["JOB_CONCURRENCY_PER_CONNECTION"] = str(concurrency)
    os.environ["DJANGO_SETTINGS_MODULE"] = "partnerapp.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def seed(email: str, drafts: int):
    """A fresh owner whose invoices are all drafts with a valid customer email."""
    from django.utils import timezone

    from partnerapp.sandbox.models import Owner, RateWindow
    from partnerapp.sandbox.seeding import seed_owner

    Owner.objects.filter(email=email).delete()
    owner, _ = seed_owner(
        email=email,
        password=PASSWORD,
        name="Bench",
        surname=email[:5],
        company=f"{email[:5]} AG",
        invoices=drafts,
        seed=3,
        today=timezone.localdate(),
    )
    owner.invoices.update(status="DR")
    for contact in owner.contacts.all():
        contact.email = f"kunde{contact.pk}@example.ch"
        contact.save(update_fields=["email"])
    RateWindow.objects.filter(owner=owner).delete()
    return owner


def register_client(port: int) -> None:
    from django.conf import settings

    from partnerapp.sandbox.services import client_register

    client_register(
        client_id=settings.SMARTBUSINESS_CLIENT_ID,
        secret=settings.SMARTBUSINESS_CLIENT_SECRET,
        name="partnerapp (bench)",
        redirect_uris=[f"http://127.0.0.1:{port}/connections/callback/"],
        scopes=None,
    )


def connect(user, owner, port: int):
    """The consent flow over HTTP: the owner signs in and approves; we store the tokens."""
    from datetime import UTC, datetime

    from partnerapp.connections.models import Connection
    from partnerapp.connections.services import api_config
    from partnerapp.smartbusiness import oauth

    base = f"http://127.0.0.1:{port}"
    config, redirect = api_config(), f"{base}/connections/callback/"
    scopes = ["profile", "invoice", "contact"]
    request = oauth.authorization_request(config, redirect_uri=redirect, scope=scopes, state="b")
    browser = requests.Session()
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    login = browser.get(f"{base}/sandbox/login/", timeout=30)
    browser.post(
        f"{base}/sandbox/login/",
        timeout=30,
        data={
            "csrfmiddlewaretoken": csrf.search(login.text).group(1),
            "form": "login",
            "email": owner.email,
            "password": PASSWORD,
        },
    )
    consent = browser.get(request.url, timeout=30)
    approved = browser.post(
        request.url,
        allow_redirects=False,
        timeout=30,
        data={"csrfmiddlewaretoken": csrf.search(consent.text).group(1), "decision": "approve"},
    )
    code = parse_qs(urlsplit(approved.headers["Location"]).query)["code"][0]
    tokens = oauth.exchange_code(
        config, redirect_uri=redirect, code=code, code_verifier=request.code_verifier, scope=scopes
    )
    connection = Connection(
        user=user,
        base_url=config.base_url,
        account_id=str(owner.pk),
        owner_name=owner.company_name,
        scopes=" ".join(scopes),
    )
    connection.store_tokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=datetime.fromtimestamp(tokens.expires_at, tz=UTC),
    )
    connection.save()
    return connection


def start(command: list[str], log: Path, ready: bytes, **env_overrides) -> subprocess.Popen:
    handle = open(log, "ab")  # noqa: SIM115 - closed by the child's exit
    offset = handle.tell()  # a reused var dir keeps earlier runs' lines: look past them
    env = {**os.environ, "LOG_LEVEL": "INFO", **env_overrides}
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, env=env
    )
    deadline = time.monotonic() + 60
    while ready not in log.read_bytes()[offset:]:
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                os.killpg(process.pid, 9)
            raise SystemExit(f"{command[1:5]} did not start; see {log}")
        time.sleep(0.2)
    return process


def start_server(port: int, log: Path) -> subprocess.Popen:
    """The app and its sandbox under gunicorn, as served for real (no query log kept)."""
    python = sys.executable
    command = [python, "manage.py", "sandbox_serve", "--bind", f"127.0.0.1:{port}"]
    return start(command, log, b"Booting worker", DEBUG="false", LOG_LEVEL="WARNING")


def start_worker(concurrency: int, log: Path, **env_overrides) -> subprocess.Popen:
    """One real Celery worker on the benchmark's queue, a thread pool of `concurrency`.

    It loads `worker_probe.py`, which counts SQL statements (WORKER_PROBE_FILE) and
    profiles tasks (WORKER_PROFILE_FILE) when those are set in `env_overrides`.
    """
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "partnerapp",
        "worker",
        "--pool=threads",
        f"--concurrency={concurrency}",
        "--loglevel=INFO",
        "-Q",
        os.environ["CELERY_TASK_DEFAULT_QUEUE"],
        "--include",
        "tests.benchmarks.worker_probe",
    ]
    # "ready." is celery's own line (a startup error may also say "ready"); no query log;
    # database connections kept between tasks, as docker/compose.yaml runs the worker
    # (the default 0 opens one per slice, a few items each)
    env_overrides.setdefault("DATABASE_CONN_MAX_AGE", os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
    return start(command, log, b"ready.", DEBUG="false", **env_overrides)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (gunicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for each in pids:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MB."""
    total = 0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def loop(connection, ids: list[int]) -> tuple[float, float]:
    """(a) one process, one call after another, nothing recorded: (invoices/s, CPU
    seconds of this process per invoice)."""
    from partnerapp.connections.services import api_config
    from partnerapp.smartbusiness.client import DocumentKind, Recipient, SmartBusinessClient

    client = SmartBusinessClient(api_config(), connection.access_token)
    started, cpu = time.perf_counter(), time.process_time()
    for invoice_id in ids:
        client.send_by_email(
            DocumentKind.INVOICE,
            invoice_id,
            **EMAIL,
            recipients=[Recipient(email="kunde@example.ch", name="Kunde")],
        )
    cpu = time.process_time() - cpu
    return len(ids) / (time.perf_counter() - started), cpu / len(ids)


class WorkerMeter:
    """The worker's CPU seconds and SQL statements (by kind), read when it is quiet."""

    def __init__(self, worker: subprocess.Popen, probe_file: Path) -> None:
        self.worker, self.probe_file = worker, probe_file

    def read(self) -> tuple[float, dict[str, int]]:
        self._wait_quiet()
        counts = json.loads(self.probe_file.read_text()) if self.probe_file.exists() else {}
        return cpu_seconds(self.worker.pid), counts.get("statements", {})

    def _wait_quiet(self, *, quiet: float = 0.5, limit: float = 15) -> None:
        """Until every task the worker started has ended and none ended for `quiet` s
        (chains of a finished job end within a moment of it)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.probe_file.exists():
                tasks = json.loads(self.probe_file.read_text())["tasks"]
                idle = time.time() - self.probe_file.stat().st_mtime
                if tasks["started"] == tasks["finished"] and idle >= quiet:
                    return
            time.sleep(0.1)


def run_job(user, connection, *, confirm_first: bool, meter: WorkerMeter | None = None) -> tuple:
    """A job over every draft of the account: (job, seconds, prepare seconds, readings).

    `readings`: the meter's (CPU, statements) before, once prepared and at the end.
    """
    from partnerapp.jobs import services
    from partnerapp.jobs.models import BatchJob

    readings = [meter.read()] if meter else []
    created = time.perf_counter()
    job = services.job_create(
        user=user,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"filter": {"status": "DR"}},
        parameters=EMAIL,
        auto_start=not confirm_first,
    )
    while not BatchJob.objects.get(pk=job.pk).prepared_at:
        time.sleep(0.05)
    prepare = time.perf_counter() - created
    job.refresh_from_db()
    started = created
    if confirm_first:
        readings += [meter.read()] if meter else []
        started = time.perf_counter()
        services.job_start(job=job)
    while not BatchJob.objects.get(pk=job.pk).is_finished:
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    readings += [meter.read()] if meter else []
    return job, seconds, prepare, readings


def statements_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    counts = {kind: after[kind] - before.get(kind, 0) for kind in after}
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: -kv[1]))


def calls_of(job) -> tuple[int, int, int]:
    """(all provider calls, list pages, 429s) the job made, from the request log."""
    from partnerapp.connections.models import RequestLogEntry

    calls = RequestLogEntry.objects.filter(job_id=job.pk)
    lists = calls.filter(method="GET", path="/receivables/invoices").count()
    return calls.count(), lists, calls.filter(status=429).count()


def double_sends(owner) -> int:
    from partnerapp.sandbox.services import outbox_summary

    sends = outbox_summary(owner_id=owner.pk)["sends_per_document"]
    return sum(1 for count in sends.values() if count > 1)


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def pipeline_run(
    number: int, user, owner, connection, meter: WorkerMeter, *, loop_sample: int
) -> dict:
    """(a) then (b) on one fresh account; prints them and returns the run's figures."""
    from partnerapp.jobs.models import JobItem

    sample = list(owner.invoices.order_by("-pk").values_list("pk", flat=True)[:loop_sample])
    loop_rate, loop_cpu = loop(connection, sample)
    print(f"run {number}")
    print(
        f"(a) sequential loop:        {loop_rate:8.1f} invoices/s  ({len(sample)} invoices, "
        f"{loop_cpu * 1000:.1f} ms CPU per invoice in the loop's process)"
    )
    job, seconds, prepare, readings = run_job(user, connection, confirm_first=True, meter=meter)
    (cpu_0, sql_0), (cpu_1, sql_1), (cpu_2, sql_2) = readings
    sent = job.items.filter(state=JobItem.State.SENT).count()
    calls, lists, too_many = calls_of(job)
    rate = sent / seconds
    sending = statements_between(sql_1, sql_2)
    figures = {
        "ratio": rate / loop_rate,
        "cpu_ms": (cpu_2 - cpu_0) / sent * 1000,
        "cpu_send_ms": (cpu_2 - cpu_1) / sent * 1000,
        "loop_cpu_ms": loop_cpu * 1000,
        "statements": sum(sending.values()) / sent,
        "prepare_statements": sum(statements_between(sql_0, sql_1).values()) / sent,
    }
    print(
        f"(b) job pipeline:           {rate:8.1f} invoices/s  ({sent} invoices, "
        f"prepared in {prepare:.1f} s)"
    )
    print(f"    ratio pipeline / loop:  {figures['ratio']:8.1f}x  (goal >= {RATIO_GOAL:g})")
    print(
        f"    API calls per invoice:  {(calls - lists) / sent:8.3f}  + {lists} list pages "
        f"(goal <= 1.01 + list pages)"
    )
    print(f"    429 answers:            {too_many:8d}")
    print(f"    double sends:           {double_sends(owner):8d}  (goal 0)")
    print(f"    worker peak RSS:        {peak_rss_mb(meter.worker.pid):8.1f} MB  (goal < 300)")
    print(
        f"    worker CPU per invoice: {figures['cpu_ms']:8.2f} ms  "
        f"({figures['cpu_send_ms']:.2f} ms sending, the rest preparing; the loop: "
        f"{figures['loop_cpu_ms']:.2f} ms)"
    )
    print(
        f"    SQL per invoice:        {figures['statements']:8.2f}  while sending "
        f"(+ {figures['prepare_statements']:.2f} preparing): "
        + ", ".join(f"{kind} {count / sent:.2f}" for kind, count in sending.items())
    )
    return figures


def summary(runs: list[dict]) -> None:
    """Each figure with its goal and met/missed, all runs side by side."""
    ratios = [run["ratio"] for run in runs]
    cpu = statistics.median(run["cpu_ms"] for run in runs)
    statements = statistics.median(run["statements"] for run in runs)
    loop_cpu = statistics.median(run["loop_cpu_ms"] for run in runs)
    print(f"summary of {len(runs)} consecutive runs (figure, goal, verdict):")
    print(
        "    ratio pipeline / loop:  "
        + "  ".join(f"{ratio:.1f}x" for ratio in ratios)
        + f"  (goal >= {RATIO_GOAL:g}x in each: {verdict(min(ratios) >= RATIO_GOAL)})"
    )
    print(
        "    worker CPU per invoice: "
        + "  ".join(f"{run['cpu_ms']:.2f}" for run in runs)
        + f" ms, median {cpu:.2f} (goal <= {CPU_GOAL_MS:g} ms: {verdict(cpu <= CPU_GOAL_MS)}; "
        f"the plain loop: {loop_cpu:.2f} ms)"
    )
    print(
        "    SQL per invoice:        "
        + "  ".join(f"{run['statements']:.2f}" for run in runs)
        + f", median {statements:.2f} while sending (goal <= {STATEMENTS_GOAL:g}: claim, "
        f"record, permit: {verdict(statements <= STATEMENTS_GOAL)})"
    )


def print_profile(path: Path, *, lines: int = 35) -> None:
    import pstats

    if not path.exists():
        print(f"no profile at {path}")
        return
    print(f"worker profile (thread CPU time, every task; {path}):")
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=2000, help="N, for the pipeline")
    parser.add_argument("--loop-sample", type=int, default=150, help="drafts for the loop")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--limited", type=int, default=600, help="drafts for the budget run")
    parser.add_argument("--runs", type=int, default=3, help="consecutive (a)+(b) runs")
    parser.add_argument("--profile", type=Path, help="profile the worker's tasks to this file")
    args = parser.parse_args()
    port = free_port()
    configure(port, args.concurrency)
    from django.contrib.auth import get_user_model
    from django.db import connection as db

    from partnerapp.jobs.models import JobItem
    from partnerapp.sandbox import faults

    owners = [
        seed(f"bulk-bench{n}@sandbox.example", args.invoices + args.loop_sample)
        for n in range(1, args.runs + 1)
    ]
    limited_owner = seed("budget-bench@sandbox.example", args.limited)
    register_client(port)
    faults.profile_update(
        owner=None,
        changes={"latency_ms": args.latency_ms, "rate_limit": 1_000_000, "rate_limit_period": 3600},
    )
    faults.profile_update(
        owner=limited_owner, changes={"rate_limit": BUDGET, "rate_limit_period": PERIOD}
    )
    user, _ = get_user_model().objects.get_or_create(username="bench", email="bench@example.com")
    var = Path(os.environ["PARTNERAPP_VAR_DIR"])
    probe_file = var / f"worker-probe-{uuid.uuid4().hex[:8]}.json"
    probes = {"WORKER_PROBE_FILE": str(probe_file)}
    if args.profile:
        args.profile.unlink(missing_ok=True)
        probes["WORKER_PROFILE_FILE"] = str(args.profile.resolve())
    children: list[subprocess.Popen] = []
    try:
        server = start_server(port, var / "server.log")
        children.append(server)
        worker = start_worker(args.concurrency, var / "worker.log", **probes)
        children.append(worker)
        connections = [connect(user, owner, port) for owner in owners]
        limited_connection = connect(user, limited_owner, port)
        meter = WorkerMeter(worker, probe_file)

        print(
            f"jobs benchmark on {db.vendor}: sandbox latency {args.latency_ms} ms, gunicorn "
            f"2x16 threads; worker: thread pool of {args.concurrency}, "
            f"{args.concurrency} work slots; {args.runs} runs of (a) and (b)"
        )
        runs = [
            pipeline_run(number, user, owner, connection, meter, loop_sample=args.loop_sample)
            for number, (owner, connection) in enumerate(zip(owners, connections, strict=True), 1)
        ]

        job, seconds, _prepare, _readings = run_job(user, limited_connection, confirm_first=False)
        sent = job.items.filter(state=JobItem.State.SENT).count()
        _calls, lists, too_many = calls_of(job)
        achieved = sent / seconds
        print(
            f"(c) budget {BUDGET}/{PERIOD} s run:  {achieved:8.2f} invoices/s = "
            f"{achieved / (BUDGET / PERIOD):.0%} of the budget ({sent} invoices and {lists} "
            f"list pages in {seconds:.1f} s; goal >= 90 %)"
        )
        print(
            f"    429 answers:            {too_many:8d}  (goal 0); "
            f"double sends: {double_sends(limited_owner)}"
        )
        summary(runs)
    finally:
        for process in reversed(children):
            os.killpg(process.pid, 15)
            process.wait(timeout=30)
        probe_file.unlink(missing_ok=True)
    if args.profile:
        print_profile(args.profile)


if __name__ == "__main__":
    main()

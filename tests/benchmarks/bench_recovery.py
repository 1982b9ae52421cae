"""Benchmark (`make bench`): how fast a job moves again after its worker is killed.

A script, not a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python tests/benchmarks/bench_recovery.py [--invoices 400]

It serves the app and its sandbox under gunicorn, connects an account through the real
consent flow, and starts celery beat and one real worker (a thread pool of
--concurrency, the connection's work slots set to the same, so the worker holds every
slot). A job over --invoices drafts runs until about half is sent; the worker is killed
with SIGKILL and a second one started. It prints:

- the seconds from the kill to the next sent item (goal < 30 s): the dead worker's
  slots must run out and the sweeper must restart the job;
- `job_run` tasks per item over the whole job, both workers (goal <= 1.1): waiting
  for a slot costs one scheduled task per wait, a stall one new chain;
- double sends (goal 0).

Side by side, in the same run, the baseline: the same code with the timings before
heartbeat leases (a 185 s lease — JOB_SLICE_SECONDS + 2 x READ_TIMEOUT + 120 — and the
old sweeper, which took a job for stalled after 120 s of silence and looked every 60 s).
The baseline does not bring back the old busy re-enqueueing; its task count shows only
what the timings cost.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_jobs import (
    EMAIL,
    configure,
    connect,
    double_sends,
    free_port,
    register_client,
    seed,
    start,
    start_server,
)

RECOVERY_GOAL, TASKS_GOAL = 30.0, 1.1
BASELINE = {
    "JOB_SLOT_LEASE_SECONDS": "185",
    "JOB_STALLED_SECONDS": "120",
    "JOB_STALLED_CHECK_INTERVAL": "60",
}
WAIT = 900  # seconds: a generous bound for any one phase, not a measurement


def start_worker(concurrency: int, log: Path):
    """One real worker on the benchmark's queue (as bench_jobs.start_worker), ready once it
    says "ready." — a startup error that mentions "ready" is not a ready worker."""
    command = [sys.executable, "-m", "celery", "-A", "partnerapp", "worker", "--pool=threads"]
    queue = os.environ["CELERY_TASK_DEFAULT_QUEUE"]
    command += [f"--concurrency={concurrency}", "--loglevel=INFO", "-Q", queue]
    return start(command, log, b"ready.", DEBUG="false")


def start_beat(log: Path, **env) -> object:
    schedule = log.with_suffix(".schedule")
    for leftover in log.parent.glob(f"{schedule.name}*"):  # a shelve's .dat/.dir/.bak too
        leftover.unlink()
    command = [sys.executable, "-m", "celery", "-A", "partnerapp", "beat", "-s", str(schedule)]
    return start([*command, "--loglevel=INFO"], log, b"beat: Starting", DEBUG="false", **env)


@contextmanager
def environment(env: dict):
    """This variant's settings for the processes started inside."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def wait_until(predicate, what: str, *, alive=()):
    """Poll `predicate`; give up after WAIT, or at once when a process in `alive` exited."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in alive):
            raise SystemExit(f"a worker or beat exited while waiting for {what}")
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"gave up waiting for {what}")


def job_run_tasks(*logs: Path) -> int:
    """Tasks received: a task's id is logged when received and again when it finished."""
    received = re.compile(rb"Task partnerapp\.jobs\.tasks\.job_run\[[0-9a-f-]+\] received")
    return sum(len(received.findall(log.read_bytes())) for log in logs)


def kill(process) -> None:
    os.killpg(process.pid, 9)
    process.wait()


def stop(process) -> None:
    os.killpg(process.pid, 15)
    process.wait(timeout=60)


def run_variant(name: str, env: dict, *, user, owner, port: int, concurrency: int) -> dict:
    """One kill-and-recover run: {"recovery": s, "tasks_per_item": n, "double_sends": n}."""
    from partnerapp.celery import app

    app.control.purge()
    var = Path(os.environ["PARTNERAPP_VAR_DIR"]) / name
    var.mkdir(exist_ok=True)
    logs = [var / "worker-1.log", var / "worker-2.log"]
    for log in logs:
        log.unlink(missing_ok=True)  # tasks are counted in these
    processes = []
    try:
        context = {"user": user, "owner": owner, "port": port, "concurrency": concurrency}
        return _kill_and_recover(env, logs, processes, var=var, **context)
    finally:
        for process in processes:
            if process.poll() is None:
                stop(process)


def _kill_and_recover(env, logs, processes, *, var, user, owner, port, concurrency) -> dict:
    from django.utils import timezone

    from partnerapp.jobs import services
    from partnerapp.jobs.models import JobItem

    with environment(env):
        beat = start_beat(var / "beat.log")
        processes.append(beat)
        first = start_worker(concurrency, logs[0])
        processes.append(first)
    job = services.job_create(
        user=user,
        connection=connect(user, owner, port),
        action="invoice.send_by_email",
        selection_spec={"filter": {"status": "DR"}},
        parameters=EMAIL,
        auto_start=True,
    )
    items = JobItem.objects.filter(job=job)
    sent = items.filter(state=JobItem.State.SENT)

    def half_sent():
        return items.exists() and sent.count() >= items.count() // 2

    wait_until(half_sent, "half sent", alive=(beat, first))
    kill(first)
    killed_at, sent_before = timezone.now(), sent.count()
    with environment(env):
        second = start_worker(concurrency, logs[1])
        processes.append(second)
    wait_until(lambda: sent.count() > sent_before, "the next sent item", alive=(beat, second))
    after = sent.filter(finished_at__gt=killed_at).order_by("finished_at").first()
    recovery = (after.finished_at - killed_at).total_seconds()
    # The dead worker's `sending` items wait for the sweeper's reconcile (minutes); the
    # rest of the job is done once nothing is pending any more.
    pending = items.filter(state=JobItem.State.PENDING)
    wait_until(lambda: not pending.exists(), "no pending", alive=(beat, second))
    tasks = job_run_tasks(*logs)
    return {
        "items": items.count(),
        "recovery": recovery,
        "tasks_per_item": tasks / items.count(),
        "tasks": tasks,
        "double_sends": double_sends(owner),
    }


def verdict(value: float, goal: float) -> str:
    return "met" if value <= goal else "missed"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=400)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    port = free_port()
    configure(port, args.concurrency)
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from partnerapp.sandbox import faults

    owners = {
        "heartbeat leases": seed("recovery-bench@sandbox.example", args.invoices),
        "baseline": seed("recovery-base@sandbox.example", args.invoices),
    }
    register_client(port)
    faults.profile_update(
        owner=None,
        changes={"latency_ms": args.latency_ms, "rate_limit": 1_000_000, "rate_limit_period": 3600},
    )
    user, _ = get_user_model().objects.get_or_create(username="bench", email="bench@example.com")
    var = Path(os.environ["PARTNERAPP_VAR_DIR"])
    server = start_server(port, var / "server.log")
    try:
        print(
            f"recovery benchmark: {args.invoices} drafts, sandbox latency {args.latency_ms} ms, "
            f"worker thread pool of {args.concurrency} = the account's work slots; kill -9 at "
            f"~50 %, then a second worker"
        )
        print(
            f"heartbeat leases: renewed every {settings.JOB_SLOT_RENEW_SECONDS:g} s, lease "
            f"{settings.JOB_SLOT_LEASE_SECONDS:g} s; stalled after "
            f"{settings.JOB_STALLED_SECONDS:g} s of silence, looked for every "
            f"{settings.JOB_STALLED_CHECK_INTERVAL:g} s"
        )
        print("baseline: lease 185 s (the old length), stalled after 120 s, looked for every 60 s")
        results = {}
        for name, owner in owners.items():
            env = {} if name != "baseline" else BASELINE
            results[name] = run_variant(
                name.split()[0],
                env,
                user=user,
                owner=owner,
                port=port,
                concurrency=args.concurrency,
            )
        new, old = results["heartbeat leases"], results["baseline"]
        print(f"{'':34}{'heartbeat leases':>18}{'baseline':>12}{'ratio':>9}")
        print(
            f"{'seconds from kill to next sent':34}{new['recovery']:18.1f}{old['recovery']:12.1f}"
            f"{old['recovery'] / new['recovery']:8.1f}x  goal < {RECOVERY_GOAL:g} s: "
            f"{verdict(new['recovery'], RECOVERY_GOAL)}"
        )
        print(
            f"{'job_run tasks per item':34}{new['tasks_per_item']:18.3f}"
            f"{old['tasks_per_item']:12.3f}"
            f"{old['tasks_per_item'] / new['tasks_per_item']:8.1f}x  goal <= {TASKS_GOAL:g}: "
            f"{verdict(new['tasks_per_item'], TASKS_GOAL)}"
        )
        print(
            f"{'  (job_run tasks / items)':34}{new['tasks']:>12d} / {new['items']:<3d}"
            f"{old['tasks']:>6d} / {old['items']:<3d}"
        )
        print(
            f"{'double sends':34}{new['double_sends']:18d}{old['double_sends']:12d}"
            f"{'':9}  goal 0: {verdict(new['double_sends'] + old['double_sends'], 0)}"
        )
    finally:
        stop(server)


if __name__ == "__main__":
    main()

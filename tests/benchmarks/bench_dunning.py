"""Benchmark (`make bench`): a dunning run (Mahnlauf) over 2,000 overdue invoices under a
small rate budget, beside the classic send-by-email job over the same invoices.

A script, not a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python tests/benchmarks/bench_dunning.py [--invoices 2000] \\
        [--budget 600 --period 20] [--latency-ms 20]

It serves the app and its sandbox under gunicorn (`manage.py sandbox_serve`), seeds one
owner whose invoices are all sent and 40 days overdue, gives that owner a sandbox rate
budget of --budget calls per --period seconds (the per-account limit knob, so both runs
are bound by the budget, not by the machine), connects it through the real consent flow
and starts one real Celery worker. Then, one after the other in the same run:

(a) baseline: the send-by-email job ("resend") over every invoice — 1 call each;
(b) the reminder run ("invoice.send_reminders") over the same invoices — change-status
    to R1, then the reminder by email: 2 calls each.

For each it prints the provider calls per invoice (from the app's request log, list
pages apart; goal 2.00 for the run), the achieved call rate as a share of the budget
(goal >= 95 %), invoices per second, 429 answers, and the ratio run / baseline. The
budget is a fixed window that the sandbox opens at the first call after the last one
ended; the rate over the full windows is the steady state, the whole-run rate also
counts the last, partly used window. At the end it checks the sandbox: every invoice
at R1 and emailed one reminder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_jobs import (  # noqa: E402 - ROOT must be importable first
    EMAIL,
    configure,
    connect,
    free_port,
    peak_rss_mb,
    register_client,
    seed,
    start_server,
    start_worker,
)

GOAL_SHARE = 0.95


@dataclass(frozen=True)
class Run:
    """What one job did, from its items and the app's request log."""

    done: int  # invoices acted on (items sent)
    calls: int  # every provider call of the job, list pages included
    lists: int  # list pages read while preparing
    too_many: int  # 429 answers
    seconds: float  # from the job's confirm to its end
    span: float  # from the job's first call to its last
    full_windows: int  # rate windows the job filled and saw end
    full_window_calls: int  # calls made in those windows
    full_window_seconds: float  # from the first call to the start of the last window

    @property
    def per_invoice(self) -> float:
        return (self.calls - self.lists) / self.done

    def steady_share(self, budget: int, period: int) -> float:
        """Calls per second over the full windows, as a share of the budget's rate."""
        if not self.full_window_seconds:
            return float("nan")
        return self.full_window_calls / self.full_window_seconds / (budget / period)

    def whole_share(self, budget: int, period: int) -> float:
        """Calls per second from the first call to the last, as a share of the budget."""
        return self.calls / self.span / (budget / period)


def overdue_everything(owner) -> int:
    """Every invoice of the owner sent, open and 40 days past due: due for the 1st reminder."""
    from django.utils import timezone

    overdue = timezone.localdate() - timedelta(days=40)
    return owner.invoices.update(status="S", due=overdue, total_paid=0)


def run_job(user, connection, *, action: str, selection: dict, parameters: dict):
    """Create and prepare a job, then confirm it and wait for its end: (job, seconds)."""
    from partnerapp.jobs import services
    from partnerapp.jobs.models import BatchJob

    job = services.job_create(
        user=user,
        connection=connection,
        action=action,
        selection_spec=selection,
        parameters=parameters,
    )
    while not BatchJob.objects.get(pk=job.pk).prepared_at:
        time.sleep(0.05)
    job.refresh_from_db()
    started = time.perf_counter()
    services.job_start(job=job)
    while not BatchJob.objects.get(pk=job.pk).is_finished:
        time.sleep(0.05)
    return job, time.perf_counter() - started


def measure(job, seconds: float, *, period: int) -> Run:
    from partnerapp.connections.models import RequestLogEntry
    from partnerapp.jobs.models import JobItem

    calls = RequestLogEntry.objects.filter(job_id=job.pk)
    sent_at = sorted(  # the log is written after the answer: its send is `duration` earlier
        (created - timedelta(milliseconds=duration)).timestamp()
        for created, duration in calls.values_list("created_at", "duration_ms")
    )
    windows = window_starts(sent_at, period=period)
    last_start = windows[-1]
    return Run(
        done=job.items.filter(state=JobItem.State.SENT).count(),
        calls=len(sent_at),
        lists=calls.filter(method="GET", path="/receivables/invoices").count(),
        too_many=calls.filter(status=429).count(),
        seconds=seconds,
        span=sent_at[-1] - sent_at[0],
        full_windows=len(windows) - 1,
        full_window_calls=sum(1 for moment in sent_at if moment < last_start),
        full_window_seconds=last_start - sent_at[0],
    )


def window_starts(sent_at: list[float], *, period: int) -> list[float]:
    """The provider's fixed windows as it opens them: at the first call at or after the
    end of the previous one (`ratelimit.take_permit`)."""
    starts = [sent_at[0]]
    for moment in sent_at:
        if moment >= starts[-1] + period:
            starts.append(moment)
    return starts


def reminders_per_invoice(owner) -> Counter:
    """Emails in the sandbox's outbox that are a 1st reminder (its shipped subject, in
    any language, up to the first placeholder), per invoice."""
    from partnerapp.jobs.operations.texts import shipped_texts
    from partnerapp.sandbox.services import outbox_summary

    starts = tuple(text["subject"].split("{")[0] for text in shipped_texts("R1").values())
    return Counter(
        email["document_id"]
        for email in outbox_summary(owner_id=owner.pk)["items"]
        if email["subject"].startswith(starts)
    )


def report(baseline: Run, dunning: Run, *, budget: int, period: int) -> None:
    def row(label: str, left: str, right: str, note: str = "") -> None:
        print(f"    {label:<30}{left:>16}{right:>16}  {note}")

    print(f"    {'':<30}{'(a) send-by-email':>16}{'(b) reminders':>16}  ratio (b)/(a), goal")
    row("invoices done", f"{baseline.done}", f"{dunning.done}")
    row(
        "provider calls per invoice",
        f"{baseline.per_invoice:.3f}",
        f"{dunning.per_invoice:.3f}",
        f"{dunning.per_invoice / baseline.per_invoice:.2f}x  (goal 2.00 + list pages)",
    )
    row("list pages", f"{baseline.lists}", f"{dunning.lists}")
    for label, share in (
        ("call rate, full windows", Run.steady_share),
        ("call rate, whole run", Run.whole_share),
    ):
        left, right = share(baseline, budget, period), share(dunning, budget, period)
        row(label, f"{left:.1%}", f"{right:.1%}", f"of the budget  (goal >= {GOAL_SHARE:.0%})")
    row("full windows", f"{baseline.full_windows}", f"{dunning.full_windows}")
    left, right = baseline.done / baseline.seconds, dunning.done / dunning.seconds
    row("invoices per second", f"{left:.2f}", f"{right:.2f}", f"{right / left:.2f}x")
    row("duration", f"{baseline.seconds:.1f} s", f"{dunning.seconds:.1f} s")
    row("429 answers", f"{baseline.too_many}", f"{dunning.too_many}", "(goal 0)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--budget", type=int, default=600, help="calls per period")
    parser.add_argument("--period", type=int, default=20, help="seconds of a rate window")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    port = free_port()
    configure(port, args.concurrency)
    from django.contrib.auth import get_user_model
    from django.db import connection as db

    from partnerapp.sandbox import faults
    from partnerapp.sandbox.models import Invoice

    owner = seed("dunning-bench@sandbox.example", args.invoices)
    overdue_everything(owner)
    register_client(port)
    faults.profile_update(
        owner=None,
        changes={"latency_ms": args.latency_ms, "rate_limit": 1_000_000, "rate_limit_period": 3600},
    )
    faults.profile_update(
        owner=owner, changes={"rate_limit": args.budget, "rate_limit_period": args.period}
    )
    user, _ = get_user_model().objects.get_or_create(username="bench", email="bench@example.com")
    var = Path(os.environ["PARTNERAPP_VAR_DIR"])
    children: list[subprocess.Popen] = []
    try:
        children.append(start_server(port, var / f"dunning-server-{port}.log"))
        worker = start_worker(args.concurrency, var / f"dunning-worker-{port}.log")
        children.append(worker)
        connection = connect(user, owner, port)
        print(
            f"dunning benchmark on {db.vendor}: {args.invoices} overdue invoices, sandbox "
            f"latency {args.latency_ms} ms, budget {args.budget} calls per {args.period} s "
            f"({args.budget / args.period:.1f} calls/s); worker: thread pool of "
            f"{args.concurrency}, {args.concurrency} work slots"
        )
        time.sleep(args.period)  # the consent flow's calls leave the first window to us
        job, seconds = run_job(
            user,
            connection,
            action="invoice.send_by_email",
            selection={"filter": {"status": "S"}},
            parameters={**EMAIL, "resend": True},
        )
        baseline = measure(job, seconds, period=args.period)
        time.sleep(args.period)  # the reminder run starts in a window of its own
        job, seconds = run_job(
            user,
            connection,
            action="invoice.send_reminders",
            selection={"filter": {}},
            parameters={},
        )
        dunning = measure(job, seconds, period=args.period)
        report(baseline, dunning, budget=args.budget, period=args.period)

        reminded = reminders_per_invoice(owner)
        statuses = Counter(Invoice.objects.filter(owner=owner).values_list("status", flat=True))
        twice = sum(1 for count in reminded.values() if count > 1)
        print(
            f"    sandbox after the run: statuses {dict(statuses)}; {len(reminded)} invoices "
            f"emailed a reminder, {twice} of them twice (goal 0); worker peak RSS "
            f"{peak_rss_mb(worker.pid):.0f} MB"
        )
    finally:
        for process in reversed(children):
            os.killpg(process.pid, 15)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()

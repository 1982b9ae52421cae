"""Benchmark (`make bench`): recording payments from a bank file, end to end, on a real worker.

A script, not a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python tests/benchmarks/bench_payments.py [--invoices 2000] [--lost 0.05]

It serves the app and its sandbox under gunicorn (`manage.py sandbox_serve`), seeds one
owner whose invoices are all open, connects it through the real consent flow and starts
one real Celery worker. Then, twice, side by side in one run — (a) a clean provider,
(b) one whose answers to --lost of the writes are lost after it acted (a 504):

1. the sandbox writes a camt.054 paying 80 % of the open invoices in full, 10 % in part,
   plus 5 % entries that match nothing (`sandbox_bank_file`);
2. partnerapp receives it (parse + keep the transactions), matches it (one read of the
   open invoices, 200 per call), and a person's confirm of every ready payment makes the
   payment job, which the worker runs.

Printed per run: seconds to receive and to match, provider calls per recorded payment
(goal 1.00 + reconciles: one POST each, plus one payments list per unclear answer), the
reconcile reads, payments/s, and what the sandbox holds afterwards — every invoice's
payments, and any bank reference recorded twice (goal 0). Then the invoices are reset
for (b), which uploads a new file of an earlier day.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_jobs import (  # noqa: E402 - ROOT must be importable first
    configure,
    connect,
    free_port,
    peak_rss_mb,
    register_client,
    seed,
    start_server,
    start_worker,
)


@dataclass(frozen=True)
class Run:
    entries: int
    receive_seconds: float
    match_seconds: float
    invoices_read: int
    recorded: int
    posts: int
    reconciles: int
    calls: int
    job_seconds: float
    duplicates: int
    statuses: dict

    @property
    def per_payment(self) -> float:
        return self.calls / self.recorded if self.recorded else float("nan")


def open_everything(owner) -> None:
    from partnerapp.sandbox.models import Payment

    Payment.objects.filter(invoice__owner=owner).delete()
    owner.invoices.update(status="S", total_paid=0, paid_date=None, currency="CHF")


def one_run(user, connection, owner, *, invoices: int, day, lost: float) -> Run:
    from django.core.management import call_command

    from partnerapp.connections.models import RequestLogEntry
    from partnerapp.jobs.models import BatchJob, JobItem
    from partnerapp.receivables import services as receivables
    from partnerapp.sandbox import faults

    path = Path(tempfile.mkdtemp(prefix="bench-payments-")) / "camt054.xml"
    paid, partial, unknown = invoices * 8 // 10, invoices // 10, invoices // 20
    call_command(
        "sandbox_bank_file",
        owner=owner.email,
        paid=paid,
        partial=partial,
        unknown=unknown,
        date=day,
        output=str(path),
    )
    data = path.read_bytes()
    started = time.perf_counter()
    upload = receivables.upload_receive(
        user=user, connection=connection, data=data, filename=path.name
    )
    received = time.perf_counter() - started
    started = time.perf_counter()
    receivables.upload_match(upload_id=upload.pk)  # here, to time it alone
    matched = time.perf_counter() - started
    upload.refresh_from_db()
    review = receivables.review(upload)
    picks = {row.transaction.pk: row.invoice["id"] for row in review.ready}
    if lost:
        faults.profile_update(owner=owner, changes={"p_lost": lost, "lost_mode": "504"})
    started = time.perf_counter()
    job = receivables.payments_confirm(upload=upload, user=user, picks=picks)
    while not BatchJob.objects.get(pk=job.pk).is_finished:
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    faults.profile_update(owner=owner, changes={"p_lost": 0})
    calls = RequestLogEntry.objects.filter(job_id=job.pk)
    return Run(
        entries=paid + partial + unknown,
        receive_seconds=received,
        match_seconds=matched,
        invoices_read=upload.invoices_read,
        recorded=job.items.filter(state=JobItem.State.SENT).count(),
        posts=calls.filter(method="POST").count(),
        reconciles=calls.filter(method="GET").count(),
        calls=calls.count(),
        job_seconds=seconds,
        duplicates=duplicates(owner),
        statuses=dict(Counter(job.items.values_list("state", flat=True))),
    )


def duplicates(owner) -> int:
    """Bank references recorded more than once on one invoice (the notes start with it)."""
    from partnerapp.sandbox.models import Payment

    notes = Payment.objects.filter(invoice__owner=owner).values_list("invoice_id", "notes")
    counts = Counter((invoice, text.split("]")[0]) for invoice, text in notes)
    return sum(1 for count in counts.values() if count > 1)


def states(run: Run) -> str:
    return ", ".join(f"{state} {count}" for state, count in sorted(run.statuses.items()))


def report(clean: Run, lossy: Run, *, lost: float) -> None:
    def row(label: str, left: str, right: str, note: str = "") -> None:
        print(f"    {label:<34}{left:>14}{right:>16}  {note}")

    print(f"    {'':<34}{'(a) clean':>14}{f'(b) {lost:.0%} lost':>16}  ratio (b)/(a), goal")
    row("bank entries in the file", f"{clean.entries}", f"{lossy.entries}")
    row("receive (parse + keep), s", f"{clean.receive_seconds:.2f}", f"{lossy.receive_seconds:.2f}")
    row(
        "match (read open invoices), s",
        f"{clean.match_seconds:.2f}",
        f"{lossy.match_seconds:.2f}",
        f"{clean.invoices_read} invoices read, 200 per call",
    )
    row("payments recorded", f"{clean.recorded}", f"{lossy.recorded}")
    row(
        "provider calls per payment",
        f"{clean.per_payment:.3f}",
        f"{lossy.per_payment:.3f}",
        f"{lossy.per_payment / clean.per_payment:.2f}x  (goal 1.00 + reconciles)",
    )
    row("POSTs", f"{clean.posts}", f"{lossy.posts}", "(one per payment)")
    row("reconcile reads", f"{clean.reconciles}", f"{lossy.reconciles}")
    left = clean.recorded / clean.job_seconds
    right = lossy.recorded / lossy.job_seconds
    row("payments per second", f"{left:.1f}", f"{right:.1f}", f"{right / left:.2f}x")
    row("items by state", states(clean), states(lossy))
    row("recorded twice (sandbox)", f"{clean.duplicates}", f"{lossy.duplicates}", "(goal 0)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--lost", type=float, default=0.05, help="share of lost write answers")
    parser.add_argument("--latency-ms", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    port = free_port()
    configure(port, args.concurrency)
    from django.contrib.auth import get_user_model
    from django.db import connection as db
    from django.utils import timezone

    from partnerapp.sandbox import faults

    owner = seed("payments-bench@sandbox.example", args.invoices)
    open_everything(owner)
    register_client(port)
    faults.profile_update(
        owner=None,
        changes={"latency_ms": args.latency_ms, "rate_limit": 1_000_000, "rate_limit_period": 3600},
    )
    user, _ = get_user_model().objects.get_or_create(username="bench", email="bench@example.com")
    var = Path(os.environ["PARTNERAPP_VAR_DIR"])
    children: list[subprocess.Popen] = []
    try:
        children.append(start_server(port, var / f"payments-server-{port}.log"))
        worker = start_worker(args.concurrency, var / f"payments-worker-{port}.log")
        children.append(worker)
        connection = connect(user, owner, port)
        print(
            f"payments benchmark on {db.vendor}: {args.invoices} open invoices, sandbox latency "
            f"{args.latency_ms} ms; worker: thread pool of {args.concurrency}"
        )
        today = timezone.localdate()
        clean = one_run(user, connection, owner, invoices=args.invoices, day=today, lost=0)
        open_everything(owner)
        lossy = one_run(
            user,
            connection,
            owner,
            invoices=args.invoices,
            day=today - timedelta(days=5),  # other bank ids; never in the future
            lost=args.lost,
        )
        report(clean, lossy, lost=args.lost)
        print(f"    worker peak RSS {peak_rss_mb(worker.pid):.0f} MB")
    finally:
        for process in reversed(children):
            os.killpg(process.pid, 15)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()

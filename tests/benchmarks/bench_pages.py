"""Benchmark: server time of the dashboard pages with 100,000 items in one job.

A script, not a test (pytest collects test_*.py only):

    .venv/bin/python tests/benchmarks/bench_pages.py [--items 100000] [--requests 50]

Seeds (bulk_create) one user with 50 connections and 1,000 jobs, one of which holds
100,000 items in mixed states, into a fresh database of its own (SQLite in a temporary
folder, or `<name>_benchpages` next to the PostgreSQL database of DATABASE_URL), then
times each page in-process with django.test.Client (time.perf_counter around
client.get, so: server time without the network) and prints p50/p95 per page, side by
side with a baseline: the same page for a small account (one connection, one job of
1,000 items). The goal (issue 6, part 8): p95 < 200 ms for every page on the big data.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOAL_MS = 200.0
STATES = [  # (state, share): a job well under way
    ("sent", 0.70),
    ("pending", 0.12),
    ("sending", 0.01),
    ("failed", 0.06),
    ("skipped", 0.08),
    ("uncertain", 0.03),
]


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("PARTNERAPP_VAR_DIR", tempfile.mkdtemp(prefix="bench-pages-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # this process prints figures, not logs
    os.environ["DEBUG"] = "False"  # DEBUG keeps every query in memory: not what production does
    os.environ["DJANGO_SETTINGS_MODULE"] = "partnerapp.settings"
    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, a fast password hasher is not needed
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        name = os.path.join(os.environ["PARTNERAPP_VAR_DIR"], "bench.db")
    else:
        name = f"{settings['NAME']}_benchpages"
    settings["TEST"] = {**settings.get("TEST", {}), "NAME": name}
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def teardown(name: str) -> None:
    from django.db import connection

    connection.creation.destroy_test_db(name, verbosity=0)


def seed_account(email: str, *, connections: int, jobs: int, big_items: int, small_items: int):
    """A user, connections, jobs (each with `small_items` items) and one job of `big_items`."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from partnerapp.connections.models import Connection, RateWindow
    from partnerapp.jobs.models import BatchJob
    from partnerapp.organizations.current import personal_organization

    user = get_user_model().objects.create_user(email=email, username=email, password="x")
    organization = personal_organization(user)
    now = timezone.now()
    rng = random.Random(email)
    conns = Connection.objects.bulk_create(
        Connection(
            organization=organization,
            user=user,
            base_url="http://127.0.0.1:9/sandbox/v2",
            account_id=str(n),
            owner_name=f"Kunde {n} AG",
            scopes="profile invoice contact",
            health_checked_at=now,
        )
        for n in range(connections)
    )
    RateWindow.objects.bulk_create(
        RateWindow(
            connection=connection,
            limit=500,
            remaining=rng.randint(0, 500),
            reset_at=now + timedelta(seconds=30),
        )
        for connection in conns
    )
    statuses = ["done"] * 6 + ["running", "paused", "cancelled", "failed"]
    all_jobs = BatchJob.objects.bulk_create(
        BatchJob(
            organization=organization,
            user=user,
            connection=conns[n % len(conns)],
            action="invoice.send_by_email",
            status="running" if n == 0 else rng.choice(statuses),
            parameters={"subject": "Rechnung {INVOICENO}", "body": "{SALUTATION}\n\nDanke."},
            selection={"filter": {"status": "DR"}},
            created_at=now - timedelta(minutes=n),  # n == 0: the newest, the big one
            prepared_at=now - timedelta(minutes=n),
            started_at=now - timedelta(minutes=n, seconds=-5),
        )
        for n in range(jobs)
    )
    big = all_jobs[0]
    seed_items(big, big_items, rng, now)
    for job in all_jobs[1:]:
        seed_items(job, small_items, rng, now)
    return user, big


def seed_items(job, count: int, rng: random.Random, now) -> None:
    from partnerapp.jobs.models import JobItem

    states = [state for state, _share in STATES]
    weights = [share for _state, share in STATES]
    batch = []
    for n in range(count):
        state = rng.choices(states, weights)[0]
        done = state in {"sent", "failed", "skipped", "uncertain"}
        number = f"RE-{job.pk:04d}-{n:06d}"
        item = JobItem(
            job=job,
            document_id=n + 1,
            document_number=number,
            document_status="DR",
            contact_name=f"Firma {n % 5000}",
            recipient_email=f"buchhaltung{n % 5000}@firma{n % 5000}.example.ch",
            recipient_name=f"Firma {n % 5000} AG",
            snapshot={"number": number, "total": "120.00", "currency": "CHF"},
            state=state,
            attempts=1 if done else 0,
            request_id=f"req-{job.pk}-{n}" if done else "",
            finished_at=now - timedelta(seconds=rng.randint(0, 3600)) if done else None,
        )
        if state == "failed":
            item.error_status, item.outcome = 422, "SmartBusiness refused it."
            item.error_detail = {
                "code": "validation_failed",
                "message": "Invalid",
                "meta": {"errors": [{"key": "recipients.0.email", "message": "Invalid address"}]},
            }
        batch.append(item)
        if len(batch) == 5000:
            JobItem.objects.bulk_create(batch)
            batch = []
    JobItem.objects.bulk_create(batch)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def pages(job) -> list[tuple[str, str]]:
    """(name, url) of every page measured, for this job."""
    from partnerapp.jobs.models import JobItem

    last_pks = list(job.items.order_by("-pk").values_list("pk", flat=True)[:120])
    deep_after = last_pks[-1]  # the next-to-last page or so: deep, by id
    number = job.items.order_by("pk").values_list("document_number", flat=True)[
        job.items.count() // 2
    ]
    failed_tail = job.items.filter(state=JobItem.State.FAILED).order_by("-pk")
    failed_after = list(failed_tail.values_list("pk", flat=True)[:61])[-1]
    base = f"/jobs/{job.pk}/"
    return [
        ("overview", "/"),
        ("jobs list", "/jobs/"),
        ("jobs list, page 20", "/jobs/?page=20"),
        ("job page", base),
        ("progress fragment (poll)", f"{base}progress/?seen=0&idle=0&status=running"),
        ("items, state=failed", f"{base}items/?state=failed"),
        ("items, state=failed, deep", f"{base}items/?state=failed&after={failed_after}"),
        ("items, search number", f"{base}items/?q={number}"),
        ("items, search recipient", f"{base}items/?q=firma4711.example"),
        ("items, search name", f"{base}items/?q=Firma%204711"),
        ("items, deep page (after id)", f"{base}items/?after={deep_after}"),
        ("items, last page", f"{base}items/?last=1"),
        ("job page, failed + search", f"{base}?state=failed&q=buchhaltung12"),
    ]


def measure(client, url: str, requests: int) -> list[float]:
    for _warm in range(3):
        assert client.get(url).status_code == 200, url
    times = []
    for _n in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]


def naive_deep_page(job) -> float:
    """What the items table cost before: COUNT(*) plus OFFSET for the last page."""
    from django.core.paginator import Paginator

    started = time.perf_counter()
    paginator = Paginator(job.items.order_by("pk"), 50)
    list(paginator.page(paginator.num_pages))
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=1_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--items-per-job", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the database to inspect")
    args = parser.parse_args()

    setup_django()
    from django.db import connection
    from django.test import Client

    database = connection.settings_dict["NAME"]
    try:
        started = time.perf_counter()
        big_user, big_job = seed_account(
            "big@bench.example",
            connections=args.connections,
            jobs=args.jobs,
            big_items=args.items,
            small_items=args.items_per_job,
        )
        small_user, small_job = seed_account(
            "small@bench.example", connections=1, jobs=1, big_items=1_000, small_items=0
        )
        analyze()
        seeded = time.perf_counter() - started
        print(
            f"{connection.vendor}: seeded {args.connections} connections, {args.jobs} jobs, "
            f"{big_job.items.count():,} items in job #{big_job.pk} "
            f"(+ {args.items_per_job} per other job) in {seeded:.1f} s; "
            f"{args.requests} requests per page, after 3 warm-up requests"
        )
        big, small = Client(), Client()
        big.force_login(big_user)
        small.force_login(small_user)
        header = (
            f"{'page':<30} {'p50 ms':>8} {'p95 ms':>8}   "
            f"{'base p50':>8} {'base p95':>8} {'p95 ratio':>9}  goal"
        )
        print(header)
        print("-" * len(header))
        failures = 0
        for (name, url), (_same, small_url) in zip(pages(big_job), pages(small_job), strict=True):
            times = measure(big, url, args.requests)
            baseline = measure(small, small_url, args.requests)
            ok = p95(times) < GOAL_MS
            failures += not ok
            print(
                f"{name:<30} {statistics.median(times):8.1f} {p95(times):8.1f}   "
                f"{statistics.median(baseline):8.1f} {p95(baseline):8.1f} "
                f"{p95(times) / p95(baseline):8.1f}x  {'ok' if ok else 'SLOW'}"
            )
        naive = sorted(naive_deep_page(big_job) for _n in range(5))[2]
        print(
            f"baseline: small account (1 connection, 1 job of 1,000 items). For comparison, the "
            f"naive last page (COUNT(*) + OFFSET) of the big job: {naive:.1f} ms (median of 5), "
            f"query time only."
        )
        print(f"goal p95 < {GOAL_MS:.0f} ms: {'met' if not failures else f'{failures} SLOW'}")
    finally:
        connection.close()
        if not args.keep:
            teardown(database)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

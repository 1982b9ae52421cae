"""Benchmark: server time of every dashboard page and API list with 1,000,000 items in a job.

A script, not a test (pytest collects test_*.py only); PostgreSQL only:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python tests/benchmarks/bench_pages.py [--items 1000000] [--requests 50]

Seeds one user with 1,000 connections and 10,000 jobs (20 items each), the newest of
which holds 1,000,000 items in mixed states (INSERT … SELECT generate_series), a
provider call in the request log per finished item, schedules and an audit event per
job, into a fresh database `<name>_benchpages` next to DATABASE_URL's. Then it times
each page in-process with django.test.Client (time.perf_counter around client.get, so:
server time without the network; of the CSV export the first chunk) and prints
p50/p95 per page, side by side with a baseline: the same page for a small account (one
connection, one job of 1,000 items). Goal (issue 14, part 6): p95 < 150 ms for every
page on the big account. --keep keeps the database, --reuse measures it again without
seeding, --only measures the pages whose name contains a word.
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
GOAL_MS = 150.0
SCHEDULES = 50  # per account (at most one per connection)


def setup_django(*, reuse: bool = False) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("PARTNERAPP_VAR_DIR", tempfile.mkdtemp(prefix="bench-pages-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # this process prints figures, not logs
    os.environ["DEBUG"] = "False"  # DEBUG keeps every query in memory: not what production does
    # Each API list is asked for 2 x 53 times in a minute or so with one key: what is
    # measured is the server's time, not the per-key limit (a 429 would stop the run).
    os.environ.setdefault("API_RATE_LIMIT", "100000/minute")
    os.environ["DJANGO_SETTINGS_MODULE"] = "partnerapp.settings"
    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, a fast password hasher is not needed
    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        sys.exit("bench_pages needs PostgreSQL: set DATABASE_URL=postgres://…")
    name = f"{settings['NAME']}_benchpages"
    settings["TEST"] = {**settings.get("TEST", {}), "NAME": name}
    # serialize=False: Django would otherwise read every row into a string (for test
    # rollbacks the benchmark never makes): minutes at a million items with --reuse.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=reuse, serialize=False)


def teardown(name: str) -> None:
    from django.db import connection

    connection.creation.destroy_test_db(name, verbosity=0)


def seed_account(email: str, *, connections: int, jobs: int, big_items: int, small_items: int):
    """A user, connections, jobs (each with `small_items` items), one job of `big_items`,
    the provider calls its finished items made, schedules and the audit log's events."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from partnerapp.connections.models import Connection, RateWindow
    from partnerapp.jobs.models import BatchJob
    from partnerapp.organizations.current import personal_organization
    from tests.benchmarks.bulk_items import items_insert, realistic_items

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
        (
            BatchJob(
                organization=organization,
                user=user,
                connection=conns[n % len(conns)],
                action="invoice.send_by_email",
                name=f"Rechnungen Kunde {n % len(conns)} ({n})",  # as jobs.naming names them
                status="running" if n == 0 else rng.choice(statuses),
                parameters={"subject": "Rechnung {INVOICENO}", "body": "{SALUTATION}\n\nDanke."},
                selection={"filter": {"status": "DR"}},
                created_at=now - timedelta(minutes=n),  # n == 0: the newest, the big one
                prepared_at=now - timedelta(minutes=n),
                started_at=now - timedelta(minutes=n, seconds=-5),
            )
            for n in range(jobs)
        ),
        batch_size=2000,
    )
    big = all_jobs[0]
    items_insert([big.pk], big_items, expressions=realistic_items())
    if small_items:
        others = [job.pk for job in all_jobs[1:]]
        items_insert(others, small_items, expressions=realistic_items())
    seed_calls(big)
    seed_schedules(organization, user, conns)
    seed_audit(organization, user, all_jobs)
    return user, big


def seed_calls(job) -> None:
    """One provider call per finished item of `job`, at the time it finished (what the
    request log and the rate charts read)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO connections_requestlogentry (connection_id, method, path, status, "
            "duration_ms, request_id, job_id, job_item_id, created_at) "
            "SELECT %s, 'PATCH', '/receivables/invoices/' || document_id || '/send-by-email', "
            "CASE state WHEN 'failed' THEN 422 WHEN 'uncertain' THEN 502 ELSE 204 END, "
            "80 + mod(id, 50), request_id, job_id, id, finished_at "
            "FROM jobs_jobitem WHERE job_id = %s AND finished_at IS NOT NULL "
            "AND state <> 'skipped'",
            [job.connection_id, job.pk],
        )


def seed_schedules(organization, user, connections) -> None:
    from partnerapp.jobs.models import Schedule

    Schedule.objects.bulk_create(
        Schedule(
            organization=organization,
            user=user,
            connection=connection,
            name=f"Mahnlauf {connection.owner_name}",
            action="invoice.send_by_email",
            cron="0 8 * * 1",
            selection={"filter": {"status": "DR"}},
            parameters={"subject": "Rechnung {INVOICENO}", "body": "{SALUTATION}"},
        )
        for connection in connections[:SCHEDULES]
    )


def seed_audit(organization, user, jobs) -> None:
    """A "job.create" event per job, as the audit log would hold them."""
    from partnerapp.organizations.models import AuditEvent

    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                organization=organization,
                created_at=job.created_at,
                actor=user,
                actor_label=user.email,
                action="job.create",
                object_type="jobs.batchjob",
                object_id=str(job.pk),
                object_label=f"Job #{job.pk}",
                after={"action": job.action, "connection": job.connection_id},
            )
            for job in jobs
        ),
        batch_size=2000,
    )


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def pages(job, api_key: str) -> list[tuple[str, str, dict]]:
    """(name, url, headers) of every page measured, for this job and its account."""
    from partnerapp.jobs.models import JobItem

    items = job.items.order_by("-pk")
    deep_after = list(items.values_list("pk", flat=True)[:120])[-1]  # about the last page
    number = job.items.order_by("pk").values_list("document_number", flat=True)[
        job.items.count() // 2
    ]
    failed = job.items.filter(state=JobItem.State.FAILED).order_by("pk").first()
    base, conn = f"/jobs/{job.pk}/", f"/connections/{job.connection_id}/"
    api = {"HTTP_AUTHORIZATION": f"Bearer {api_key}"}
    rows = [
        ("overview", "/", {}),
        ("connection page", conn, {}),
        ("connection's request log", f"{conn}requests/", {}),
        ("connection's bank files", f"{conn}bank-files/", {}),
        ("activity (charts)", "/activity/", {}),
        ("jobs list", "/jobs/", {}),
        ("jobs list, page 20", "/jobs/?page=20", {}),
        ("jobs list, last page", "/jobs/?page=last", {}),
        ("jobs list, status=failed", "/jobs/?status=failed", {}),
        ("job page", base, {}),
        ("progress fragment (poll)", f"{base}progress/?seen=0&idle=0&status=running", {}),
    ]
    deep = {}  # state: an id about a page before the state's last
    for state in JobItem.State.values:
        tail = job.items.filter(state=state).order_by("-pk").values_list("pk", flat=True)
        deep[state] = list(tail[:61])[-1]
        rows.append((f"items, state={state}", f"{base}items/?state={state}", {}))
        rows.append(
            (f"items, {state}, deep", f"{base}items/?state={state}&after={deep[state]}", {})
        )
    rows += [
        ("items, search number", f"{base}items/?q={number}", {}),
        ("items, search recipient", f"{base}items/?q=firma4711.example", {}),
        ("items, search name", f"{base}items/?q=Firma%204711", {}),
        ("items, deep page (after id)", f"{base}items/?after={deep_after}", {}),
        ("items, last page", f"{base}items/?last=1", {}),
        ("job page, failed + search", f"{base}?state=failed&q=buchhaltung12", {}),
        ("item page (failed)", f"{base}items/{failed.pk}/", {}),
        ("job CSV, first bytes", f"{base}export.csv", {}),
        ("schedules", "/schedules/", {}),
        ("audit log", "/organization/audit/", {}),
        ("audit log, page 100", "/organization/audit/?page=100", {}),
        ("API jobs", "/api/v1/jobs", api),
        ("API jobs, offset 9900", "/api/v1/jobs?offset=9900", api),
        ("API job", f"/api/v1/jobs/{job.pk}", api),
        ("API items", f"/api/v1/jobs/{job.pk}/items", api),
        (
            "API items, failed, deep",
            f"/api/v1/jobs/{job.pk}/items?state=failed&after={deep['failed']}",
            api,
        ),
    ]
    return rows


def api_key_for(user) -> str:
    from partnerapp.api.keys import api_key_create
    from partnerapp.organizations.models import Membership

    membership = Membership.objects.filter(user=user).first()
    return api_key_create(membership=membership, name="bench", scope="read")[1]


def fetch(client, url: str, headers: dict):
    """The response; of a streamed one (the CSV) only its first chunk is read."""
    response = client.get(url, **headers)
    if response.streaming:
        next(iter(response.streaming_content), b"")
        response.close()
    return response


def measure(client, url: str, headers: dict, requests: int) -> list[float]:
    for _warm in range(3):
        assert fetch(client, url, headers).status_code == 200, url
    times = []
    for _n in range(requests):
        started = time.perf_counter()
        response = fetch(client, url, headers)
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


def seed_both(args):
    """(big user, big job, small user, small job), seeded now or found (--reuse)."""
    from django.contrib.auth import get_user_model

    from partnerapp.jobs.models import BatchJob

    users = get_user_model().objects
    if args.reuse and users.filter(email="big@bench.example").exists():
        found = []
        for email in ("big@bench.example", "small@bench.example"):
            user = users.get(email=email)
            found += [user, BatchJob.objects.filter(user=user).order_by("-created_at").first()]
        return tuple(found)
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
    return big_user, big_job, small_user, small_job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=1_000)
    parser.add_argument("--items-per-job", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--only", default="", help="measure only pages whose name has this")
    parser.add_argument("--keep", action="store_true", help="keep the database to inspect")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    args = parser.parse_args()

    run_started = time.perf_counter()
    setup_django(reuse=args.reuse)
    from django.db import connection
    from django.test import Client

    database = connection.settings_dict["NAME"]
    failures = 0
    try:
        started = time.perf_counter()
        big_user, big_job, small_user, small_job = seed_both(args)
        seeded = time.perf_counter() - started
        print(
            f"{connection.vendor}: {args.connections:,} connections, {args.jobs:,} jobs, "
            f"{big_job.items.count():,} items in job #{big_job.pk} "
            f"(+ {args.items_per_job} per other job), a provider call per finished item, "
            f"seeded in {seeded:.1f} s; {args.requests} requests per page after 3 warm-up ones"
        )
        big, small = Client(), Client()
        big.force_login(big_user)
        small.force_login(small_user)
        measured = zip(
            pages(big_job, api_key_for(big_user)),
            pages(small_job, api_key_for(small_user)),
            strict=True,
        )
        header = (
            f"{'page':<30} {'p50 ms':>8} {'p95 ms':>8}   "
            f"{'base p50':>8} {'base p95':>8} {'p95 ratio':>9}  goal p95 < {GOAL_MS:.0f} ms"
        )
        print(header)
        print("-" * len(header))
        for (name, url, headers), (_same, small_url, small_headers) in measured:
            if args.only and args.only not in name:
                continue
            times = measure(big, url, headers, args.requests)
            baseline = measure(small, small_url, small_headers, args.requests)
            ok = p95(times) < GOAL_MS
            failures += not ok
            print(
                f"{name:<30} {statistics.median(times):8.1f} {p95(times):8.1f}   "
                f"{statistics.median(baseline):8.1f} {p95(baseline):8.1f} "
                f"{p95(times) / p95(baseline):8.1f}x  {'met' if ok else 'missed'}"
            )
        naive = sorted(naive_deep_page(big_job) for _n in range(5))[2]
        print(
            f"baseline: a small account (1 connection, 1 job of 1,000 items). For comparison, "
            f"the naive last page (COUNT(*) + OFFSET) of the big job: {naive:.1f} ms (median "
            f"of 5), query time only. Not measured: a connection's invoices and documents "
            f"(they are the provider's, read over HTTP from the sandbox or SmartBusiness)."
        )
        print(
            f"goal p95 < {GOAL_MS:.0f} ms on every page: "
            f"{'met' if not failures else f'missed on {failures} pages'}"
        )
        print(f"this run took {time.perf_counter() - run_started:.0f} s (database set-up included)")
    finally:
        connection.close()
        if not (args.keep or args.reuse):
            teardown(database)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

"""Benchmark: the claim rate of a job of 1,000,000 items at 10 % and at 90 % done.

A script, not a test (pytest collects test_*.py only); PostgreSQL only:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python tests/benchmarks/bench_claims.py [--items 1000000] [--claims 1500]

Seeds two running jobs of --items items each into a scratch database
`<name>_benchclaims` next to DATABASE_URL's (one INSERT … SELECT generate_series per
job): in one the first 10 % of the items (by id, the order the engine claims them) are
sent, in the other the first 90 %; the rest are pending. Then it claims --claims items
of each, one after the other and each committed as in a worker, the two jobs taking
turns for --rounds rounds so that the noise of a shared machine falls on both alike.
Two claims are timed: the claim statement alone (`states.item_claim_due`, the
conditional UPDATE) and the engine's whole claim (`engine.item_claim_next`: that
statement plus the item's ledger row, one transaction). Between measurements the
claimed items go back to pending and the table is vacuumed (as autovacuum does).

Printed side by side: claims/s at 10 % and at 90 % done with today's claim and indexes
("now") and as before migration 0013 ("before": the claim ordered by id alone, without
the pending-items index — dropped for that measurement, built again after), and the
ratio 90 %/10 %. Goal (issue 14, part 6): at
90 % done the engine claims at least 0.8 times as fast as at 10 % ("the same": a
shared 2-core machine moves single figures by more than 10 % from run to run).
A job spends at most --budget seconds per measurement (the old claim at 90 % done takes
over a second each). --explain prints EXPLAIN (ANALYZE, BUFFERS) of the claim statement
in each case.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOAL_RATIO = 0.8
NEW_INDEX = "item_job_pending"  # migration 0013: (job, not_before, id) WHERE pending
ORDER_NOW, ORDER_BEFORE = "ORDER BY not_before NULLS LAST, id", "ORDER BY id"  # the claim's
FRACTIONS = (0.10, 0.90)
KINDS = ("statement", "engine")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("PARTNERAPP_VAR_DIR", tempfile.mkdtemp(prefix="bench-claims-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DEBUG"] = "False"  # DEBUG keeps every query in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "partnerapp.settings"
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench_claims needs PostgreSQL: set DATABASE_URL=postgres://…")
    settings = connection.settings_dict
    settings["TEST"] = {**settings.get("TEST", {}), "NAME": f"{settings['NAME']}_benchclaims"}
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def seed(items: int) -> dict[float, object]:
    """One user and connection, and per done fraction one running job of `items` items:
    the first `fraction` of them sent, the rest pending. {fraction: job}."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from partnerapp.connections.models import Connection
    from partnerapp.jobs.models import BatchJob
    from partnerapp.organizations.current import personal_organization
    from tests.benchmarks.bulk_items import items_insert, realistic_items

    user = get_user_model().objects.create_user(
        email="claims@bench.example", username="claims@bench.example", password="x"
    )
    connection = Connection.objects.create(
        organization=personal_organization(user),
        user=user,
        base_url="http://127.0.0.1:9/sandbox/v2",
        account_id="1",
        owner_name="Kunde AG",
        scopes="profile invoice contact",
    )
    jobs = {}
    for fraction in FRACTIONS:
        job = BatchJob.objects.create(
            connection=connection,
            user=user,
            action="invoice.send_by_email",
            status=BatchJob.Status.RUNNING,
            parameters={"subject": "Rechnung {INVOICENO}", "body": "{SALUTATION}"},
            started_at=timezone.now(),
        )
        done = f"n <= {round(items * fraction)}"
        expressions = realistic_items()
        expressions.update(
            state=f"CASE WHEN {done} THEN 'sent' ELSE 'pending' END",
            attempts=f"CASE WHEN {done} THEN 1 ELSE 0 END",
            request_id=f"CASE WHEN {done} THEN 'req-' || n ELSE '' END",
            finished_at=f"CASE WHEN {done} THEN now() - mod(n, 3600) * interval '1 s' END",
            error_status="NULL",
            outcome="''",
            error_detail="'{}'::jsonb",
        )
        items_insert([job.pk], items, expressions=expressions)
        jobs[fraction] = BatchJob.objects.select_related("connection", "user").get(pk=job.pk)
    return jobs


def sql(statement: str, params=()) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def vacuum() -> None:
    sql("VACUUM ANALYZE jobs_jobitem")
    sql("VACUUM ANALYZE jobs_actionclaim")


def unclaim_all() -> None:
    """Every claimed item back to pending and the ledger empty, the table vacuumed:
    the next measurement starts where the last one did."""
    sql("DELETE FROM jobs_actionclaim")
    sql("UPDATE jobs_jobitem SET state = 'pending', claimed_at = NULL WHERE state = 'sending'")
    vacuum()


def claim_with(kind: str):
    """The function measured: the claim statement alone, or the engine's whole claim."""
    from django.utils import timezone

    from partnerapp.jobs import engine, states

    if kind == "statement":
        return lambda job: states.item_claim_due(job_id=job.pk, now=timezone.now())
    return engine.item_claim_next


def claims_timed(job, claims: int, claim, *, budget: float) -> tuple[int, float]:
    """Up to `claims` claims one after the other (each one committed), stopping early
    once `budget` seconds are spent: (claims made, seconds spent)."""
    spent, made = 0.0, 0
    while made < claims and spent < budget:
        started = time.perf_counter()
        item = claim(job)
        spent += time.perf_counter() - started
        made += 1
        assert item is not None, "the job ran out of pending items"
    return made, spent


def explain(job) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the claim statement, rolled back (nothing claimed)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from partnerapp.jobs import states

    params = {
        "source": "pending",
        "target": "sending",
        "job": job.pk,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        statement = states.CLAIM.format(lock="FOR UPDATE SKIP LOCKED")
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", params)
        plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def index_definition(name: str) -> str | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else None


@contextmanager
def indexes_of(moment: str):
    """Today's indexes and claim ("now"), or those before migration 0013 ("before"):
    without the pending-items index, the claim ordered by id alone."""
    from partnerapp.jobs import states

    if moment == "now":
        yield
        return
    definition = index_definition(NEW_INDEX)
    assert definition and ORDER_NOW in states.CLAIM, "the claim changed: update this benchmark"
    sql(f"DROP INDEX {NEW_INDEX}")
    now_claim, states.CLAIM = states.CLAIM, states.CLAIM.replace(ORDER_NOW, ORDER_BEFORE)
    try:
        yield
    finally:
        states.CLAIM = now_claim
        sql(definition)


def measure(jobs: dict, *, claims: int, rounds: int, budget: float, show_plan: bool) -> dict:
    """{(moment, kind, fraction): claims/s}. The jobs take turns, `rounds` times, so the
    noise of a shared machine falls on both alike; each spends at most `budget` seconds
    per measurement (a slow claim makes fewer)."""
    results: dict = {}
    for moment in ("before", "now"):
        with indexes_of(moment):
            unclaim_all()
            if show_plan:
                for fraction, job in jobs.items():
                    print(
                        f"EXPLAIN (ANALYZE, BUFFERS) of the claim, {moment}, {fraction:.0%} done:"
                    )
                    print(explain(job))
            for kind in KINDS:
                made, spent = dict.fromkeys(jobs, 0), dict.fromkeys(jobs, 0.0)
                for _round in range(rounds):
                    for fraction, job in jobs.items():
                        n, seconds = claims_timed(
                            job, claims // rounds, claim_with(kind), budget=budget / rounds
                        )
                        made[fraction] += n
                        spent[fraction] += seconds
                for fraction in jobs:
                    results[moment, kind, fraction] = made[fraction] / spent[fraction]
                unclaim_all()
    return results


def report(results: dict, *, claims: int, rounds: int, budget: float) -> bool:
    header = (
        f"{'claim, indexes':<16} {'timed':<10} {'10 % done':>13} {'90 % done':>13} "
        f"{'90 %/10 %':>10}  goal"
    )
    print(header)
    print("-" * len(header))
    met = True
    for moment, label in (("before", "before 0013"), ("now", "now")):
        for kind in KINDS:
            early = results[moment, kind, 0.10]
            late = results[moment, kind, 0.90]
            ratio = late / early
            ok = ratio >= GOAL_RATIO
            if moment == "now":
                met = met and ok
            print(
                f"{label:<16} {kind:<10} {early:9.1f} c/s {late:9.1f} c/s {ratio:9.2f}x  "
                f"{'met' if ok else 'missed'}"
            )
    print(
        f"{claims} claims per job and measurement (fewer if they take over {budget:.0f} s), "
        f"in {rounds} rounds taking turns; statement: "
        f"states.item_claim_due alone; engine: engine.item_claim_next (claim + ledger row), "
        f"each committed. Goal: at 90 % done >= {GOAL_RATIO}x the rate at 10 %: "
        f"{'met' if met else 'missed'}"
    )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items per job")
    parser.add_argument("--claims", type=int, default=1_500, help="claims per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds per job and measurement at most"
    )
    parser.add_argument("--explain", action="store_true", help="print the claim's plans")
    parser.add_argument("--keep", action="store_true", help="keep the database to inspect")
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    database = connection.settings_dict["NAME"]
    try:
        started = time.perf_counter()
        jobs = seed(args.items)
        vacuum()
        print(
            f"postgresql: seeded {len(jobs)} running jobs of {args.items:,} items each "
            f"(the first 10 % / 90 % sent) in {time.perf_counter() - started:.1f} s"
        )
        results = measure(
            jobs,
            claims=args.claims,
            rounds=args.rounds,
            budget=args.budget,
            show_plan=args.explain,
        )
        met = report(results, claims=args.claims, rounds=args.rounds, budget=args.budget)
    finally:
        connection.close()
        if not args.keep:
            connection.creation.destroy_test_db(database, verbosity=0)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()

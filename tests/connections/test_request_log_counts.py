"""The calls per connection and hour the database keeps for the rate charts: they equal
a count of the request log after every path that writes, changes or deletes calls.

Run on PostgreSQL (statement triggers) and on SQLite (row triggers, `make demo`).
"""

import importlib
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection as database
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from partnerapp.connections import requestlog
from partnerapp.connections.models import Connection, RequestLogCount, RequestLogEntry
from partnerapp.smartbusiness.client import ApiCall
from tests.conftest import ARTIFACTS, ROOT, worker_env
from tests.jobs.factories import ConnectionFactory

EVER = datetime(2000, 1, 1, tzinfo=UTC)
migration = importlib.import_module("partnerapp.connections.migrations.0010_request_log_counts")


def counted() -> dict:
    """{(connection id, hour): {"calls", "throttled"}} the slow way: every call counted."""
    rows = (
        RequestLogEntry.objects.annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("connection_id", "hour")
        .annotate(calls=Count("pk"), throttled=Count("pk", filter=Q(status=429)))
        .order_by()
    )
    return {
        (row["connection_id"], row["hour"]): {"calls": row["calls"], "throttled": row["throttled"]}
        for row in rows
    }


def kept(*connection_ids: int) -> dict:
    """What the charts read, hours whose sums came to nothing left out."""
    ids = list(connection_ids) or list(Connection.objects.values_list("pk", flat=True))
    sums = requestlog.calls_per_hour(ids, since=EVER)
    return {key: value for key, value in sums.items() if value["calls"] or value["throttled"]}


def call(status: int | None = 200) -> ApiCall:
    return ApiCall("PATCH", "/receivables/invoices/1/send-by-email", status, 0.08, "r-1", None)


def logged(connection: Connection, *, at: datetime, status: int | None = 200, n: int = 1) -> None:
    for _n in range(n):
        RequestLogEntry.objects.create(
            connection=connection,
            method="GET",
            path="/x",
            status=status,
            duration_ms=5,
            created_at=at,
        )


def an_hour_ago() -> datetime:
    """The middle of the last whole hour: a few minutes either way stay in it."""
    return timezone.now().replace(minute=30, second=0, microsecond=0) - timedelta(hours=1)


def test_single_and_batched_writes_are_counted_per_hour(db):
    first, second = ConnectionFactory(), ConnectionFactory()
    requestlog.entry_record(first.pk, call(429), job_id=None, job_item_id=None)  # one INSERT
    with requestlog.batched():  # FLUSH_SIZE rows flushed inside the block, the rest at its end
        for n in range(requestlog.FLUSH_SIZE + 30):
            status = 429 if n % 10 == 0 else (None if n % 11 == 0 else 204)
            requestlog.entry_record(second.pk, call(status), job_id=7, job_item_id=n)
            requestlog.entry_record(first.pk, call(204), job_id=8, job_item_id=n)
    with requestlog.batched():
        requestlog.entry_record(first.pk, call(429), job_id=None, job_item_id=None)
        assert requestlog.entries_flush() == 1  # flushed by hand, before the block ends

    assert kept() == counted()
    assert sum(v["calls"] for v in kept(second.pk).values()) == requestlog.FLUSH_SIZE + 30
    assert sum(v["throttled"] for v in kept(first.pk).values()) == 2


def test_calls_in_many_hours_from_one_statement_land_in_their_hours(db):
    connection = ConnectionFactory()
    now = timezone.now()
    RequestLogEntry.objects.bulk_create(
        RequestLogEntry(
            connection=connection,
            method="GET",
            path="/x",
            status=429 if n % 3 else 200,
            duration_ms=1,
            created_at=now - timedelta(minutes=17 * n),
        )
        for n in range(40)
    )
    assert kept() == counted()
    assert len(counted()) >= 11  # 40 calls over 11 hours and a bit


def test_changed_and_deleted_calls_move_the_counts(db):
    connection, other = ConnectionFactory(), ConnectionFactory()
    logged(connection, at=an_hour_ago(), n=5)
    logged(connection, at=an_hour_ago() - timedelta(hours=5), status=429, n=3)
    calls = RequestLogEntry.objects.filter(connection=connection).order_by("pk")
    RequestLogEntry.objects.filter(pk=calls[0].pk).update(status=429)
    RequestLogEntry.objects.filter(pk=calls[1].pk).update(
        created_at=an_hour_ago() - timedelta(hours=2)
    )
    RequestLogEntry.objects.filter(pk=calls[2].pk).update(connection=other)
    RequestLogEntry.objects.filter(pk=calls[3].pk).update(path="/y")  # no count changes
    calls.last().delete()
    RequestLogEntry.objects.filter(status=429).delete()

    assert kept() == counted()
    assert kept(other.pk) == {
        (other.pk, an_hour_ago().replace(minute=0)): {"calls": 1, "throttled": 0}
    }


def test_a_deleted_connections_counts_come_to_nothing(db):
    connection = ConnectionFactory()
    logged(connection, at=an_hour_ago(), n=3)
    connection_id = connection.pk

    connection.delete()

    assert kept(connection_id) == {}


def test_the_purge_takes_old_calls_off_and_folds_their_hours_away(db, settings):
    settings.REQUEST_LOG_RETENTION_DAYS = 30
    connection = ConnectionFactory()
    now = timezone.now()
    for days, n in [(45, 3), (31, 2), (29, 4), (0, 1)]:
        logged(connection, at=now - timedelta(days=days, minutes=5), status=429, n=n)
        logged(connection, at=now - timedelta(days=days, minutes=5), n=n)

    assert requestlog.entries_purge() == 10

    assert kept() == counted()
    assert sum(v["calls"] for v in kept().values()) == 10
    cutoff = now - timedelta(days=30)
    assert not RequestLogCount.objects.filter(hour__lt=cutoff - timedelta(hours=1)).exists()


def test_an_hour_of_many_rows_is_folded_into_one_when_read(db):
    connection = ConnectionFactory()
    for n in range(requestlog.FOLD_AFTER + 1):
        logged(
            connection, at=an_hour_ago() + timedelta(minutes=n % 20), status=429 if n % 2 else 200
        )

    first = kept()  # reads the sums, then folds the crowded hour

    assert first == counted() == kept()
    rows = RequestLogCount.objects.filter(connection_id=connection.pk)
    assert [(row.calls, row.throttled) for row in rows] == [
        (requestlog.FOLD_AFTER + 1, requestlog.FOLD_AFTER // 2)
    ]


def test_the_migrations_fill_counts_the_calls_logged_before_it(db):
    connection = ConnectionFactory()
    logged(connection, at=an_hour_ago(), status=429, n=2)
    logged(connection, at=an_hour_ago() - timedelta(days=2), n=3)
    RequestLogCount.objects.all().delete()

    with database.cursor() as cursor:
        cursor.execute(migration.FILL[database.vendor])

    assert kept() == counted()


@pytest.mark.django_db(transaction=True)
def test_two_processes_logging_at_once_are_all_counted(settings):
    connection = ConnectionFactory()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / "request-log-writers.log", "ab") as log:
        writers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.connections.request_log_writer",
                    str(connection.pk),
                    "250",
                ],
                cwd=ROOT,
                env=worker_env(settings.SMARTBUSINESS_BASE_URL),
                text=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
            for _n in range(2)
        ]
    try:
        assert [writer.stdout.readline().strip() for writer in writers] == ["ready"] * 2
        for writer in writers:
            writer.stdin.write("go\n")
            writer.stdin.flush()
        assert [writer.stdout.readline().strip() for writer in writers] == ["ok"] * 2
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()

    assert kept() == counted()
    totals = [sum(v[key] for v in kept().values()) for key in ("calls", "throttled")]
    assert totals == [500, 2 * 36]  # every seventh of each writer's 250 calls: a 429

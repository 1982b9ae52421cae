"""Calls per connection and hour kept by the database (issue 14, part 6).

The rate charts (connection page, activity page) showed calls per hour by counting the
request log: at a million calls a connection page took 600 ms. Triggers on the log now
append the change per (connection, hour) of every statement that writes, changes or
purges calls (`requestlog.calls_per_hour` sums them), whichever path wrote it: the
batched flush, a single save, a bulk INSERT … SELECT, the purge, a cascade.

Installed and filled from the log in one transaction: CREATE TRIGGER locks the log
against writers until the fill has counted, so no call is missed or counted twice.
"""

import django.db.models.deletion
from django.db import migrations, models

# PostgreSQL: one trigger per statement, over the rows it changed (transition tables).
# Hours are UTC whatever the session's time zone.
POSTGRESQL_INSTALL = [
    """
    CREATE FUNCTION connections_request_log_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO connections_requestlogcount (connection_id, hour, calls, throttled)
            SELECT connection_id, date_trunc('hour', created_at, 'UTC'), count(*),
                   count(*) FILTER (WHERE status = 429)
            FROM new_calls GROUP BY 1, 2;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO connections_requestlogcount (connection_id, hour, calls, throttled)
            SELECT connection_id, date_trunc('hour', created_at, 'UTC'), -count(*),
                   -count(*) FILTER (WHERE status = 429)
            FROM old_calls GROUP BY 1, 2;
        ELSE
            INSERT INTO connections_requestlogcount (connection_id, hour, calls, throttled)
            SELECT connection_id, hour, sum(calls), sum(throttled) FROM (
                SELECT connection_id, date_trunc('hour', created_at, 'UTC') AS hour,
                       1 AS calls, CASE WHEN status = 429 THEN 1 ELSE 0 END AS throttled
                FROM new_calls
                UNION ALL
                SELECT connection_id, date_trunc('hour', created_at, 'UTC'),
                       -1, CASE WHEN status = 429 THEN -1 ELSE 0 END
                FROM old_calls
            ) AS changes GROUP BY 1, 2 HAVING sum(calls) <> 0 OR sum(throttled) <> 0;
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER request_log_counts_insert AFTER INSERT ON connections_requestlogentry "
    "REFERENCING NEW TABLE AS new_calls "
    "FOR EACH STATEMENT EXECUTE FUNCTION connections_request_log_counts()",
    "CREATE TRIGGER request_log_counts_update AFTER UPDATE ON connections_requestlogentry "
    "REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls "
    "FOR EACH STATEMENT EXECUTE FUNCTION connections_request_log_counts()",
    "CREATE TRIGGER request_log_counts_delete AFTER DELETE ON connections_requestlogentry "
    "REFERENCING OLD TABLE AS old_calls "
    "FOR EACH STATEMENT EXECUTE FUNCTION connections_request_log_counts()",
]
POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS request_log_counts_insert ON connections_requestlogentry",
    "DROP TRIGGER IF EXISTS request_log_counts_update ON connections_requestlogentry",
    "DROP TRIGGER IF EXISTS request_log_counts_delete ON connections_requestlogentry",
    "DROP FUNCTION IF EXISTS connections_request_log_counts()",
]
# SQLite (the demo): row triggers. Django keeps its datetimes as UTC text there.
SQLITE_HOUR = "strftime('%Y-%m-%d %H:00:00', {row}.created_at)"
SQLITE_THROTTLED = "CASE WHEN {row}.status = 429 THEN {sign}1 ELSE 0 END"
SQLITE_NEW = (
    "INSERT INTO connections_requestlogcount (connection_id, hour, calls, throttled) "
    f"VALUES (NEW.connection_id, {SQLITE_HOUR.format(row='NEW')}, 1, "
    f"{SQLITE_THROTTLED.format(row='NEW', sign='')});"
)
SQLITE_OLD = (
    "INSERT INTO connections_requestlogcount (connection_id, hour, calls, throttled) "
    f"VALUES (OLD.connection_id, {SQLITE_HOUR.format(row='OLD')}, -1, "
    f"{SQLITE_THROTTLED.format(row='OLD', sign='-')});"
)
SQLITE_INSTALL = [
    "CREATE TRIGGER request_log_counts_insert AFTER INSERT ON connections_requestlogentry "
    f"BEGIN {SQLITE_NEW} END",
    "CREATE TRIGGER request_log_counts_update "
    "AFTER UPDATE OF connection_id, created_at, status ON connections_requestlogentry "
    f"BEGIN {SQLITE_OLD} {SQLITE_NEW} END",
    "CREATE TRIGGER request_log_counts_delete AFTER DELETE ON connections_requestlogentry "
    f"BEGIN {SQLITE_OLD} END",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS request_log_counts_insert",
    "DROP TRIGGER IF EXISTS request_log_counts_update",
    "DROP TRIGGER IF EXISTS request_log_counts_delete",
]
FILL = {
    "postgresql": """
        INSERT INTO connections_requestlogcount (connection_id, hour, calls, throttled)
        SELECT connection_id, date_trunc('hour', created_at, 'UTC'), count(*),
               count(*) FILTER (WHERE status = 429)
        FROM connections_requestlogentry GROUP BY 1, 2
    """,
    "sqlite": f"""
        INSERT INTO connections_requestlogcount (connection_id, hour, calls, throttled)
        SELECT connection_id, {SQLITE_HOUR.format(row="connections_requestlogentry")},
               count(*), sum(CASE WHEN status = 429 THEN 1 ELSE 0 END)
        FROM connections_requestlogentry GROUP BY 1, 2
    """,
}


def counts_install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    install = POSTGRESQL_INSTALL if vendor == "postgresql" else SQLITE_INSTALL
    for statement in [*install, FILL[vendor]]:
        schema_editor.execute(statement, params=None)


def counts_remove(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL_REMOVE if postgresql else SQLITE_REMOVE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0009_connect_link"),
    ]

    operations = [
        migrations.CreateModel(
            name="RequestLogCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hour", models.DateTimeField()),
                ("calls", models.BigIntegerField()),
                ("throttled", models.BigIntegerField()),
                (
                    "connection",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="connections.connection",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["connection", "hour"], name="request_count_connection_hour"
                    )
                ],
            },
        ),
        migrations.RunPython(counts_install, counts_remove),
    ]

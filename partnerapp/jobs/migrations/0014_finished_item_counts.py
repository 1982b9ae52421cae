"""Finished items per organization, quarter hour and state kept by the database
(issue 14, part 6).

The activity page's charts (sends per day and per hour, by outcome) counted the items
that finished in the period: at a million items, 640 ms each. Triggers on jobs_jobitem
now append the change per (organization, quarter hour of finished_at, state) of every
statement that inserts, moves or deletes finished items (`counts.finished_per_quarter`
sums them). Installed and filled in one transaction, as the item counts of 0013.
"""

import django.db.models.deletion
from django.db import migrations, models

# PostgreSQL: one trigger per statement, over the rows it changed (transition tables).
QUARTER = "date_bin('15 minutes', {row}.finished_at, timestamptz '2000-01-01 00:00:00+00')"
POSTGRESQL_INSTALL = [
    f"""
    CREATE FUNCTION jobs_finished_item_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO jobs_finisheditemcount (organization_id, quarter, state, count)
            SELECT job.organization_id, {QUARTER.format(row="item")}, item.state, count(*)
            FROM new_items AS item JOIN jobs_batchjob AS job ON job.id = item.job_id
            WHERE item.finished_at IS NOT NULL GROUP BY 1, 2, 3;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO jobs_finisheditemcount (organization_id, quarter, state, count)
            SELECT job.organization_id, {QUARTER.format(row="item")}, item.state, -count(*)
            FROM old_items AS item JOIN jobs_batchjob AS job ON job.id = item.job_id
            WHERE item.finished_at IS NOT NULL GROUP BY 1, 2, 3;
        ELSE
            INSERT INTO jobs_finisheditemcount (organization_id, quarter, state, count)
            SELECT job.organization_id, quarter, state, sum(change) FROM (
                SELECT job_id, {QUARTER.format(row="new_items")} AS quarter, state, 1 AS change
                FROM new_items WHERE finished_at IS NOT NULL
                UNION ALL
                SELECT job_id, {QUARTER.format(row="old_items")}, state, -1
                FROM old_items WHERE finished_at IS NOT NULL
            ) AS changes JOIN jobs_batchjob AS job ON job.id = changes.job_id
            GROUP BY 1, 2, 3 HAVING sum(change) <> 0;
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER jobitem_finished_insert AFTER INSERT ON jobs_jobitem "
    "REFERENCING NEW TABLE AS new_items "
    "FOR EACH STATEMENT EXECUTE FUNCTION jobs_finished_item_counts()",
    "CREATE TRIGGER jobitem_finished_update AFTER UPDATE ON jobs_jobitem "
    "REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items "
    "FOR EACH STATEMENT EXECUTE FUNCTION jobs_finished_item_counts()",
    "CREATE TRIGGER jobitem_finished_delete AFTER DELETE ON jobs_jobitem "
    "REFERENCING OLD TABLE AS old_items "
    "FOR EACH STATEMENT EXECUTE FUNCTION jobs_finished_item_counts()",
]
POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS jobitem_finished_insert ON jobs_jobitem",
    "DROP TRIGGER IF EXISTS jobitem_finished_update ON jobs_jobitem",
    "DROP TRIGGER IF EXISTS jobitem_finished_delete ON jobs_jobitem",
    "DROP FUNCTION IF EXISTS jobs_finished_item_counts()",
]
# SQLite (the demo): row triggers. Django keeps its datetimes as UTC text there.
SQLITE_QUARTER = (
    "strftime('%Y-%m-%d %H:', {row}.finished_at) || "
    "printf('%02d', CAST(strftime('%M', {row}.finished_at) AS INTEGER) / 15 * 15) || ':00'"
)
SQLITE_ROW = (
    "INSERT INTO jobs_finisheditemcount (organization_id, quarter, state, count) "
    "SELECT organization_id, {quarter}, {row}.state, {change} FROM jobs_batchjob "
    "WHERE id = {row}.job_id AND {row}.finished_at IS NOT NULL;"
)
SQLITE_NEW = SQLITE_ROW.format(quarter=SQLITE_QUARTER.format(row="NEW"), row="NEW", change=1)
SQLITE_OLD = SQLITE_ROW.format(quarter=SQLITE_QUARTER.format(row="OLD"), row="OLD", change=-1)
SQLITE_INSTALL = [
    f"CREATE TRIGGER jobitem_finished_insert AFTER INSERT ON jobs_jobitem BEGIN {SQLITE_NEW} END",
    "CREATE TRIGGER jobitem_finished_update AFTER UPDATE OF state, finished_at, job_id "
    "ON jobs_jobitem WHEN (OLD.finished_at IS NOT NULL OR NEW.finished_at IS NOT NULL) "
    "AND (OLD.state <> NEW.state OR OLD.job_id <> NEW.job_id "
    "OR OLD.finished_at IS NOT NEW.finished_at) "
    f"BEGIN {SQLITE_OLD} {SQLITE_NEW} END",
    f"CREATE TRIGGER jobitem_finished_delete AFTER DELETE ON jobs_jobitem BEGIN {SQLITE_OLD} END",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS jobitem_finished_insert",
    "DROP TRIGGER IF EXISTS jobitem_finished_update",
    "DROP TRIGGER IF EXISTS jobitem_finished_delete",
]
FILL = {
    "postgresql": f"""
        INSERT INTO jobs_finisheditemcount (organization_id, quarter, state, count)
        SELECT job.organization_id, {QUARTER.format(row="item")}, item.state, count(*)
        FROM jobs_jobitem AS item JOIN jobs_batchjob AS job ON job.id = item.job_id
        WHERE item.finished_at IS NOT NULL GROUP BY 1, 2, 3
    """,
    "sqlite": f"""
        INSERT INTO jobs_finisheditemcount (organization_id, quarter, state, count)
        SELECT job.organization_id, {SQLITE_QUARTER.format(row="item")}, item.state, count(*)
        FROM jobs_jobitem AS item JOIN jobs_batchjob AS job ON job.id = item.job_id
        WHERE item.finished_at IS NOT NULL GROUP BY 1, 2, 3
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
        ("jobs", "0013_item_job_pending"),
        ("organizations", "0003_audit_event"),
    ]

    operations = [
        migrations.CreateModel(
            name="FinishedItemCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quarter", models.DateTimeField()),
                ("state", models.CharField(max_length=12)),
                ("count", models.BigIntegerField()),
                (
                    "organization",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="organizations.organization",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["organization", "quarter"], name="finished_count_org_quarter"
                    )
                ],
            },
        ),
        migrations.RunPython(counts_install, counts_remove),
    ]

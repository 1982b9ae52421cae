"""Claims and counts that stay flat at a million items (issue 14, part 6).

1. The claim's own index: a job's pending items in claim order (and, beside it, the
failed items "Retry failed" leaves alone, which the job page counts).

The claim takes a job's first pending item by id. With (job, state, id) alone the
planner may walk the primary key instead and filter: at 10 % done that reads every
finished item before the first pending one, so the claim slows down as the job
progresses, or speeds up, by the planner's guess. A partial index that holds only
pending items makes the right plan the obvious one, and stays small: an item leaves it
when it is claimed, and claiming adds nothing to it.

Built CONCURRENTLY on PostgreSQL: jobs_jobitem holds millions of rows in production,
and a plain CREATE INDEX would block every worker's claim and record (writes) for as
long as the build reads the table. That cannot run inside a transaction, so this
migration is not atomic. SQLite (the demo) builds it the plain way.

2. Item counts kept by the database (`jobs/counts.py`): triggers append the change
per (job, state) of every statement that inserts, moves or deletes items. Installed
and filled from the items in one transaction: the triggers' lock on the table holds
writers back until the fill has counted, so no change is missed or counted twice.
"""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

# PostgreSQL: one trigger per statement, over the rows it changed (transition tables).
POSTGRESQL_INSTALL = [
    """
    CREATE FUNCTION jobs_item_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO jobs_jobitemcount (job_id, state, count)
            SELECT job_id, state, count(*) FROM new_items GROUP BY job_id, state;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO jobs_jobitemcount (job_id, state, count)
            SELECT job_id, state, -count(*) FROM old_items GROUP BY job_id, state;
        ELSE
            INSERT INTO jobs_jobitemcount (job_id, state, count)
            SELECT job_id, state, sum(change) FROM (
                SELECT job_id, state, 1 AS change FROM new_items
                UNION ALL SELECT job_id, state, -1 FROM old_items
            ) AS changes GROUP BY job_id, state HAVING sum(change) <> 0;
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER jobitem_counts_insert AFTER INSERT ON jobs_jobitem "
    "REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION jobs_item_counts()",
    "CREATE TRIGGER jobitem_counts_update AFTER UPDATE ON jobs_jobitem "
    "REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items "
    "FOR EACH STATEMENT EXECUTE FUNCTION jobs_item_counts()",
    "CREATE TRIGGER jobitem_counts_delete AFTER DELETE ON jobs_jobitem "
    "REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION jobs_item_counts()",
]
POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS jobitem_counts_insert ON jobs_jobitem",
    "DROP TRIGGER IF EXISTS jobitem_counts_update ON jobs_jobitem",
    "DROP TRIGGER IF EXISTS jobitem_counts_delete ON jobs_jobitem",
    "DROP FUNCTION IF EXISTS jobs_item_counts()",
]
# SQLite (the demo): row triggers.
SQLITE_INSTALL = [
    """
    CREATE TRIGGER jobitem_counts_insert AFTER INSERT ON jobs_jobitem BEGIN
        INSERT INTO jobs_jobitemcount (job_id, state, count) VALUES (NEW.job_id, NEW.state, 1);
    END
    """,
    """
    CREATE TRIGGER jobitem_counts_update AFTER UPDATE OF state, job_id ON jobs_jobitem
    WHEN OLD.state <> NEW.state OR OLD.job_id <> NEW.job_id BEGIN
        INSERT INTO jobs_jobitemcount (job_id, state, count) VALUES (OLD.job_id, OLD.state, -1);
        INSERT INTO jobs_jobitemcount (job_id, state, count) VALUES (NEW.job_id, NEW.state, 1);
    END
    """,
    """
    CREATE TRIGGER jobitem_counts_delete AFTER DELETE ON jobs_jobitem BEGIN
        INSERT INTO jobs_jobitemcount (job_id, state, count) VALUES (OLD.job_id, OLD.state, -1);
    END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS jobitem_counts_insert",
    "DROP TRIGGER IF EXISTS jobitem_counts_update",
    "DROP TRIGGER IF EXISTS jobitem_counts_delete",
]
FILL = """
    INSERT INTO jobs_jobitemcount (job_id, state, count)
    SELECT job_id, state, count(*) FROM jobs_jobitem GROUP BY job_id, state
"""


def counts_install(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in [*(POSTGRESQL_INSTALL if postgresql else SQLITE_INSTALL), FILL]:
        schema_editor.execute(statement)


def counts_remove(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL_REMOVE if postgresql else SQLITE_REMOVE:
        schema_editor.execute(statement)


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, a plain CREATE INDEX elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("jobs", "0012_job_name_outcome_code"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="jobitem",
            index=models.Index(
                condition=models.Q(("state", "pending")),
                fields=["job", "not_before", "id"],
                name="item_job_pending",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="jobitem",
            index=models.Index(
                condition=models.Q(
                    ("state", "failed"), ("outcome_params__retryable", False)
                ),
                fields=["job"],
                name="item_job_failed_final",
            ),
        ),
        migrations.CreateModel(
            name="JobItemCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("state", models.CharField(max_length=12)),
                ("count", models.BigIntegerField()),
                (
                    "job",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="jobs.batchjob",
                    ),
                ),
            ],
        ),
        migrations.RunPython(counts_install, counts_remove, atomic=True),
    ]

"""The claim's own index: a job's pending items by id (issue 14, part 6).

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
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


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
    ]

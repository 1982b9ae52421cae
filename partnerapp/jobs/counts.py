"""How many of a job's items are in each state, without counting a million rows.

The database keeps the counts (triggers of migration 0013 on jobs_jobitem): every
statement that inserts, moves or deletes items appends one row per (job, state) it
changed, with the difference (+3, -1, …), in the same transaction as the change, so the
counts never drift from the items. Appending, never updating: the workers of a job do
not queue behind one counter row, and no two transactions can deadlock over counters.
A job's counts are the sums of its rows; when a job has gathered many rows, reading
folds them into one per state (`_fold`).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, Sum

from partnerapp.jobs.models import FinishedItemCount, JobItem, JobItemCount

Item = JobItem.State
FOLD_AFTER = 200  # rows of one job summed on every read before they are folded

FOLD = """
    DELETE FROM jobs_jobitemcount WHERE job_id = %s RETURNING state, count
"""


def counts_for(job_ids) -> dict[int, dict[str, int]]:
    """{job id: {state: items, …, "total", "finished"}} for these jobs, in one query."""
    result = {pk: dict.fromkeys(Item.values, 0) for pk in job_ids}
    rows = (
        JobItemCount.objects.filter(job_id__in=list(result))
        .values("job_id", "state")
        .annotate(n=Sum("count"), rows=Count("pk"))
        .order_by()
    )
    crowded = set()
    for row in rows:
        result[row["job_id"]][row["state"]] = row["n"]
        if row["rows"] > FOLD_AFTER:
            crowded.add(row["job_id"])
    for job_id in sorted(crowded):
        _fold(job_id)
    for counts in result.values():
        counts["total"] = sum(counts[state] for state in Item.values)
        counts["finished"] = counts["total"] - counts[Item.PENDING] - counts[Item.SENDING]
    return result


def _fold(job_id: int) -> None:
    """One row per state instead of many. The DELETE takes the rows committed so far;
    rows appended meanwhile stay and are added to the sums as before."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FOLD, [job_id])
        sums: dict[str, int] = {}
        for state, count in cursor.fetchall():
            sums[state] = sums.get(state, 0) + count
        JobItemCount.objects.bulk_create(
            JobItemCount(job_id=job_id, state=state, count=count)
            for state, count in sorted(sums.items())
            if count
        )


# -- finished items over time (the activity charts) -----------------------------------------------

FOLD_QUARTER_AFTER = 20  # rows of one (organization, quarter hour) summed before they are folded
FOLD_QUARTER = """
    DELETE FROM jobs_finisheditemcount WHERE organization_id = %s AND quarter = %s
    RETURNING state, count
"""


def finished_per_quarter(organization_id: int, *, since: datetime) -> dict[tuple, int]:
    """{(quarter hour start in UTC, state): items} of the organization's items that finished
    from `since` (a whole quarter hour) on, as the triggers of migration 0014 keep them:
    one query over a few rows per quarter hour, whatever the number of items."""
    rows = (
        FinishedItemCount.objects.filter(organization_id=organization_id, quarter__gte=since)
        .values("quarter", "state")
        .annotate(n=Sum("count"), rows=Count("pk"))
        .order_by()
    )
    result, crowded = {}, set()
    for row in rows:
        result[row["quarter"], row["state"]] = row["n"]
        if row["rows"] > FOLD_QUARTER_AFTER:
            crowded.add(row["quarter"])
    for quarter in sorted(crowded):
        _fold_quarter(organization_id, quarter)
    return result


def _fold_quarter(organization_id: int, quarter: datetime) -> None:
    """One row per state of the quarter hour instead of many, as `_fold` does for a job."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            FOLD_QUARTER, [organization_id, connection.ops.adapt_datetimefield_value(quarter)]
        )
        sums: dict[str, int] = {}
        for state, count in cursor.fetchall():
            sums[state] = sums.get(state, 0) + count
        FinishedItemCount.objects.bulk_create(
            FinishedItemCount(
                organization_id=organization_id, quarter=quarter, state=state, count=n
            )
            for state, n in sorted(sums.items())
            if n
        )

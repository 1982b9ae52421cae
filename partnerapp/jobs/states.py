"""The two state machines. Every status change of a job or an item goes through here.

Each transition is one conditional UPDATE (`WHERE state = <from>`): when two
workers race, exactly one wins and the other sees 0 rows changed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet

from partnerapp import statements
from partnerapp.jobs.models import BatchJob, JobItem

Item = JobItem.State
Job = BatchJob.Status

ITEM_TRANSITIONS: dict[str, set[str]] = {
    Item.PENDING: {Item.SENDING, Item.SKIPPED},
    # back to PENDING only when the provider provably did not act (429, not connected, 401);
    # SKIPPED in the claim's own transaction when another job holds the document (ledger)
    Item.SENDING: {Item.SENT, Item.FAILED, Item.UNCERTAIN, Item.PENDING, Item.SKIPPED},
    # "retry failed items", a person's decision; or handed back for good (a bank entry
    # released to be matched again: receivables.services.transaction_release)
    Item.FAILED: {Item.PENDING, Item.SKIPPED},
    Item.UNCERTAIN: {Item.PENDING, Item.SENT},  # resend after confirmation, or proven sent
    Item.SENT: set(),
    Item.SKIPPED: {Item.PENDING},  # "do it again" on a document another job did, by a person
}

JOB_TRANSITIONS: dict[str, set[str]] = {
    Job.DRAFT: {Job.QUEUED, Job.PAUSED, Job.CANCELLED, Job.FAILED},
    Job.QUEUED: {Job.RUNNING, Job.PAUSED, Job.CANCELLED},
    Job.RUNNING: {Job.PAUSED, Job.DONE, Job.CANCELLED, Job.FAILED},
    Job.PAUSED: {Job.DRAFT, Job.QUEUED, Job.CANCELLED},
    Job.DONE: {Job.QUEUED},  # reopened to retry failed or resend uncertain items
    Job.CANCELLED: set(),
    Job.FAILED: set(),
}


class InvalidTransition(Exception):
    pass


def item_move(items: QuerySet[JobItem], *, source: str, target: str, **changes: Any) -> int:
    """Move the items of `items` that are in `source` to `target`; returns how many moved."""
    if target not in ITEM_TRANSITIONS[source]:
        raise InvalidTransition(f"item {source} → {target}")
    moved = items.filter(state=source).update(state=target, **changes)
    if moved and target == Item.UNCERTAIN:
        from partnerapp.webhooks import events  # lazily: webhooks imports jobs

        events.items_uncertain(items.filter(state=Item.UNCERTAIN))  # one event per item
    return moved


MOVE_ONE = "UPDATE {table} SET state = %s{assignments} WHERE id = %s AND state = %s"


def item_move_one(item_id: int, *, source: str, target: str, **changes: Any) -> int:
    """`item_move` for one item and plain values (no expressions), written out: a job
    records every item's outcome this way, and the ORM's compiling the UPDATE cost more
    CPU than running it. Returns how many moved (0 or 1)."""
    if target not in ITEM_TRANSITIONS[source]:
        raise InvalidTransition(f"item {source} → {target}")
    sql, fields = _move_one(tuple(changes))
    values = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, changes.values(), strict=True)
    ]
    with statements.cursor() as cursor:
        cursor.execute(sql, [target, *values, item_id, source])
        moved = cursor.rowcount
    if moved and target == Item.UNCERTAIN:
        from partnerapp.webhooks import events  # lazily: webhooks imports jobs

        events.items_uncertain(JobItem.objects.filter(pk=item_id, state=Item.UNCERTAIN))
    return moved


@functools.lru_cache(maxsize=64)
def _move_one(names: tuple[str, ...]) -> tuple[str, list]:
    """The UPDATE for these field names (a handful of sets recur), and their fields."""
    quote = connection.ops.quote_name
    fields = [JobItem._meta.get_field(name) for name in names]
    sql = MOVE_ONE.format(
        table=quote(JobItem._meta.db_table),
        assignments="".join(f", {quote(field.column)} = %s" for field in fields),
    )
    return sql, fields


@dataclass(frozen=True)
class Sent:
    """An item whose last step took effect, as `item_move_one` records it (sending →
    sent), held for a moment so that the record can go with the slice's next claim
    (`claiming.item_claim_next`): one statement for both. `write()` records it alone."""

    item_id: int
    changes: dict[str, Any]

    def write(self) -> int:
        return item_move_one(self.item_id, source=Item.SENDING, target=Item.SENT, **self.changes)

    def assignments(self) -> tuple[str, dict[str, Any]]:
        """The SET list (after `state`) with named parameters `sent_<field>`, and those
        parameters, for an UPDATE written elsewhere."""
        sql, fields = _named_assignments(tuple(self.changes))
        params = {
            f"sent_{field.name}": field.get_db_prep_save(value, connection)
            for field, value in zip(fields, self.changes.values(), strict=True)
        }
        return sql, params


@functools.lru_cache(maxsize=16)
def _named_assignments(names: tuple[str, ...]) -> tuple[str, list]:
    quote = connection.ops.quote_name
    _sql, fields = _move_one(names)
    return "".join(f", {quote(field.column)} = %(sent_{field.name})s" for field in fields), fields


# The claim as one statement: the first due pending item becomes "sending" and comes
# back in the same round trip. PostgreSQL skips a row another chain is claiming at this
# moment instead of queueing behind it; SQLite has one writer at a time anyway. The
# outer `state` check keeps the claim conditional either way.
# The order is the pending-items index's (job, not_before, id; migration 0013): items
# backed off after a transient error once they are due (their time is past), then the
# rest by id. Not `ORDER BY id` alone: the primary key serves that order too, and the
# planner, taking a job's pending items for spread evenly over the table, may walk it
# from the first row — past every finished item and every older job's items — for
# each claim (two jobs of 1,000,000 items: 1.1 s a claim instead of 0.3 ms;
# tests/benchmarks/bench_claims.py).
CLAIM = """
    UPDATE jobs_jobitem SET state = %(target)s, attempts = attempts + 1, claimed_at = %(now)s
    WHERE id = (
        SELECT id FROM jobs_jobitem
        WHERE job_id = %(job)s AND state = %(source)s {which}
          AND (not_before IS NULL OR not_before <= %(now)s)
        ORDER BY not_before NULLS LAST, id LIMIT 1 {lock}
    ) AND state = %(source)s
    RETURNING *
"""
CLAIM_ORDER = (F("not_before").asc(nulls_last=True), "id")  # the same, for the ORM


def due(now) -> Q:
    """Pending items that may be tried at `now` (not backed off until later)."""
    return Q(not_before__isnull=True) | Q(not_before__lte=now)


def item_claim_due(*, job_id: int, now, item_id: int | None = None) -> JobItem | None:
    """Move the job's first due pending item (or the item `item_id`, if due) to sending
    and return it (None: none due). The ledger rows go with it: `claiming.py`."""
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    which = "AND id = %(item)s" if item_id is not None else ""
    at = connection.ops.adapt_datetimefield_value(now)
    params = {"source": Item.PENDING, "target": Item.SENDING, "job": job_id, "now": at}
    params["item"] = item_id
    claimed = list(JobItem.objects.raw(CLAIM.format(lock=lock, which=which), params))
    return claimed[0] if claimed else None


def jobs_move(jobs: QuerySet[BatchJob], *, source: str, target: str, **changes: Any) -> int:
    """Move every job of `jobs` still in `source` to `target` in one conditional UPDATE;
    returns how many moved (a job another process moved first is left alone)."""
    if target not in JOB_TRANSITIONS[source]:
        raise InvalidTransition(f"job {source} → {target}")
    return jobs.filter(status=source).update(status=target, **changes)


def job_move(job: BatchJob, *, target: str, sources: set[str] | None = None, **changes) -> bool:
    """Move `job` to `target` if it is still in one of `sources` (default: its current status).

    Returns False, changing nothing, when another process moved it first. On
    success the instance is updated too.
    """
    sources = sources or {job.status}
    for source in sources:
        if target not in JOB_TRANSITIONS[source]:
            raise InvalidTransition(f"job {source} → {target}")
    moved = BatchJob.objects.filter(pk=job.pk, status__in=sources).update(status=target, **changes)
    if moved:
        job.status = target
        for field, value in changes.items():
            setattr(job, field, value)
    return bool(moved)

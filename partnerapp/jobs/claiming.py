"""Claiming a job's next item, and its at-most-once ledger rows, in one statement.

The claim (pending → sending) and the ledger rows of the item's remaining steps must be
one unit: of two jobs racing for a document exactly one may act (`ledger.py`). On
PostgreSQL that unit is a single statement, with no transaction around it: the item
moves only if every one of its rows went in. A row that another item holds makes the
statement change nothing; the item then takes the careful path (`contested`): the
claim and the ledger in one transaction, which retires leftover rows, honours a resend
and, when another item really holds the document, ends this one `skipped`.

A row's identity may depend on the item (its status when prepared, its key, its step:
`operations`), so the statement needs the item before it claims it. The items come
from a queue of candidates per job and process, filled by one SELECT of the next due
pending items in the claim order (the pending-items index of migration 0013) and shared
by the process's threads: sixteen threads sending for one job read the queue once per
CANDIDATES items, not once per item. A candidate is only a hint: the statement claims it
only while it is still pending, due and as read (another process may have taken it,
a person may have reopened it at another step); otherwise the next one is tried.

The thread's previous item, sent a moment ago, is recorded in the same statement
(`states.Sent`): per item one round trip to the database for its claim and its
outcome, not two. That record is conditional like every move (a sweeper may have
decided the item meanwhile) and goes in whatever the claim finds; with no candidate
left it is written on its own.

Elsewhere (SQLite, which `make demo` uses) the claim and the ledger stay two statements
in one transaction: one writer at a time, so no race to lose.
"""

from __future__ import annotations

import functools
import threading
from collections import deque

from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from partnerapp import statements
from partnerapp.jobs import ledger, states
from partnerapp.jobs.models import ActionClaim, BatchJob, JobItem

Item = JobItem.State
CANDIDATES = 64  # items read ahead per job and process
# What a ledger identity may depend on besides the job (`Step.ledger_action`): the
# statement claims a candidate only while these are as they were read.
IDENTITY_FIELDS = ("id", "job_id", "document_id", "document_status", "key", "step", "resend")

CLAIM = """
    WITH {recorded}due AS (
        SELECT id FROM {item} WHERE id = %(item)s AND job_id = %(job)s
          AND state = %(source)s AND step = %(step)s AND resend = %(resend)s
          AND document_id = %(document_id)s AND document_status = %(document_status)s
          AND "key" = %(key)s AND (not_before IS NULL OR not_before <= %(now)s)
    ), taken AS (
        INSERT INTO {claim}
            (base_url, account_id, document, document_id, action, item_id, active, created_at)
        SELECT %(base_url)s, %(account_id)s, %(document)s, %(document_id)s, action, due.id,
               true, %(now)s
        FROM due, unnest(%(actions)s::varchar[]) AS action
        ON CONFLICT DO NOTHING
        RETURNING id
    ), claimed AS (
        UPDATE {item} SET state = %(target)s, attempts = attempts + 1, claimed_at = %(now)s
        WHERE id = (SELECT id FROM due) AND state = %(source)s
          AND (SELECT count(*) FROM taken) = %(wanted)s
        RETURNING {returning}
    )
    SELECT (SELECT count(*) FROM due), (SELECT array_agg(id) FROM taken), {selected}
    FROM (SELECT 1) AS one LEFT JOIN claimed ON true
"""
# The thread's previous item, recorded sent in the same statement (`states.Sent`): a
# different row (that one is sending, the claimed one pending), and conditional as ever.
RECORDED = """recorded AS (
        UPDATE {item} SET state = %(sent_target)s{assignments}
        WHERE id = %(sent_item)s AND state = %(target)s
        RETURNING id
    ), """


def item_claim_next(job: BatchJob, *, sent: states.Sent | None = None) -> JobItem | None:
    """Claim the job's first due pending item (pending → sending) with its ledger rows,
    or None when no item is due. An item whose document another job holds ends `skipped`
    on the way (ledger.item_lose) and the next one is tried.

    `sent`, the thread's previous item, is recorded before anything else: in the claim's
    own statement on PostgreSQL (one round trip per item fewer), else on its own first.
    """
    if db_connection.vendor != "postgresql":
        if sent is not None:
            sent.write()
        return _claim_in_transaction(job)
    for _missed in range(CANDIDATES):
        candidate = _candidate_next(job.pk)
        if candidate is None:
            break
        item, contested = _claim(job, candidate, sent=sent)
        sent = None  # recorded by that statement, whatever it claimed
        if item is None and contested:
            item = _claim_in_transaction(job, item_id=candidate.pk)
        if item is not None:
            return item
    else:
        # Every candidate was gone by the time it was tried (other processes are claiming
        # the same job fast): the first due item, found and claimed in one transaction,
        # ends the run.
        return _claim_in_transaction(job)
    if sent is not None:  # no candidate, so no statement yet
        sent.write()
    return None


def _claim(
    job: BatchJob, candidate: JobItem, *, sent: states.Sent | None = None
) -> tuple[JobItem | None, bool]:
    """The one statement: (the claimed item, or None; whether a ledger row held it back)."""
    actions = ledger.actions_of(job, candidate)
    now = db_connection.ops.adapt_datetimefield_value(timezone.now())
    params = {
        **ledger.account_key(job),
        **{name: getattr(candidate, name) for name in IDENTITY_FIELDS},
        "item": candidate.pk,
        "job": job.pk,
        "source": Item.PENDING,
        "target": Item.SENDING,
        "now": now,
        "actions": actions,
        "wanted": len(actions),
    }
    assignments = None
    if sent is not None:
        assignments, sent_params = sent.assignments()
        params.update(sent_params, sent_item=sent.item_id, sent_target=Item.SENT)
    with statements.cursor() as cursor:
        cursor.execute(_claim_sql(assignments), params)
        was_due, taken, *item = cursor.fetchone()
    if item[0] is not None:
        return statements.instance(JobItem, tuple(item)), False
    if taken:  # some of its rows went in, one did not: they are not the item's now
        ActionClaim.objects.filter(pk__in=taken).delete()
    return None, bool(was_due) and len(taken or ()) < len(actions)


@functools.lru_cache(maxsize=16)
def _claim_sql(assignments: str | None) -> str:
    """The claim, with the previous item's record when `assignments` (its SET list)."""
    table = JobItem._meta.db_table
    recorded = "" if assignments is None else RECORDED.format(item=table, assignments=assignments)
    return CLAIM.format(
        recorded=recorded,
        item=table,
        claim=ActionClaim._meta.db_table,
        returning=statements.columns(JobItem, table=table),
        selected=statements.columns(JobItem, table="claimed"),
    )


def _claim_in_transaction(job: BatchJob, *, item_id: int | None = None) -> JobItem | None:
    """The claim and the ledger in one transaction (the first due item, or `item_id`)."""
    while True:
        with transaction.atomic():
            item = states.item_claim_due(job_id=job.pk, now=timezone.now(), item_id=item_id)
            if item is None:
                return None
            held = ledger.claim_take(job=job, item=item)
            if held is None:
                return item
            ledger.item_lose(job=job, item=item, held=held)
        if item_id is not None:
            return None


_lock = threading.Lock()
_queues: dict[int, deque[JobItem]] = {}  # job id → candidates, in claim order


def _candidate_next(job_id: int) -> JobItem | None:
    """The next candidate of the job for this process; None when none is due."""
    with _lock:
        queue = _queues.get(job_id)
        if queue:
            return queue.popleft()
    due = (
        JobItem.objects.filter(job_id=job_id, state=Item.PENDING)
        .filter(states.due(timezone.now()))
        .order_by(*states.CLAIM_ORDER)
        .only(*IDENTITY_FIELDS)[:CANDIDATES]
    )
    read = deque(due)
    with _lock:
        if not read:
            _queues.pop(job_id, None)
            return None
        if len(_queues) > 1000:  # jobs long finished
            _queues.clear()
        queue = _queues[job_id] = read  # what other threads read meanwhile is older
        return queue.popleft()

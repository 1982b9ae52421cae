"""The at-most-once ledger: each (provider account, document, action) is done once.

A job item takes the ledger row of its document's action in the same transaction
as its pending → sending claim (`engine.item_claim_next`). The row is unique among
active rows (a partial unique index), so of two jobs, two users or a schedule and a
person racing for the same document exactly one holds it; the other item ends
`skipped`, naming the holder. The check at preparation (`holders_for`) only makes
the preview honest; the database decides at the claim.

The row stays while its item is sending, sent or uncertain (the action happened or
may have). It goes when the provider provably did not act (429, 401, a refusal, a
cancel): `claims_release`. "Resend" is a person's choice, for a whole job or one item
(`item_resend`): it retires a finished holder's row and takes a new one, never one that
is still in progress.
"""

from __future__ import annotations

from django.db import connection as db_connection
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from partnerapp.jobs import states
from partnerapp.jobs.models import ActionClaim, BatchJob, JobItem
from partnerapp.jobs.operations import Context
from partnerapp.jobs.outcomes import Outcome, moment, outcome

Item = JobItem.State
FINISHED = {Item.SENT, Item.UNCERTAIN}  # the holder acted, or may have
STALE = {Item.FAILED, Item.SKIPPED}  # a holder in these never acted: its row is left over

# One round trip, no savepoint: a row that loses to the partial unique index is simply not
# inserted (PostgreSQL waits for a concurrent inserter to commit first), and RETURNING
# says which happened — Django's bulk_create(ignore_conflicts=True) cannot tell.
INSERT = """
    INSERT INTO {table}
        (base_url, account_id, document, document_id, action, item_id, active, created_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT DO NOTHING
    RETURNING id
"""


def account_key(job: BatchJob) -> dict:
    """The provider account and document kind a job's ledger rows are about."""
    connection = job.connection
    return {
        "base_url": connection.base_url.rstrip("/"),
        "account_id": connection.account_id,
        "document": job.operation.document,
    }


def actions_of(job: BatchJob, item: JobItem) -> list[str]:
    """The ledger identities of the item's steps not done yet (one per step)."""
    return job.operation.ledger_actions(item, Context(job.operation, job.parameters))


def claim_take(*, job: BatchJob, item: JobItem) -> ActionClaim | None:
    """Take the ledger rows of `item`'s remaining steps (inside the claim's transaction).

    Returns None when the item holds them all now (or held them already: it resumes,
    or a person reopened it), else the row of another item that holds one; the rows
    inserted here are then given back (the transaction goes on to skip the item).
    """
    inserted: list[int] = []
    for action in actions_of(job, item):
        key = {**account_key(job), "document_id": item.document_id, "action": action}
        held = _take(key, job=job, item=item, inserted=inserted)
        if held is not None:
            ActionClaim.objects.filter(pk__in=inserted).delete()
            return held
    return None


def _take(key: dict, *, job: BatchJob, item: JobItem, inserted: list[int]) -> ActionClaim | None:
    """One row: None when the item holds it (new ids go to `inserted`), else its holder."""
    for _attempt in range(3):
        new_id = _insert(key, item_id=item.pk)
        if new_id is not None:
            inserted.append(new_id)
            return None
        held = _holder(key)
        if held is None:
            continue  # released between our insert and our look: try again
        if held.item_id == item.pk:
            return None
        if not _may_retire(held, resend=bool(job.parameters.get("resend")) or item.resend):
            return held
        ActionClaim.objects.filter(pk=held.pk, active=True).update(active=False)
    held = _holder(key)
    return None if held is not None and held.item_id == item.pk else held


def _insert(key: dict, *, item_id: int) -> int | None:
    """The new row's id, or None when an active row for `key` exists."""
    values = [*key.values(), item_id, True, timezone.now()]
    values[-1] = db_connection.ops.adapt_datetimefield_value(values[-1])
    with db_connection.cursor() as cursor:
        cursor.execute(INSERT.format(table=ActionClaim._meta.db_table), values)
        row = cursor.fetchone()
    return row[0] if row is not None else None


def _holder(key: dict) -> ActionClaim | None:
    return ActionClaim.objects.filter(active=True, **key).select_related("item__job").first()


def _may_retire(held: ActionClaim, *, resend: bool) -> bool:
    """A leftover row always; a finished holder's row only for a job told to resend."""
    if held.item is None:
        return resend
    if held.item.state in STALE:
        return True
    return resend and held.item.state in FINISHED


def claims_release(item_ids) -> int:
    """The provider provably did not act for these items: free their documents."""
    return ActionClaim.objects.filter(item_id__in=list(item_ids), active=True).delete()[0]


def claims_release_skipped(job: BatchJob) -> int:
    """Free the documents of the job's skipped items (a cancel skips what was pending),
    except where an earlier step of the item took effect: that stays done."""
    rows = ActionClaim.objects.filter(
        item__job=job, item__state=Item.SKIPPED, item__step=0, active=True
    )
    return rows.delete()[0]


def item_lose(*, job: BatchJob, item: JobItem, held: ActionClaim) -> None:
    """The claimed `item` lost the ledger to `held`: it ends skipped, naming the holder.

    Runs in the claim's transaction, so nobody ever saw the item `sending`.
    """
    states.item_move(
        JobItem.objects.filter(pk=item.pk),
        source=Item.SENDING,
        target=Item.SKIPPED,
        attempts=F("attempts") - 1,
        **conflict_reason(held, job).fields(),
        conflict_item=held.item,
        finished_at=timezone.now(),
    )


def identity(item: JobItem) -> tuple[int, str]:
    """What the ledger tells items of one job apart by: the document, and the item's key
    (one document may have several items, e.g. two bank payments of one invoice)."""
    return item.document_id, item.key


def holders_for(job: BatchJob, items: list[JobItem]) -> dict[tuple[int, str], ActionClaim]:
    """The ledger rows other items hold for these items' actions that stop this job, by
    `identity` (for the preview: a resend job is stopped only by what is still in progress)."""
    resend = bool(job.parameters.get("resend"))
    return {
        key: row for key, row in rows_for(job, items).items() if not _may_retire(row, resend=resend)
    }


def rows_for(job: BatchJob, items: list[JobItem]) -> dict[tuple[int, str], ActionClaim]:
    """Every active ledger row of another item for these items' actions, by `identity`."""
    if not items:
        return {}
    rows = ActionClaim.objects.filter(
        active=True,
        **account_key(job),
        document_id__in={item.document_id for item in items},
    ).select_related("item__job")
    wanted: dict[int, list[tuple[tuple[int, str], set[str]]]] = {}
    for item in items:
        wanted.setdefault(item.document_id, []).append((identity(item), set(actions_of(job, item))))
    mine = {item.pk for item in items if item.pk is not None}
    found: dict[tuple[int, str], ActionClaim] = {}
    for row in rows.order_by("pk"):
        if row.item_id is not None and row.item_id in mine:
            continue
        for key, actions in wanted.get(row.document_id, ()):
            if row.action in actions:
                found.setdefault(key, row)
    return found


REFRESH_MAX = 5000  # items re-checked per call; a bigger job is checked again at the claim


def skip_held(job: BatchJob) -> int:
    """Pending items whose document another item holds by now end skipped, naming it.

    Preparation looked once; the preview and the confirm look again, so a job prepared
    before another one ran says what it will really do. Returns how many were skipped.
    A resend job is left alone: it retires finished holders at its claims.
    """
    if job.parameters.get("resend"):
        return 0
    pending = job.items.filter(state=Item.PENDING, resend=False)
    items = list(pending.filter(_held_by_others(job, pending)).order_by("pk")[:REFRESH_MAX])
    holders = holders_for(job, items)
    skipped = 0
    for item in items:
        claim = holders.get(identity(item))
        if claim is not None:
            skipped += states.item_move(
                JobItem.objects.filter(pk=item.pk),
                source=Item.PENDING,
                target=Item.SKIPPED,
                **conflict_reason(claim, job).fields(),
                conflict_item=claim.item,
                finished_at=timezone.now(),
            )
    return skipped


def _held_by_others(job: BatchJob, pending) -> Q:
    """Items one of whose step actions another job's active row holds, in SQL.

    A step's identity may depend on the document's status when prepared (a status
    change names its from-status), so the condition is built per status present.
    """
    condition = Q(pk__in=[])
    statuses = pending.order_by().values_list("document_status", flat=True).distinct()
    for status in statuses:
        actions = actions_of(job, JobItem(document_id=0, document_status=status))
        if not actions:
            continue  # steps that take no ledger row (reads) are held by nobody
        held = ActionClaim.objects.filter(
            active=True, **account_key(job), document_id=OuterRef("document_id"), action__in=actions
        ).exclude(item__job_id=job.pk)
        condition |= Q(document_status=status) & Exists(held)
    return condition


def conflict_reason(held: ActionClaim, job: BatchJob) -> Outcome:
    """Why an item was skipped for `held`: an outcome that names the other job."""
    return conflict_outcome(held.item, job)


def conflict_sentence(other: JobItem | None, job: BatchJob) -> str:
    """`conflict_outcome` said in the active language."""
    return conflict_outcome(other, job).say(job=job)


def conflict_outcome(other: JobItem | None, job: BatchJob) -> Outcome:
    """The outcome of an item of `job` that another item (`other`) beat to its document.

    Another organization's job is not named (its number is theirs), only that it happened.
    """
    if other is None:
        return outcome("conflict.earlier")
    when = moment(other.finished_at)
    if other.job.organization_id != job.organization_id:
        if other.state == Item.SENT:
            return outcome("conflict.other_user_done", when=when)
        return outcome("conflict.other_user_busy")
    if other.state == Item.UNCERTAIN:
        return outcome("conflict.uncertain", job=other.job_id)
    if other.state != Item.SENT:
        return outcome("conflict.in_progress", job=other.job_id)
    if job.operation.sends:
        return outcome("conflict.sent", job=other.job_id, when=when)
    return outcome("conflict.done", job=other.job_id, when=when)

"""How a job item's outcome reads on a page."""

from django import template

from partnerapp.jobs import ledger
from partnerapp.jobs.models import BatchJob, JobItem

register = template.Library()


@register.filter
def confirm_label(job: BatchJob, count: int) -> str:
    """The preview's confirm button in the words of the job's operation."""
    return job.operation.confirm_label(int(count or 0))


@register.filter
def outcome_for(item: JobItem, job: BatchJob) -> str:
    """The item's outcome; for a ledger skip, said now in the reader's language and with
    the holder as it stands now ("in progress in job #13" becomes "already sent by …")."""
    if item.state == JobItem.State.SKIPPED and item.conflict_item_id:
        return ledger.conflict_sentence(item.conflict_item, job)
    return item.outcome

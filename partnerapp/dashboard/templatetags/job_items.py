"""How a job item's outcome reads on a page."""

from django import template

from partnerapp.jobs import outcomes, services
from partnerapp.jobs.models import BatchJob, JobItem

register = template.Library()


@register.filter
def confirm_label(job: BatchJob, count: int) -> str:
    """The preview's confirm button in the words of the job's operation."""
    return job.operation.confirm_label(int(count or 0))


@register.filter
def outcome_for(item: JobItem, job: BatchJob | None = None) -> str:
    """The item's outcome in the reader's language (`jobs/outcomes.py`); a ledger skip names
    the holder as it stands now ("in progress in job #13" becomes "already sent by …")."""
    return outcomes.render(item, job)


@register.filter
def recipient_editable(item: JobItem, job: BatchJob) -> bool:
    """Whether a person may correct the item's refused address and send it again."""
    return services.item_recipient_editable(item, job)

"""Reminder history on the pages that show an invoice (`reminders.reminder_history`)."""

from django import template

from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.jobs.operations.reminders import Reminder, reminder_history
from partnerapp.smartbusiness.vocabulary import status_label

register = template.Library()


@register.filter
def reminders_of(history: dict[int, list[Reminder]], document_id) -> list[Reminder]:
    """One invoice's reminders from a page's history (looked up once for the page)."""
    try:
        return history.get(int(document_id), [])
    except (AttributeError, TypeError, ValueError):
        return []


@register.simple_tag
def item_reminders(item: JobItem, job: BatchJob) -> list[Reminder]:
    """The reminders the job's owner sent for the item's invoice (one query). The job
    item page asks here rather than in its view, which another part of the app owns."""
    if job.operation.document != "invoice":
        return []
    history = reminder_history(job.connection, [item.document_id], organization=job.organization_id)
    return history.get(item.document_id, [])


@register.filter
def level_label(level: str) -> str:
    """ "1st reminder" for R1."""
    return status_label(level) if level else "—"

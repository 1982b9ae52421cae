from celery import shared_task

from partnerapp.organizations import audit


@shared_task
def audit_purge() -> int:
    """Periodic (celery beat, daily): audit events older than their organization's
    retention go; returns how many."""
    return audit.audit_purge()

from celery import shared_task

from partnerapp.api import idempotency


@shared_task
def idempotency_purge() -> int:
    """Periodic (celery beat, hourly): idempotency keys past their 24 hours go."""
    return idempotency.idempotency_purge()

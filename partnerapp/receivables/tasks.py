"""Celery tasks: thin — take ids, call one service."""

from celery import shared_task

from partnerapp.receivables import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def bank_upload_match(upload_id: int) -> None:
    later = services.upload_match(upload_id=upload_id)
    if later is not None:
        bank_upload_match.apply_async((upload_id,), countdown=later.delay)

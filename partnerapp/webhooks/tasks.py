"""Celery tasks: thin — take ids, call one service, enqueue the next attempt.

A retry is a new row (attempt + 1) enqueued with a countdown; if that message is lost
(a broker restart), the beat sweep finds the overdue row and enqueues it again. The
claim in `delivery_attempt` makes a second message for the same row harmless.
"""

from celery import shared_task
from django.utils import timezone

from partnerapp.webhooks import delivery, services
from partnerapp.webhooks.models import WebhookDelivery


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver(delivery_id: int) -> None:
    following = delivery.delivery_attempt(delivery_id=delivery_id)
    if following is not None:
        enqueue(following)


def enqueue(pending: WebhookDelivery) -> None:
    countdown = max(0.0, (pending.next_attempt_at - timezone.now()).total_seconds())
    deliver.apply_async((pending.pk,), countdown=countdown)


@shared_task
def sweep() -> None:
    """Periodic (celery beat): lost or stuck deliveries go out again; endpoints failing
    too long are switched off even when no new event comes."""
    for pending in WebhookDelivery.objects.filter(pk__in=delivery.deliveries_overdue()):
        enqueue(pending)
    services.endpoints_disable_failing()

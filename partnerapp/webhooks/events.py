"""What happened, as webhook events: `emit()` and one builder per event type.

The modules where things happen (jobs, connections) call the builders lazily (inside
the function: webhooks imports jobs and connections, never the reverse). Payloads carry
ids, names, counts and links — never a token, a secret or an e-mail body.

`emit` stores the event and one pending delivery per enabled endpoint subscribed to
it, in the caller's transaction; the deliveries are enqueued only after it commits, so
a rolled-back change sends nothing.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.urls import reverse

from partnerapp.connections.notifications import site_url
from partnerapp.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint, WebhookEvent


def emit(organization_id: int, type: str, payload: dict[str, Any]) -> WebhookEvent | None:
    """Store `type` with `payload` for the organization's subscribed endpoints; None when
    no enabled endpoint wants it (nothing is stored)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {type!r}")
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            organization_id=organization_id, enabled=True
        )
        if endpoint.subscribes(type)
    ]
    if not endpoints:
        return None
    event = WebhookEvent.objects.create(organization_id=organization_id, type=type, payload=payload)
    deliveries_enqueue([WebhookDelivery.objects.create(event=event, endpoint=e) for e in endpoints])
    return event


def deliveries_enqueue(deliveries: list[WebhookDelivery]) -> None:
    """Hand the deliveries to the workers once the current transaction commits."""
    from partnerapp.webhooks import tasks

    for delivery in deliveries:
        transaction.on_commit(partial(tasks.deliver.delay, delivery.pk))


# -- one builder per event type ------------------------------------------------------------


def job_finished(job, counts: dict[str, int]) -> None:
    emit(job.organization_id, "job.finished", {"job": _job(job), "counts": _counts(counts)})


def job_paused(job) -> None:
    payload = {"job": _job(job), "reason": job.pause_reason, "message": job.error[:500]}
    emit(job.organization_id, "job.paused", payload)


def items_uncertain(items) -> None:
    """One event per item that just became uncertain."""
    for item in items.select_related("job"):
        payload = {
            "job": _job(item.job),
            "item": {
                "id": item.pk,
                "document_id": item.document_id,
                "document_number": item.document_number,
                "step": item.step,
                "outcome": item.outcome[:500],  # English; the code says it in any language
                "outcome_code": item.outcome_code,
                "outcome_params": item.outcome_params,
                "url": site_url(reverse("dashboard:job_item", args=[item.job_id, item.pk])),
            },
        }
        emit(item.job.organization_id, "job.item_uncertain", payload)


def connection_needs_reauth(connection) -> None:
    payload = {"connection": _connection(connection), "reason": connection.last_error[:500]}
    emit(connection.organization_id, "connection.needs_reauth", payload)


def connection_recovered(connection) -> None:
    emit(
        connection.organization_id, "connection.recovered", {"connection": _connection(connection)}
    )


def connect_link_completed(link) -> None:
    payload = {
        "connect_link": {
            "id": link.pk,
            "client_name": link.client_name,
            "completed_at": link.completed_at.isoformat() if link.completed_at else None,
        },
        "connection": _connection(link.connection),
    }
    emit(link.organization_id, "connect_link.completed", payload)


def payment_import_finished(job, counts: dict[str, int]) -> None:
    upload_id = (job.selection or {}).get("bank_upload")
    payload = {
        "job": _job(job),
        "bank_upload": {
            "id": upload_id,
            "url": site_url(reverse("dashboard:bank_file", args=[upload_id]))
            if upload_id
            else None,
        },
        "counts": _counts(counts),
    }
    emit(job.organization_id, "payment_import.finished", payload)


def _job(job) -> dict[str, Any]:
    return {
        "id": job.pk,
        "action": job.action,
        "name": str(job),
        "status": job.status,
        "connection_id": job.connection_id,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "url": site_url(reverse("dashboard:job", args=[job.pk])),
    }


def _connection(connection) -> dict[str, Any]:
    return {
        "id": connection.pk,
        "account_id": connection.account_id,
        "owner_name": connection.owner_name,
        "status": connection.status,
        "url": site_url(reverse("dashboard:connection", args=[connection.pk])),
    }


def _counts(counts: dict[str, int]) -> dict[str, int]:
    keys = ("total", "sent", "failed", "skipped", "uncertain")
    return {key: counts.get(key, 0) for key in keys}

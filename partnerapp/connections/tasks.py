"""Periodic upkeep of connections (celery beat)."""

from celery import shared_task

from partnerapp.connections import requestlog, services


@shared_task
def refresh_idle_connections() -> dict[str, int]:
    return services.connections_refresh_idle()


@shared_task
def purge_request_log() -> int:
    return requestlog.entries_purge()

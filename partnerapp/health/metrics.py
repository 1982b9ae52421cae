"""Prometheus metrics, computed at scrape time from our own tables and the broker.

Work happens in many Celery processes on many hosts, so nothing is counted in
process memory: every figure is read where the truth is — the request log, the
job items, the connections, the broker's queue. One scrape costs a handful of
grouped queries (see `QUERIES`) and one broker round trip.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from partnerapp.connections.models import Connection, RequestLogEntry
from partnerapp.jobs.models import BatchJob, JobItem

RECENT = timedelta(minutes=5)
REFRESH_CALL_PATH = "/auth/access-tokens"
QUERIES = 5


def _status_label(status: int | None) -> str:
    return str(status) if status is not None else "none"


class PartnerappCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._calls()
        yield from self._refreshes()
        yield self._grouped(
            "partnerapp_job_items", "Job items by state.", JobItem, "state", JobItem.State.values
        )
        yield self._grouped(
            "partnerapp_jobs", "Batch jobs by status.", BatchJob, "status", BatchJob.Status.values
        )
        yield self._grouped(
            "partnerapp_connections", "Connections by status.", Connection, "status",
            Connection.Status.values,
        )  # fmt: skip
        yield self._queue_depth()

    def _calls(self) -> Iterator[GaugeMetricFamily]:
        """Provider calls by status: in the request log (retention window) and recently."""
        since = timezone.now() - RECENT
        rows = (
            RequestLogEntry.objects.exclude(path=REFRESH_CALL_PATH)
            .values("status")
            .annotate(total=Count("pk"), recent=Count("pk", filter=Q(created_at__gte=since)))
        )
        logged = GaugeMetricFamily(
            "partnerapp_provider_calls_logged",
            f"Provider API calls in the request log (last {settings.REQUEST_LOG_RETENTION_DAYS} "
            "days) by HTTP status; 'none' = no answer.",
            labels=["status"],
        )
        recent = GaugeMetricFamily(
            "partnerapp_provider_calls_recent",
            "Provider API calls in the last 5 minutes by HTTP status (429: rate limited).",
            labels=["status"],
        )
        for row in rows:
            label = _status_label(row["status"])
            logged.add_metric([label], row["total"])
            recent.add_metric([label], row["recent"])
        yield logged
        yield recent

    def _refreshes(self) -> Iterator[GaugeMetricFamily]:
        """Token refreshes (and client-credential renewals) in the last 24 h by outcome."""
        rows = (
            RequestLogEntry.objects.filter(
                path=REFRESH_CALL_PATH, created_at__gte=timezone.now() - timedelta(hours=24)
            )
            .values("status")
            .annotate(n=Count("pk"))
        )
        family = GaugeMetricFamily(
            "partnerapp_token_refreshes_24h",
            "Token refreshes in the last 24 h by outcome (ok, refused, failed).",
            labels=["outcome"],
        )
        outcomes = {"ok": 0, "refused": 0, "failed": 0}
        for row in rows:
            status = row["status"]
            outcome = "ok" if status and status < 300 else "refused" if status == 401 else "failed"
            outcomes[outcome] += row["n"]
        for outcome, count in outcomes.items():
            family.add_metric([outcome], count)
        yield family

    @staticmethod
    def _grouped(name: str, documentation: str, model, field: str, values) -> GaugeMetricFamily:
        counts = dict.fromkeys(values, 0)
        for row in model.objects.values(field).annotate(n=Count("pk")):
            counts[row[field]] = row["n"]
        family = GaugeMetricFamily(name, documentation, labels=[field])
        for value, count in counts.items():
            family.add_metric([value], count)
        return family

    @staticmethod
    def _queue_depth() -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "partnerapp_queue_depth",
            "Tasks waiting in the Celery queue (-1: the broker did not answer).",
            labels=["queue"],
        )
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        family.add_metric([queue], queue_depth(queue))
        return family


def queue_depth(queue: str) -> int:
    """Messages ready in `queue`: a passive declare, which Redis, AMQP and the
    filesystem transport all answer with the message count."""
    from partnerapp.celery import app

    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(
                max_retries=1, timeout=settings.HEALTH_BROKER_TIMEOUT_SECONDS
            )
            _, count, _ = connection.default_channel.queue_declare(queue=queue, passive=True)
    except Exception:
        return -1
    return int(count)

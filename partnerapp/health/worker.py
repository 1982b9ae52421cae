"""The worker heartbeat: a Celery consumer bootstep that writes a row while consuming.

It is a *consumer* step, so it runs exactly while the worker is connected to the
broker and consuming: Celery stops it when the broker connection is lost (the row
is deleted and /health/ reports the worker gone) and starts it again on reconnect.
The writes happen in a small thread of the worker's main process, not in a task,
so a full queue or busy pool does not make a live worker look dead, and no celery
beat is needed. The thread closes its database connection after every write:
the prefork pool forks children from this process.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from celery import bootsteps
from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

logger = logging.getLogger(__name__)
FORGET_AFTER = timedelta(days=1)  # rows of workers that died without saying goodbye


def heartbeat_write(hostname: str) -> None:
    from partnerapp.health.models import WorkerHeartbeat

    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"last_seen_at": now},
        create_defaults={"started_at": now, "last_seen_at": now},
    )
    WorkerHeartbeat.objects.filter(last_seen_at__lt=now - FORGET_AFTER).delete()


def heartbeat_forget(hostname: str) -> None:
    from partnerapp.health.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(hostname=hostname).delete()


class Heartbeat(bootsteps.StartStopStep):
    """Consumer step: start/stop the heartbeat thread with the consumer."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, parent) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._beat, args=(parent.hostname,), name="partnerapp-heartbeat", daemon=True
        )
        self._thread.start()

    def stop(self, parent) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout=10)
        self._thread = None
        self._quietly(heartbeat_forget, parent.hostname)

    shutdown = stop

    def _beat(self, hostname: str) -> None:
        interval = settings.HEALTH_WORKER_HEARTBEAT_SECONDS
        while not self._stopping.is_set():
            self._quietly(heartbeat_write, hostname)
            self._stopping.wait(interval)

    @staticmethod
    def _quietly(action, hostname: str) -> None:
        """A heartbeat that cannot be written is a health finding, not a worker crash."""
        try:
            action(hostname)
        except DatabaseError:
            logger.warning("worker heartbeat: database unavailable", exc_info=True)
        finally:
            connections.close_all()

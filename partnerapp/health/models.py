from django.db import models


class WorkerHeartbeat(models.Model):
    """The last sign of life of one Celery worker, written by the worker itself.

    A row exists while the worker consumes tasks (see `worker.py`); a worker that
    stops cleanly deletes its row, one that dies leaves it to go stale.
    """

    hostname = models.CharField(max_length=255, unique=True)  # celery@host, unique per worker
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.hostname} (last seen {self.last_seen_at:%Y-%m-%d %H:%M:%S})"

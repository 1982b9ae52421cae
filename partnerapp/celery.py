"""The Celery app, per the official Django recipe."""

import os
import sys

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerapp.settings")

app = Celery("partnerapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Observability: Django's LOGGING in workers and beat, job ids bound to every task's log
# lines (signal receivers, connected on import), and the worker heartbeat behind /health/.
import partnerapp.observability  # noqa: E402, F401
from partnerapp.health.worker import Heartbeat  # noqa: E402

app.steps["consumer"].add(Heartbeat)


@signals.worker_init.connect
def _prompt_thread_switches(**kwargs) -> None:
    """Worker threads mostly wait for the provider and the database. When an answer
    arrives, its thread should get the interpreter within a millisecond instead of
    Python's default 5 ms behind a busy sibling (measured with bench_jobs.py)."""
    sys.setswitchinterval(0.001)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender=None, **kwargs) -> None:
    """Around each task, as Django does around a request: close this thread's database
    connections that broke or outlived DATABASE_CONN_MAX_AGE (CELERY_DB_REUSE_MAX keeps
    Celery's fix-up from closing every one after every task). Not around a task applied
    eagerly, in its caller's thread: the caller's transaction holds that connection."""
    from django.db import close_old_connections

    if sender is None or getattr(sender.request, "is_eager", False):
        return
    close_old_connections()

"""The Celery app, per the official Django recipe."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerapp.settings")

app = Celery("partnerapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Observability: Django's LOGGING in workers and beat, job ids bound to every task's log
# lines (signal receivers, connected on import), and the worker heartbeat behind /health/.
import partnerapp.observability  # noqa: E402, F401
from partnerapp.health.worker import Heartbeat  # noqa: E402

app.steps["consumer"].add(Heartbeat)

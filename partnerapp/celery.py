"""The Celery app, per the official Django recipe."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerapp.settings")

app = Celery("partnerapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

"""Test settings: the real settings, plus what keeps concurrent test runs apart.

Worker subprocesses started by the tests import this module too; the values
that must agree between the test process and its workers travel in os.environ.
"""

import os
import uuid

# One queue per test session, so a worker of another run never steals our tasks.
os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", f"partnerapp-test-{uuid.uuid4().hex[:10]}")
os.environ.setdefault("CELERY_BROKER_DIR", "test-broker")
os.environ.setdefault("JOB_SLICE_SECONDS", "1")
# Playwright's sync API keeps an event loop in the test thread; the ORM calls the tests
# make there are still synchronous, so Django's async guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from partnerapp.settings import *  # noqa: F403
from partnerapp.settings import DATABASES, VAR_DIR

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: worker subprocesses must see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_RATE_LIMITS = False
# The browser tests register security keys on http://localhost (live_server).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# The webhook tests' receiver listens on 127.0.0.1 (refused in production).
WEBHOOKS_ALLOW_PRIVATE_URLS = True

"""`make demo`: prepare everything on embedded defaults, then run web, worker and beat.

Safe to run again: migrations, seeding, the client registration and the demo
user are all idempotent, and the data under var/ is kept. Ctrl-C stops every
process this command started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

PARTNER_EMAIL = "demo@partnerapp.example"
PARTNER_PASSWORD = "partnerapp-demo"  # noqa: S105 - a printed demo login, not a secret
OWNER_EMAIL = "owner@sandbox.example"
OWNER_PASSWORD = "sandbox-owner"  # noqa: S105


class Command(BaseCommand):
    help = "Run partnerapp with the sandbox provider, a Celery worker and celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--invoices", type=int, default=60)
        parser.add_argument("--prepare-only", action="store_true", help="set up, do not serve")

    def handle(self, *args, invoices: int, prepare_only: bool, **options):
        port = settings.PORT
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        call_command("sandbox_seed", invoices=invoices, password=OWNER_PASSWORD)
        call_command(
            "sandbox_register_client",
            client_id=settings.SMARTBUSINESS_CLIENT_ID,
            secret=settings.SMARTBUSINESS_CLIENT_SECRET,
            name="partnerapp (demo)",
            redirect_uris=[
                f"http://127.0.0.1:{port}/connections/callback/",
                f"http://localhost:{port}/connections/callback/",
            ],
        )
        self._partner_user()
        self._banner(port)
        if not prepare_only:
            self._run(port)

    def _partner_user(self) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(email=PARTNER_EMAIL).first()
        if user is None:
            user = user_model.objects.create_user(
                username=PARTNER_EMAIL, email=PARTNER_EMAIL, password=PARTNER_PASSWORD
            )
            EmailAddress.objects.create(user=user, email=PARTNER_EMAIL, verified=True, primary=True)

    def _banner(self, port: int) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"\npartnerapp demo: http://127.0.0.1:{port}/\n"
                f"  partner login (partnerapp):      {PARTNER_EMAIL} / {PARTNER_PASSWORD}\n"
                f"  account owner (sandbox consent): {OWNER_EMAIL} / {OWNER_PASSWORD}\n"
                f"  sandbox provider:                http://127.0.0.1:{port}/sandbox/ "
                f"(outbox, connected apps)\n"
                f"Ctrl-C stops the web server, the worker and beat.\n"
            )
        )

    def _run(self, port: int) -> None:
        python = sys.executable
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "partnerapp",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "-Q",
                queue,
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "partnerapp",
                "beat",
                "--loglevel=INFO",
                "-s",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        children = {
            name: subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=os.environ.copy())  # noqa: S603
            for name, cmd in commands.items()
        }
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with {child.returncode}; stopping")
                        stopping = True
                time.sleep(0.5)
        finally:
            self._stop(children)

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write("demo stopped")

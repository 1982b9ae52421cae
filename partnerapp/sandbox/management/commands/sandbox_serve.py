"""Serve the sandbox alone, on its own port, under gunicorn (a production WSGI server).

Threads, not only processes: with injected latency most requests sleep, so 2 workers
x 16 threads keep 32 requests in flight on a 2-core machine (4 x 8 measured no better
without latency: tests/benchmarks/bench_sandbox_throughput.py --workers --threads).
It serves partnerapp.sandbox.wsgi, where API calls skip the site's middleware.
Point partnerapp at it with SMARTBUSINESS_BASE_URL=http://127.0.0.1:<port>/sandbox/v2.
"""

import os
import shutil
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the sandbox provider alone under gunicorn (default 127.0.0.1:8001)."
    DEFAULT_WORKERS = 2
    DEFAULT_THREADS = 16

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8001")
        parser.add_argument("--workers", type=int, default=self.DEFAULT_WORKERS)
        parser.add_argument("--threads", type=int, default=self.DEFAULT_THREADS, help="per worker")

    def handle(self, *args, bind: str, workers: int, threads: int, **options):
        if not settings.SANDBOX_ENABLED:
            raise CommandError("SANDBOX_ENABLED is off: this server has no sandbox to serve.")
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which(
            "gunicorn"
        )
        if gunicorn is None:
            raise CommandError("gunicorn is not installed: pip install -e '.[production]'")
        command = [
            gunicorn,
            "partnerapp.sandbox.wsgi:application",
            f"--bind={bind}",
            f"--workers={workers}",
            "--worker-class=gthread",
            f"--threads={threads}",
            # Longer than any held "lost" response, so the fault is the client's timeout.
            "--timeout=120",
            # Each instance on its own: two sandboxes (a demo and a benchmark, say) would
            # otherwise share ~/.gunicorn/gunicorn.ctl and one would steer the other.
            "--no-control-socket",
            "--access-logfile=-" if options["verbosity"] > 1 else "--access-logfile=/dev/null",
        ]
        # A connection per thread kept open: opening one per request halves throughput.
        os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")
        self.stdout.write(f"sandbox at http://{bind}/sandbox/ ({workers}x{threads} threads)")
        os.execv(gunicorn, command)  # noqa: S606 - replace this process: signals reach gunicorn

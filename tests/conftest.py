"""Fixtures shared by the whole suite: personas, the sandbox over HTTP, a real Celery worker.

REQUIRE_ALL=1 (set by CI) turns every "component missing" skip into a failure:
PostgreSQL, a real broker, Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import translation

from tests import journeys
from tests.factories import UserFactory

REQUIRE_ALL = os.environ.get("REQUIRE_ALL") == "1"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "var" / "test-artifacts"


def require(condition: bool, reason: str) -> None:
    """Skip when a component is missing; under REQUIRE_ALL=1, fail instead."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


def require_postgresql() -> None:
    require(db_connection.vendor == "postgresql", "this test needs PostgreSQL (DATABASE_URL)")


def require_real_broker() -> None:
    broker = settings.CELERY_BROKER_URL
    require(
        broker.startswith(("redis://", "amqp://", "pyamqp://")),
        "this test needs a real broker (CELERY_BROKER_URL=redis://… or amqp://…)",
    )


@pytest.fixture(autouse=True)
def _language_reset():
    """A page asked for in German leaves German active in this thread (LocaleMiddleware
    activates, nothing deactivates): the next test must start in the default language."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


# -- personas ---------------------------------------------------------------------------


@pytest.fixture
def partner(db):
    """The partner user who owns the connections in a test."""
    return UserFactory(email="partner@example.com")


@pytest.fixture
def outsider(db):
    """Another signed-up user, who must see nothing of the partner's."""
    return UserFactory(email="outsider@example.com")


# -- the sandbox provider over real HTTP --------------------------------------------------


@pytest.fixture
def sandbox(live_server, settings, transactional_db):
    """The sandbox at the live server: base URL set, our client registered, one owner seeded."""
    base_url = f"{live_server.url}/sandbox/v2"
    settings.SMARTBUSINESS_BASE_URL = base_url
    return journeys.Sandbox.prepare(live_server.url)


@pytest.fixture
def connect(sandbox, partner):
    """Run the real consent flow over HTTP and return the stored Connection."""

    def _connect(*, user=None, scopes=("profile", "invoice", "contact"), owner=None):
        return journeys.connect_account(
            sandbox, user=user or partner, scopes=list(scopes), owner=owner or sandbox.owner
        )

    return _connect


# -- a real Celery worker ---------------------------------------------------------------------


class WorkerProcess:
    """`celery worker` in a subprocess on the configured broker and the test database."""

    ready_marker = b"ready."

    def __init__(self, env: dict[str, str], name: str) -> None:
        self.env, self.name = env, name
        self.process: subprocess.Popen | None = None
        self.log = ARTIFACTS / f"worker-{name}.log"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "partnerapp",
            "worker",
            "--loglevel=INFO",
            "--pool=prefork",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "-n",
            f"{self.name}@%h",
        ]

    def start(self) -> WorkerProcess:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.log_offset = log.tell()
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early; see {self.log}")
            if self.ready_marker in self.log.read_bytes()[self.log_offset :]:
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker did not become ready; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait()

    def stop(self) -> None:
        """Warm shutdown: the main process finishes its tasks and stops its pool."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(base_url: str) -> dict[str, str]:
    db = db_connection.settings_dict
    if db_connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
        database_url = (
            f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        database_url = f"sqlite:///{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,
        "SMARTBUSINESS_BASE_URL": base_url,
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
    }


class BeatProcess(WorkerProcess):
    """`celery beat` in a subprocess: the periodic sweeper and schedule ticks, for real."""

    ready_marker = b"beat: Starting"

    def command(self) -> list[str]:
        schedule = ARTIFACTS / f"beat-{self.name}.schedule"
        schedule.unlink(missing_ok=True)
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "partnerapp",
            "beat",
            "--loglevel=INFO",
            "-s",
            str(schedule),
        ]


@pytest.fixture
def start_worker(sandbox, request):
    """Start real worker (or beat) processes for this test; stopped (or killed) after it.

    `env` adds settings for the subprocesses only (e.g. a short sweep interval).
    """
    workers: list[WorkerProcess] = []
    purge_test_queue()  # no task of an earlier test may touch this test's rows

    def _start(name: str = "w1", *, env: dict | None = None, beat: bool = False):
        cls = BeatProcess if beat else WorkerProcess
        environment = {**worker_env(settings.SMARTBUSINESS_BASE_URL), **(env or {})}
        process = cls(environment, f"{name}-{os.getpid()}")
        workers.append(process.start())
        return process

    yield _start
    for worker in workers:
        worker.stop()
    purge_test_queue()


def purge_test_queue() -> None:
    from partnerapp.celery import app

    with app.connection_for_write() as connection:
        app.amqp.queues[settings.CELERY_TASK_DEFAULT_QUEUE].bind(connection.default_channel).purge()


@pytest.fixture
def worker(start_worker):
    return start_worker()


# -- headless Chromium ------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(request):
    """Save a full-page screenshot under var/test-artifacts/<test name>/."""
    folder = ARTIFACTS / request.node.name.replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def _shot(page, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot

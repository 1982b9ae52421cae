"""Refresh tokens work exactly once: concurrent users of one connection refresh it once,
and a crash between the provider's answer and our commit ends in a clear needs_reauth.
"""

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import connections as db_connections
from django.utils import timezone

from partnerapp.connections.models import Connection
from partnerapp.connections.services import ConnectionUnusable, connection_call
from partnerapp.sandbox.models import AccessToken, RefreshToken, digest
from tests.conftest import ARTIFACTS, ROOT, worker_env

THREADS = 8
PROCESSES = 8


def expired(connection: Connection) -> Connection:
    connection.access_token_expires_at = timezone.now() - timedelta(seconds=1)
    connection.save()
    return connection


SPAWNED: list[subprocess.Popen] = []


def spawn(connection: Connection, settings, *flags: str) -> subprocess.Popen:
    """A connection_worker process, started and waiting for "go" on its stdin.

    Its stdout carries only the protocol lines; its logs go to var/test-artifacts.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / "connection-workers.log", "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.connections.connection_worker",
                str(connection.pk),
                *flags,
            ],
            cwd=ROOT,
            env=worker_env(settings.SMARTBUSINESS_BASE_URL),
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    SPAWNED.append(process)
    assert process.stdout.readline().strip() == "ready"
    return process


@pytest.fixture(autouse=True)
def no_worker_outlives_its_test():
    """A leftover worker holding a row lock would block the next test's flush."""
    yield
    while SPAWNED:
        process = SPAWNED.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sixteen_concurrent_users_cause_exactly_one_refresh(connect, sandbox, settings):
    connection = expired(connect())
    processes = [spawn(connection, settings) for _ in range(PROCESSES)]
    go = threading.Event()
    results: list[str] = []

    def in_a_thread() -> None:
        go.wait()
        try:
            owner = connection_call(Connection.objects.get(pk=connection.pk), lambda a: a.owner())
            results.append(f"ok {owner['id']}")
        except Exception as exc:
            results.append(f"error {exc!r}")
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=in_a_thread) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    go.set()
    for thread in threads:
        thread.join(60)
    results += [process.communicate(timeout=60)[0].strip() for process in processes]

    assert results == [f"ok {sandbox.owner.pk}"] * (THREADS + PROCESSES), results
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1  # one refresh
    assert AccessToken.objects.count() == 2  # the first one and the refreshed one
    connection.refresh_from_db()
    newest = RefreshToken.objects.get(used_at__isnull=True)
    assert digest(connection.refresh_token) == newest.token_digest  # we hold the live one
    assert not connection.access_token_expires_soon()


def test_a_crash_between_refresh_and_commit_ends_in_needs_reauth(connect, settings):
    connection = expired(connect())
    doomed = spawn(connection, settings, "--die-before-commit")
    doomed.stdin.write("go\n")
    doomed.stdin.flush()
    assert doomed.stdout.readline().strip() == "got-new-pair"
    os.kill(doomed.pid, signal.SIGKILL)  # the provider rotated the pair; we never stored it
    doomed.wait()

    with pytest.raises(ConnectionUnusable, match="must connect the account again"):
        connection_call(Connection.objects.get(pk=connection.pk), lambda api: api.owner())
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH
    refreshes = RefreshToken.objects.filter(used_at__isnull=False).count()
    with pytest.raises(ConnectionUnusable):  # no silent loop: it fails at once, no new refresh
        connection_call(connection, lambda api: api.owner())
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == refreshes

"""/health/ against real components: the test database, the configured broker, and a real
Celery worker subprocess writing its heartbeat.
"""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from partnerapp.health.models import WorkerHeartbeat
from tests.waiting import wait_for


def health(client, query: str = ""):
    response = client.get(f"/health/{query}")
    return response.status_code, response.json()


def test_without_a_worker_the_heartbeat_is_stale_and_health_answers_503(client, db):
    status, body = health(client)
    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["worker"] == {
        "ok": False,
        "detail": "stale: no worker has reported",
        "workers": 0,
    }


def test_a_heartbeat_older_than_the_limit_is_stale(client, db, settings):
    settings.HEALTH_WORKER_STALE_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=10)
    WorkerHeartbeat.objects.create(hostname="w@gone", started_at=long_ago, last_seen_at=long_ago)
    status, body = health(client)
    assert status == 503
    worker = body["checks"]["worker"]
    assert worker["ok"] is False and worker["workers"] == 0
    assert worker["detail"].startswith("stale: last heartbeat 60")  # 600 s, give or take
    assert worker["last_seen_seconds_ago"] >= 600


def test_an_unreachable_broker_fails_the_broker_check(client, db, settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"
    status, body = health(client, "?check=broker")
    assert status == 503
    broker = body["checks"]["broker"]
    assert broker["ok"] is False and broker["detail"].startswith("broker unreachable")
    assert str(closed_port) not in broker["detail"]  # no addresses on a public endpoint


def test_checks_can_be_chosen_and_unknown_ones_are_refused(client, db):
    status, body = health(client, "?check=database")
    assert status == 200 and list(body["checks"]) == ["database"]
    status, body = health(client, "?check=database&check=disk")
    assert status == 400 and body == {"error": "unknown check: disk"}


def test_health_is_never_cached_and_only_answers_get(client, db):
    response = client.get("/health/?check=database")
    assert "no-store" in response["Cache-Control"]
    assert client.post("/health/").status_code == 405


@pytest.mark.worker
def test_a_running_worker_makes_health_pass_and_a_stopped_one_fails_it(client, start_worker):
    worker = start_worker("health")
    hostname = f"{worker.name}@{socket.gethostname()}"
    wait_for(
        lambda: WorkerHeartbeat.objects.filter(hostname=hostname).exists(),
        timeout=30,
        message="the worker wrote its heartbeat",
    )
    status, body = health(client)
    assert status == 200, body
    assert body["checks"]["worker"]["ok"] is True and body["checks"]["worker"]["workers"] == 1

    worker.stop()  # a clean shutdown takes the heartbeat with it
    assert not WorkerHeartbeat.objects.filter(hostname=hostname).exists()
    status, body = health(client)
    assert status == 503
    assert body["checks"]["worker"]["detail"] == "stale: no worker has reported"


@pytest.mark.worker
def test_a_killed_worker_goes_stale(client, start_worker, settings):
    worker = start_worker("killed")
    hostname = f"{worker.name}@{socket.gethostname()}"
    wait_for(
        lambda: WorkerHeartbeat.objects.filter(hostname=hostname).exists(),
        timeout=30,
        message="the worker wrote its heartbeat",
    )
    worker.kill()  # no goodbye: the row stays, and ages
    row = WorkerHeartbeat.objects.get(hostname=hostname)
    settings.HEALTH_WORKER_STALE_SECONDS = 60
    WorkerHeartbeat.objects.filter(pk=row.pk).update(
        last_seen_at=row.last_seen_at - timedelta(seconds=61)  # as if a minute passed
    )
    status, body = health(client)
    assert status == 503 and body["checks"]["worker"]["detail"].startswith("stale: last heartbeat")

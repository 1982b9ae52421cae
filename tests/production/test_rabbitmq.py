"""Scale-out on RabbitMQ: two worker processes share one send-by-email job; no invoice is
emailed twice.

Django settings (and so the Celery app's broker) are read once, at import, and this test
session may run on Redis or the filesystem broker. So everything that touches RabbitMQ
runs in its own process with CELERY_BROKER_URL=amqp://… in its environment, as it would
on another host: the two workers, and the "web" process that creates the job and
publishes its first task. This test process only serves the sandbox (live server),
reads the shared test database and checks the provider's outbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from django.conf import settings
from kombu import Connection as BrokerConnection

from partnerapp.jobs.models import BatchJob, JobItem
from partnerapp.sandbox.models import Invoice
from tests.conftest import ROOT, WorkerProcess, require, worker_env
from tests.waiting import wait_for

pytestmark = pytest.mark.worker
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")

# The web process's part: create the job; the commit publishes job_prepare to RabbitMQ.
CREATE_JOB = """
import sys
import django

django.setup()
from django.contrib.auth import get_user_model
from partnerapp.connections.models import Connection
from partnerapp.jobs import services

user_id, connection_id, *invoice_ids = map(int, sys.argv[1:])
job = services.job_create(
    user=get_user_model().objects.get(pk=user_id),
    connection=Connection.objects.get(pk=connection_id),
    action="invoice.send_by_email",
    selection_spec={"ids": invoice_ids},
    parameters={"subject": "Invoice {INVOICENO}", "body": "{SALUTATION}"},
    auto_start=True,
)
print(job.pk)
"""


def rabbitmq_reachable() -> bool:
    try:
        with BrokerConnection(RABBITMQ_URL, connect_timeout=3) as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=5)
    except Exception:  # any failure means: not here
        return False
    return True


@pytest.fixture
def rabbitmq_env(sandbox):
    require(rabbitmq_reachable(), f"this test needs RabbitMQ at {RABBITMQ_URL}")
    env = {
        **worker_env(settings.SMARTBUSINESS_BASE_URL),
        "CELERY_BROKER_URL": RABBITMQ_URL,
        "LOG_FORMAT": "json",  # task lines carry job_id: which worker ran what
    }
    yield env
    with BrokerConnection(RABBITMQ_URL) as broker:  # leave RabbitMQ as we found it
        broker.default_channel.queue_delete(settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture
def two_workers(rabbitmq_env):
    workers = [WorkerProcess(rabbitmq_env, f"amqp{n}-{os.getpid()}") for n in (1, 2)]
    try:
        yield [worker.start() for worker in workers]
    finally:
        for worker in workers:
            worker.stop()


def create_job_elsewhere(env: dict[str, str], user, connection, invoice_ids: list[int]) -> int:
    args = [str(user.pk), str(connection.pk), *map(str, invoice_ids)]
    result = subprocess.run(
        [sys.executable, "-c", CREATE_JOB, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def job_lines(worker: WorkerProcess, job_id: int) -> list[dict]:
    lines = [json.loads(raw) for raw in worker.log.read_text().splitlines() if raw[:1] == "{"]
    return [line for line in lines if line.get("job_id") == job_id]


def test_two_workers_on_rabbitmq_send_every_invoice_of_one_job_exactly_once(
    connect, sandbox, partner, rabbitmq_env, two_workers
):
    owner = sandbox.owner
    # Every invoice with a usable address becomes a draft: enough work for four processes.
    sendable = owner.invoices.filter(contact__email__contains="@").exclude(
        contact__email__contains="(at)"
    )
    sendable.update(status="DR")
    invoice_ids = sorted(sendable.values_list("pk", flat=True))
    assert len(invoice_ids) >= 20
    connection = connect()

    job_id = create_job_elsewhere(rabbitmq_env, partner, connection, invoice_ids)

    job = BatchJob.objects.get(pk=job_id)
    wait_for(
        lambda: BatchJob.objects.get(pk=job_id).status == BatchJob.Status.DONE,
        timeout=120,
        message="the job finished",
    )
    items = list(job.items.all())
    assert len(items) == len(invoice_ids)
    assert {item.state for item in items} == {JobItem.State.SENT}
    outbox = sandbox.outbox()
    assert outbox["count"] == len(invoice_ids)
    assert set(outbox["sends_per_document"].values()) == {1}
    assert set(outbox["sends_per_document"]) == {f"invoice:{pk}" for pk in invoice_ids}
    assert set(Invoice.objects.filter(pk__in=invoice_ids).values_list("status", flat=True)) == {"S"}

    for worker in two_workers:
        worker.stop()  # flush their logs
    sent_by = {worker.name: patched_invoices(worker, job_id) for worker in two_workers}
    # Both workers did part of the work…
    assert all(sent_by.values()), {name: len(paths) for name, paths in sent_by.items()}
    # …and every PATCH is in exactly one worker's log, once: no invoice was sent by both.
    every_patch = Counter(path for paths in sent_by.values() for path in paths)
    assert len(every_patch) == len(invoice_ids) and set(every_patch.values()) == {1}


def patched_invoices(worker: WorkerProcess, job_id: int) -> list[str]:
    """The send-by-email paths this worker called for the job (from its JSON log lines)."""
    return [
        line["message"].split()[2]
        for line in job_lines(worker, job_id)
        if line["message"].startswith("provider PATCH")
    ]

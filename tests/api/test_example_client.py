"""examples/api_client.py, run as a partner would run it, against the live server with a
real Celery worker: it creates a job with an idempotency key and polls it to the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from partnerapp.api.keys import api_key_create
from partnerapp.jobs.models import BatchJob
from partnerapp.organizations.models import AuditEvent, Membership
from partnerapp.sandbox.models import Invoice

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api_client.py"


@pytest.mark.worker
def test_the_example_client_creates_a_job_and_polls_it_to_done(connect, partner, sandbox, worker):
    connection = connect()
    owner = Membership.objects.get(organization=connection.organization, user=partner)
    _key, raw = api_key_create(membership=owner, name="ERP", scope="write")
    drafts = list(
        Invoice.objects.filter(owner=sandbox.owner, status="DR").values_list("pk", flat=True)[:2]
    )
    assert len(drafts) == 2
    command = [
        sys.executable,
        str(EXAMPLE),
        "--base-url",
        sandbox.url,
        "--connection",
        str(connection.pk),
        "--ids",
        *map(str, drafts),
        "--poll-every",
        "0.5",
    ]
    env = {**os.environ, "PARTNERAPP_API_KEY": raw}
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    job = json.loads(finished.stdout)
    assert job["status"] == "done"
    assert job["counts"]["sent"] == 2
    assert BatchJob.objects.get(pk=job["id"]).user is None
    assert set(Invoice.objects.filter(pk__in=drafts).values_list("status", flat=True)) == {"S"}
    assert AuditEvent.objects.filter(action="job.create", actor_label=f"pa_live_{_key.prefix}")


def test_the_example_verifies_a_signed_webhook_and_refuses_a_forged_one():
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import api_client
    finally:
        sys.path.remove(str(EXAMPLE.parent))
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps({"type": "job.finished", "data": {"id": 7}}).encode()
    from datetime import UTC, datetime

    now = datetime.now(tz=UTC)
    signature = Webhook(secret).sign("msg_1", now, body.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    assert api_client.verify_webhook(secret, headers, body)["type"] == "job.finished"
    with pytest.raises(Exception, match="signature"):
        api_client.verify_webhook(secret, headers, body.replace(b"7", b"8"))

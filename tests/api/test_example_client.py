"""examples/api_client.py, run as a partner would run it, against the live server with a
real Celery worker: it creates a job with an idempotency key and polls it to the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import WebhookVerificationError

from partnerapp.api.keys import api_key_create
from partnerapp.jobs.models import BatchJob
from partnerapp.organizations.models import AuditEvent, Membership
from partnerapp.sandbox.models import Invoice
from partnerapp.webhooks.delivery import event_body, signature_headers
from partnerapp.webhooks.models import WebhookEvent
from partnerapp.webhooks.services import secret_generate

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


def test_the_example_verifies_partnerapps_signature_and_refuses_a_forged_one():
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import api_client
    finally:
        sys.path.remove(str(EXAMPLE.parent))
    event = WebhookEvent(type="job.finished", payload={"job": {"id": 7, "status": "done"}})
    body = event_body(event)
    old, new = secret_generate(), secret_generate()
    headers = signature_headers(event, body, [old, new], timezone.now())  # mid-rotation
    for secret in (old, new):
        assert api_client.verify_webhook(secret, headers, body)["type"] == "job.finished"
    with pytest.raises(WebhookVerificationError):
        api_client.verify_webhook(new, headers, body.replace(b'"done"', b'"fine"'))
    with pytest.raises(WebhookVerificationError):
        api_client.verify_webhook(secret_generate(), headers, body)

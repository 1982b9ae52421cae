"""`sandbox_serve`: the sandbox under gunicorn, where provider API calls go through the
lighter middleware stack (sandbox/wsgi.py) and must answer exactly as the provider does,
while the consent page keeps the site's stack (the owner's session, CSRF)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from partnerapp.sandbox import faults
from partnerapp.sandbox.models import OutboxEmail
from partnerapp.sandbox.services import owner_client_create
from tests.conftest import ARTIFACTS, worker_env

ROOT = Path(__file__).resolve().parents[2]
EMAIL = {
    "subject": "Rechnung {INVOICENO}",
    "body": "{SALUTATION}",
    "recipients": [{"email": "kunde@example.ch", "name": "Kunde"}],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(transactional_db):
    """The sandbox served by `manage.py sandbox_serve` (one worker, two threads) on the
    test database; yields its API base URL."""
    port = free_port()
    log = ARTIFACTS / f"sandbox-serve-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "manage.py", "sandbox_serve", f"--bind=127.0.0.1:{port}"]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [*command, "--workers=1", "--threads=2"],
            cwd=ROOT,
            env=worker_env("http://unused.invalid"),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{port}/sandbox/v2"
    try:
        _wait_until_up(process, api, log)
        yield api
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(process: subprocess.Popen, api: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            requests.get(f"{api}/auth/owner", timeout=5)  # any answer: it is up
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"sandbox_serve did not answer; see {log}")


@pytest.fixture
def caller(owner):
    """A client-credentials client of the owner's own account, and a fresh draft."""
    client, secret = owner_client_create(owner=owner, client_id="serve-test", secret="s3cret")
    draft = owner.invoices.order_by("pk").first()
    draft.status = "DR"
    draft.save(update_fields=["status"])
    return client, secret, draft


def token_for(api: str, secret: str, scope: str = "invoice") -> str:
    answer = requests.post(
        f"{api}/auth/access-tokens",
        json={
            "grant_type": "client_credentials",
            "client_id": "serve-test",
            "client_secret": secret,
            "scope": scope,
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["access_token"]


def test_a_send_by_email_is_recorded_once_and_answered_with_the_providers_headers(served, caller):
    _, secret, draft = caller
    bearer = {"Authorization": f"Bearer {token_for(served, secret)}"}
    url = f"{served}/receivables/invoices/{draft.pk}/send-by-email"

    answer = requests.patch(url, json=EMAIL, headers=bearer, timeout=10)

    assert answer.status_code == 204
    assert answer.content == b"" and "Content-Type" not in answer.headers
    request_id = answer.headers["X-Request-Id"]
    assert str(uuid.UUID(request_id)) == request_id
    assert answer.headers["X-Rate-Limit-Limit"] == "1000"
    assert answer.headers["X-Rate-Limit-Remaining"] == "999"
    assert 0 < int(answer.headers["X-Rate-Limit-Reset"]) <= 3600
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    sent = OutboxEmail.objects.get(document_id=draft.pk)
    assert sent.request_id == request_id
    assert sent.subject == f"Rechnung {draft.number}"
    assert sent.client.client_id == "serve-test"
    draft.refresh_from_db()
    assert draft.status == "S"


def test_the_served_api_refuses_in_the_providers_json(served, caller, owner):
    _, secret, draft = caller
    url = f"{served}/receivables/invoices/{draft.pk}/send-by-email"
    access = token_for(served, secret, scope="contact")

    no_token = requests.patch(url, json=EMAIL, timeout=10)
    assert no_token.status_code == 401
    assert no_token.json()["meta"]["hint"] == 'Missing "Authorization" header'
    unknown = requests.get(f"{served}/no/such/thing", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["code"] == 404
    wrong_method = requests.delete(url, timeout=10)
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "PATCH"
    bearer = {"Authorization": f"Bearer {access}"}
    scope = requests.patch(url, json=EMAIL, headers=bearer, timeout=10)
    assert scope.status_code == 400 and scope.json()["code"] == 11

    faults.profile_update(owner=owner, changes={"rate_limit": 1})  # spent by the call above
    over = requests.patch(url, json=EMAIL, headers=bearer, timeout=10)
    assert over.status_code == 429
    assert over.json() == {"code": 429, "message": "Too many requests"}
    assert over.headers["X-Rate-Limit-Remaining"] == "0"
    assert not OutboxEmail.objects.exists()


def test_the_consent_page_keeps_the_owners_session_and_csrf(served, caller):
    client, _, _ = caller
    client.redirect_uris = "https://partner.example/callback"
    client.save(update_fields=["redirect_uris"])
    query = "response_type=code&client_id=serve-test&scope=invoice&state=s"
    query += "&redirect_uri=https%3A%2F%2Fpartner.example%2Fcallback"

    page = requests.get(f"{served}/auth/authorize?{query}", timeout=10)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'name="csrfmiddlewaretoken"' in page.text
    assert "csrftoken" in page.cookies

"""Structured logs: JSON lines carrying request, job and provider ids — and never a secret."""

from __future__ import annotations

import copy
import json
import logging
import logging.config
from collections import Counter
from datetime import timedelta

import pytest
from celery import signals
from django.conf import settings
from django.utils import timezone

from partnerapp import observability
from partnerapp.connections.models import Connection
from partnerapp.connections.services import connection_call
from partnerapp.jobs import services, tasks
from partnerapp.jobs.models import BatchJob, JobItem
from tests import journeys
from tests.waiting import wait_for

CHATTY = ("requests_oauthlib", "oauthlib", "urllib3")  # they log token bodies at DEBUG


@pytest.fixture
def json_log(tmp_path, request):
    """Route all logging through the configured JSON formatter into a file, at DEBUG.

    Parametrized indirectly with "all-debug", the libraries that settings pin to WARNING
    log at DEBUG too: the handler's filters are then what stands between them and the file.
    """
    path = tmp_path / "log.jsonl"
    config = copy.deepcopy(settings.LOGGING)
    if getattr(request, "param", "") == "all-debug":
        for name in CHATTY:
            config["loggers"][name]["level"] = "DEBUG"
    config["handlers"]["console"] = {
        "class": "logging.FileHandler",
        "filename": str(path),
        "formatter": "json",
        "filters": ["no_credentials", "context"],
    }
    config["root"]["level"] = "DEBUG"
    logging.config.dictConfig(config)

    def lines() -> list[dict]:
        for handler in logging.getLogger().handlers:
            handler.flush()
        return [json.loads(line) for line in path.read_text().splitlines()]

    lines.path = path
    yield lines
    logging.config.dictConfig(settings.LOGGING)


def test_credentials_are_redacted_whatever_the_shape():
    samples = {
        "POST body grant_type=refresh_token&refresh_token=abc.DEF-123&client_secret=s3cr3t": [
            "abc.DEF-123",
            "s3cr3t",
        ],
        '{"access_token": "tok-1", "refresh_token":"tok-2"}': ["tok-1", "tok-2"],
        "headers {'Authorization': 'Bearer eyJhbGciOi.x.y'}": ["eyJhbGciOi.x.y"],
        "GET /connections/callback/?code=the-code&state=s": ["the-code"],
        'JSON-escaped: {\\"password\\": \\"hunter2\\"}': ["hunter2"],
    }
    for text, secrets in samples.items():
        redacted = observability.redact(text)
        assert observability.REDACTED in redacted
        assert not any(secret in redacted for secret in secrets), redacted
    assert observability.redact("job 12 sent 3 invoices") == "job 12 sent 3 invoices"


def test_a_task_binds_its_job_id_for_its_log_lines(json_log):
    logger = logging.getLogger("partnerapp.jobs.engine")
    signals.task_prerun.send(sender=tasks.job_run, task_id="t-1", task=tasks.job_run, args=(42,))
    logger.info("working")
    signals.task_postrun.send(sender=tasks.job_run, task_id="t-1", task=tasks.job_run)
    logger.info("between tasks")
    signals.task_prerun.send(sender=tasks.sweep, task_id="t-2", task=tasks.sweep, args=())
    logger.info("sweeping")
    signals.task_postrun.send(sender=tasks.sweep, task_id="t-2", task=tasks.sweep)
    working, between, sweeping = json_log()
    assert working["job_id"] == 42 and working["task"] == "partnerapp.jobs.tasks.job_run"
    assert working["task_id"] == "t-1" and working["message"] == "working"
    assert "job_id" not in between and "task_id" not in between
    assert "job_id" not in sweeping and sweeping["task"] == "partnerapp.jobs.tasks.sweep"


def test_code_can_bind_more_context_for_a_block(json_log):
    logger = logging.getLogger("partnerapp.jobs.engine")
    with observability.bound(job_id=7):
        with observability.bound(provider_request_id="c0ffee"):
            logger.info("sent")
        logger.info("next")
    first, second = json_log()
    assert first["job_id"] == 7 and first["provider_request_id"] == "c0ffee"
    assert second["job_id"] == 7 and "provider_request_id" not in second


def test_every_request_gets_an_id_in_its_response_and_its_log_lines(client, db, json_log):
    first = client.get("/accounts/login/?q=customer-search")
    second = client.get("/accounts/login/")
    ids = {first["X-Request-Id"], second["X-Request-Id"]}
    assert len(ids) == 2
    access = [line for line in json_log() if line["logger"] == "partnerapp.request"]
    assert {line["request_id"] for line in access} == ids
    assert all(line["path"] == "/accounts/login/" and line["status"] == 200 for line in access)
    assert "customer-search" not in json_log.path.read_text()


def test_a_request_is_logged_once_also_when_it_is_refused(client, db, json_log):
    """Our access line is the one line per request: Django's "Not Found: …" and runserver's
    own access line would say the same again."""
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    lines = [line for line in json_log() if "/no-such-page/" in json.dumps(line)]
    assert [line["logger"] for line in lines] == ["partnerapp.request"]
    assert lines[0]["status"] == 404


def test_a_proxy_request_id_is_kept_only_when_trusted(client, db, settings):
    sent = "proxy-id-1234abcd"
    assert client.get("/", headers={"X-Request-Id": sent})["X-Request-Id"] != sent
    settings.REQUEST_ID_TRUST_HEADER = True
    assert client.get("/", headers={"X-Request-Id": sent})["X-Request-Id"] == sent
    injected = client.get("/", headers={"X-Request-Id": "bad id\nwith newline"})
    assert injected["X-Request-Id"] != "bad id\nwith newline"


@pytest.mark.parametrize("json_log", ["as-configured", "all-debug"], indirect=True)
def test_no_secret_reaches_the_json_logs_through_consent_and_refresh(
    sandbox, partner, json_log, request, caplog
):
    session = journeys.partner_session(sandbox.url, partner)
    authorize_url = journeys.start_consent(session, sandbox.url, ["profile", "invoice"])
    callback = journeys.owner_decides(session, authorize_url, owner_email=sandbox.owner.email)
    code = journeys.query(callback)["code"]
    assert session.get(callback).status_code == 200
    connection = Connection.objects.get(user=partner)
    first_access, first_refresh = connection.access_token, connection.refresh_token
    connection.access_token_expires_at = timezone.now() - timedelta(seconds=1)
    connection.save()
    connection_call(connection, lambda api: api.owner())  # refreshes first
    connection.refresh_from_db()
    assert connection.refresh_token != first_refresh

    lines = json_log()
    text = json_log.path.read_text()
    secrets = {
        "authorization code": code,
        "first access token": first_access,
        "first refresh token": first_refresh,
        "new access token": connection.access_token,
        "new refresh token": connection.refresh_token,
        "client secret": settings.SMARTBUSINESS_CLIENT_SECRET,
        "owner password": journeys.OWNER_PASSWORD,
        "encryption key": settings.TOKEN_ENCRYPTION_KEYS[0],
    }
    leaked = [name for name, value in secrets.items() if value and value in text]
    assert not leaked, f"leaked into the logs: {leaked}"
    # …and the logs did say something useful, with the ids support needs.
    assert any(line.get("request_id") for line in lines)
    if request.node.callspec.params["json_log"] == "all-debug":
        # The OAuth libraries did log the secrets (pytest's own capture saw them)…
        chatter = "\n".join(r.getMessage() for r in caplog.records if "oauthlib" in r.name)
        assert connection.refresh_token in chatter
        # …and the configured handler kept every one of those lines out of the file.
        assert not any("oauthlib" in line["logger"] for line in lines)
    token_calls = [
        line
        for line in lines
        if line["logger"] == "partnerapp.smartbusiness.session"
        and "/auth/access-tokens" in line["message"]
    ]
    assert len(token_calls) == 2  # the code exchange and the refresh
    assert all(len(line["provider_request_id"]) == 36 for line in token_calls)


@pytest.mark.worker
def test_worker_lines_are_json_with_job_id_and_the_provider_request_id(
    connect, sandbox, partner, start_worker, monkeypatch
):
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    worker = start_worker("json")
    connection = connect()
    job = services.job_create(
        user=partner,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": sandbox.drafts_with_email(3)},
        parameters={"subject": "Invoice {INVOICENO}", "body": "Hello"},
        auto_start=True,
    )
    wait_for(
        lambda: BatchJob.objects.get(pk=job.pk).status == BatchJob.Status.DONE,
        timeout=90,
        message="job done",
    )
    worker.stop()
    records = []
    for raw in worker.log.read_text().splitlines():
        if raw.startswith("{"):
            records.append(json.loads(raw))  # every structured line is valid JSON
    sends = [
        r
        for r in records
        if r.get("job_id") == job.pk and r["message"].startswith("provider PATCH")
    ]
    sent_ids = set(job.items.filter(state=JobItem.State.SENT).values_list("request_id", flat=True))
    assert len(sent_ids) == 3
    assert {r["provider_request_id"] for r in sends} == sent_ids
    assert Counter(r["task"] for r in sends).keys() == {"partnerapp.jobs.tasks.job_run"}
    connection.refresh_from_db()
    text = worker.log.read_text()
    assert connection.access_token not in text and connection.refresh_token not in text

"""Benchmark: the job pipeline against a plain sequential loop, on the same sandbox.

A script, not a test:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch db> \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python tests/benchmarks/bench_jobs.py [--invoices 120] [--latency-ms 50]

Seeds a benchmark owner with drafts, serves the app with its sandbox under gunicorn
(`manage.py sandbox_serve`), connects the account through the real consent flow, and
starts a real Celery worker (4 processes). Then, for each provider latency, it sends
half of the drafts with a plain loop (one `send_by_email` after another through the
client: the fastest a single process can go, with no bookkeeping) and the other half
as a job (claim, send, record, request log, pacing, four work slots), side by side in
the same run. It prints invoices/s of both, their ratio, and checks the outbox holds
every invoice exactly once.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
OWNER = "jobs-bench@sandbox.example"
OWNER_PASSWORD = "jobs-bench"
EMAIL = {"subject": "Rechnung {INVOICENO}", "body": "{SALUTATION}\n\n{INVOICEAMOUNT}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure(port: int) -> None:
    """Settings for this process and its children, before Django starts."""
    os.environ.setdefault("PARTNERAPP_VAR_DIR", tempfile.mkdtemp(prefix="bench-jobs-"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # this process prints figures, not logs
    os.environ["PORT"] = str(port)
    os.environ["SMARTBUSINESS_BASE_URL"] = f"http://127.0.0.1:{port}/sandbox/v2"
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-jobs-{uuid.uuid4().hex[:8]}"
    os.environ["JOB_SLICE_SECONDS"] = "2"
    os.environ["DJANGO_SETTINGS_MODULE"] = "partnerapp.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def prepare(invoices: int, port: int):
    """A fresh owner whose drafts all have a valid email, our client, a partner user."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from partnerapp.sandbox import faults
    from partnerapp.sandbox.models import Owner
    from partnerapp.sandbox.seeding import seed_owner
    from partnerapp.sandbox.services import client_register

    Owner.objects.filter(email=OWNER).delete()
    owner, _ = seed_owner(
        email=OWNER,
        password=OWNER_PASSWORD,
        name="Bench",
        surname="Mark",
        company="Bench AG",
        invoices=invoices * 3,
        seed=3,
        today=timezone.localdate(),
    )
    owner.invoices.update(status="DR")
    for contact in owner.contacts.all():
        contact.email = f"kunde{contact.pk}@example.ch"
        contact.save(update_fields=["email"])
    client_register(
        client_id=settings.SMARTBUSINESS_CLIENT_ID,
        secret=settings.SMARTBUSINESS_CLIENT_SECRET,
        name="partnerapp (bench)",
        redirect_uris=[f"http://127.0.0.1:{port}/connections/callback/"],
        scopes=None,
    )
    faults.profile_update(owner=None, changes={"rate_limit": 1_000_000, "rate_limit_period": 3600})
    user, _ = get_user_model().objects.get_or_create(username="bench", email="bench@example.com")
    ids = list(owner.invoices.order_by("pk").values_list("pk", flat=True)[: invoices * 2])
    return owner, user, ids


def connect(user, port: int):
    """The consent flow over HTTP: the owner signs in and approves; we store the tokens."""
    from datetime import UTC, datetime

    from partnerapp.connections.models import Connection
    from partnerapp.connections.services import api_config
    from partnerapp.smartbusiness import oauth
    from partnerapp.smartbusiness.client import SmartBusinessClient

    base = f"http://127.0.0.1:{port}"
    config, redirect = api_config(), f"{base}/connections/callback/"
    scopes = ["profile", "invoice", "contact"]
    request = oauth.authorization_request(config, redirect_uri=redirect, scope=scopes, state="b")
    browser = requests.Session()
    login = browser.get(f"{base}/sandbox/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    browser.post(
        f"{base}/sandbox/login/",
        timeout=30,
        data={
            "csrfmiddlewaretoken": token,
            "form": "login",
            "email": OWNER,
            "password": OWNER_PASSWORD,
        },
    )
    consent = browser.get(request.url, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', consent.text).group(1)
    approved = browser.post(
        request.url,
        allow_redirects=False,
        timeout=30,
        data={"csrfmiddlewaretoken": token, "decision": "approve"},
    )
    code = parse_qs(urlsplit(approved.headers["Location"]).query)["code"][0]
    tokens = oauth.exchange_code(
        config, redirect_uri=redirect, code=code, code_verifier=request.code_verifier, scope=scopes
    )
    owner = SmartBusinessClient(config, tokens.access_token).owner()
    connection, _ = Connection.objects.get_or_create(
        user=user,
        base_url=config.base_url,
        account_id=str(owner["id"]),
        defaults={"owner_name": "Bench Mark", "scopes": " ".join(scopes)},
    )
    connection.status = Connection.Status.ACTIVE
    connection.store_tokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=datetime.fromtimestamp(tokens.expires_at, tz=UTC),
    )
    connection.save()
    return connection


def start(command: list[str], log: Path, ready: bytes) -> subprocess.Popen:
    handle = open(log, "ab")  # noqa: SIM115 - closed by the child's exit
    env = {**os.environ, "LOG_LEVEL": "INFO"}  # the children log their "ready" lines
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while ready not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                os.killpg(process.pid, 9)
            raise SystemExit(f"{command[1:5]} did not start; see {log}")
        time.sleep(0.2)
    return process


def loop(connection, ids: list[int]) -> float:
    """The baseline: one process, one call after another, nothing recorded."""
    from partnerapp.connections.services import api_config
    from partnerapp.smartbusiness.client import DocumentKind, Recipient, SmartBusinessClient

    client = SmartBusinessClient(api_config(), connection.access_token)
    started = time.perf_counter()
    for invoice_id in ids:
        client.send_by_email(
            DocumentKind.INVOICE,
            invoice_id,
            **EMAIL,
            recipients=[Recipient(email="kunde@example.ch", name="Kunde")],
        )
    return time.perf_counter() - started


def pipeline(user, connection, ids: list[int]) -> float:
    """The product: a prepared job, confirmed, run by the worker until done."""
    from partnerapp.jobs import services
    from partnerapp.jobs.models import BatchJob

    job = services.job_create(
        user=user,
        connection=connection,
        action="invoice.send_by_email",
        selection_spec={"ids": ids},
        parameters=EMAIL,
    )
    while not BatchJob.objects.get(pk=job.pk).prepared_at:
        time.sleep(0.1)
    job.refresh_from_db()
    started = time.perf_counter()
    services.job_start(job=job)
    while not BatchJob.objects.get(pk=job.pk).is_finished:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    counts = services.job_counts(job)
    assert counts["sent"] == len(ids), counts
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=120, help="per side and latency")
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 50])
    args = parser.parse_args()
    port = free_port()
    configure(port)
    from django.db import connection as db

    from partnerapp.sandbox import faults
    from partnerapp.sandbox.services import outbox_summary

    owner, user, ids = prepare(args.invoices * len(args.latency_ms), port)
    var = Path(os.environ["PARTNERAPP_VAR_DIR"])
    python = sys.executable
    children: list[subprocess.Popen] = []
    try:
        children.append(
            start(
                [python, "manage.py", "sandbox_serve", "--bind", f"127.0.0.1:{port}"],
                var / "server.log",
                b"Booting worker",
            )
        )
        children.append(
            start(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "partnerapp",
                    "worker",
                    "--concurrency=4",
                    "--loglevel=INFO",
                    "-Q",
                    os.environ["CELERY_TASK_DEFAULT_QUEUE"],
                ],
                var / "worker.log",
                b"ready",
            )
        )
        connection = connect(user, port)
        print(
            f"job pipeline vs sequential loop, {args.invoices} invoices each, "
            f"on {db.vendor}, gunicorn sandbox, worker with 4 processes"
        )
        for latency in args.latency_ms:
            faults.profile_update(owner=None, changes={"latency_ms": latency})
            batch, ids = ids[: args.invoices * 2], ids[args.invoices * 2 :]
            sequential = loop(connection, batch[: args.invoices])
            job = pipeline(user, connection, batch[args.invoices :])
            print(
                f"  provider latency {latency:>3} ms: loop {args.invoices / sequential:6.1f}/s"
                f"   job {args.invoices / job:6.1f}/s   ratio job/loop {sequential / job:4.2f}x"
            )
        sends = outbox_summary(owner_id=owner.pk)["sends_per_document"]
        print(
            f"  outbox: {len(sends)} invoices, each sent exactly once: {set(sends.values()) == {1}}"
        )
    finally:
        for process in reversed(children):
            os.killpg(process.pid, 15)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()

"""The PDF archive job: each selected document's PDF fetched through the engine (rate
budget, slots, 429 backoff), packed into one ZIP file by file, offered to the job's
owner for ARCHIVE_KEEP_DAYS days, then deleted — against the sandbox over HTTP.

A read is no irreversible action: it takes no ledger row, and an unclear answer is
read again, never "uncertain". The first tests run a real worker on the real broker;
the others run the engine in the test process (`engine.job_work`, as
test_reminders.py does) where they place a fault or a crash on a given item.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tracemalloc
import zipfile
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from partnerapp.connections.models import RequestLogEntry
from partnerapp.connections.services import connection_call
from partnerapp.jobs import archives, engine, services
from partnerapp.jobs.models import ActionClaim, BatchJob, JobItem
from partnerapp.jobs.operations import Context, operation_for
from partnerapp.jobs.operations.archive import (
    FetchPdf,
    FileNames,
    archive_folder,
    archive_info,
    archive_pack,
    archives_root,
    part_path,
)
from partnerapp.sandbox import faults, kinds
from partnerapp.sandbox.pdf import render
from tests.conftest import require_postgresql, require_real_broker
from tests.waiting import wait_for

Item, Job = JobItem.State, BatchJob.Status
ALL_KINDS = ("invoice", "offer", "delivery_note", "order_confirmation", "letter")
SCOPES = ("profile", "contact", *ALL_KINDS)
# What fpdf2 stamps into each rendering: the sandbox renders every request anew.
STAMPS = re.compile(rb"/CreationDate \(D:[^)]*\)|/ID \[<[0-9A-F]+><[0-9A-F]+>\]")


@pytest.fixture(autouse=True)
def _no_archives_of_earlier_runs():
    """Job ids start again with each test database: earlier runs' folders must go."""
    shutil.rmtree(archives_root(), ignore_errors=True)
    yield


def archive_job(user, connection, ids, *, document="invoice", auto_start=False) -> BatchJob:
    return services.job_create(
        user=user,
        connection=connection,
        action=f"{document}.archive_pdfs",
        selection_spec={"ids": ids},
        parameters={},
        auto_start=auto_start,
    )


def prepared(job: BatchJob) -> BatchJob:
    services.job_prepare(job_id=job.pk)
    job.refresh_from_db()
    return job


def run_here(job: BatchJob) -> BatchJob:
    """Confirm and work the job in this process until nothing is left."""
    services.job_start(job=job)
    while engine.job_work(job_id=job.pk, seconds=5).more:
        pass
    job.refresh_from_db()
    return job


def finished(job: BatchJob):
    job.refresh_from_db()
    return job.status if job.is_finished else None


def unstamped(pdf: bytes) -> bytes:
    return STAMPS.sub(b"", pdf)


def sandbox_pdf(document: str, document_id: int) -> bytes:
    """The PDF the sandbox serves for a document (rendered by its own code)."""
    kind = kinds.BY_NAME[document]
    return render(kind, kind.model.objects.get(pk=document_id))


def downloaded(client, job: BatchJob) -> zipfile.ZipFile:
    response = client.get(reverse("dashboard:job_archive", args=[job.pk]))
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def assert_holds_the_sandboxes_pdfs(archive: zipfile.ZipFile, names: dict[str, int], document):
    assert archive.testzip() is None  # every CRC checks out
    assert sorted(archive.namelist()) == sorted(names)
    for name, document_id in names.items():
        pdf = archive.read(name)
        assert pdf.startswith(b"%PDF-")
        assert unstamped(pdf) == unstamped(sandbox_pdf(document, document_id)), name


def page_text(client, job: BatchJob) -> str:
    response = client.get(reverse("dashboard:job", args=[job.pk]))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


# -- with a real worker ------------------------------------------------------------------------


@pytest.mark.worker
def test_a_job_zips_one_pdf_per_invoice_named_by_its_number_and_takes_no_ledger_row(
    connect, sandbox, partner, outsider, worker, client
):
    require_postgresql()
    require_real_broker()
    invoices = list(sandbox.owner.invoices.order_by("pk")[:4])
    invoices[0].status = "C"  # a cancelled invoice belongs in the records all the same
    invoices[0].save()
    job = archive_job(partner, connect(), [i.pk for i in invoices], auto_start=True)
    assert wait_for(lambda: finished(job), timeout=90, message="job finished") == Job.DONE
    wait_for(lambda: archive_info(job.pk), message="the ZIP is packed")

    items = list(job.items.all())
    assert [item.state for item in items] == [Item.SENT] * 4
    assert all(item.request_id for item in items)
    assert [entry["step"] for entry in items[0].step_log] == ["fetch_pdf"]
    assert ActionClaim.objects.count() == 0  # a read holds nothing in the ledger
    assert not (archive_folder(job.pk) / "parts").exists()

    client.force_login(partner)
    text = page_text(client, job)
    assert "Download ZIP (4 PDFs," in text and "available until" in text
    archive = downloaded(client, job)
    names = {f"{invoice.number}.pdf": invoice.pk for invoice in invoices}
    assert_holds_the_sandboxes_pdfs(archive, names, "invoice")

    client.force_login(outsider)
    assert client.get(reverse("dashboard:job_archive", args=[job.pk])).status_code == 404
    assert client.get(reverse("dashboard:job", args=[job.pk])).status_code == 404


@pytest.mark.worker
def test_429_and_5xx_from_the_sandbox_are_retried_and_every_pdf_still_arrives(
    connect, sandbox, partner, start_worker
):
    require_postgresql()
    require_real_broker()
    invoices = list(sandbox.owner.invoices.order_by("pk")[:3])
    job = prepared(archive_job(partner, connect(), [i.pk for i in invoices]))
    # Every answer a 500 (after the transport's own three retries): the engine puts the
    # items back for later instead of failing them …
    faults.profile_update(owner=sandbox.owner, changes={"p500": 1.0})
    services.job_start(job=job)
    start_worker()
    wait_for(
        lambda: job.items.filter(state=Item.PENDING, attempts__gte=1).count() == 3,
        timeout=60,
        message="every item met a 500 and waits to be read again",
    )
    assert "trying again" in job.items.first().outcome
    # … then every answer a 429 (budget left: a short backoff) …
    faults.profile_update(owner=sandbox.owner, changes={"p500": 0.0, "p429": 1.0})
    pdf_calls = RequestLogEntry.objects.filter(job_id=job.pk, path__endswith="/pdf")
    wait_for(lambda: pdf_calls.filter(status=429).exists(), timeout=60, message="a 429")
    # … and once the provider is well again, the job ends with every PDF.
    faults.profile_update(owner=sandbox.owner, changes={"p429": 0.0})
    assert wait_for(lambda: finished(job), timeout=90, message="job finished") == Job.DONE
    assert job.items.filter(state=Item.SENT).count() == 3
    assert set(pdf_calls.values_list("status", flat=True)) == {200, 429, 500}
    info = wait_for(lambda: archive_info(job.pk), message="the ZIP is packed")
    assert info.count == 3
    with zipfile.ZipFile(info.path) as archive:
        assert sorted(archive.namelist()) == sorted(f"{i.number}.pdf" for i in invoices)


# -- the engine in this process ---------------------------------------------------------------


def test_every_document_kind_is_archived_and_a_letter_is_named_by_its_id(
    connect, sandbox, partner, client
):
    connection = connect(scopes=SCOPES)
    client.force_login(partner)
    for document in ALL_KINDS:
        model = kinds.BY_NAME[document].model
        rows = list(model.objects.filter(owner=sandbox.owner).exclude(status="D")[:2])
        job = run_here(
            prepared(archive_job(partner, connection, [r.pk for r in rows], document=document))
        )
        assert job.status == Job.DONE, document
        if document == "letter":
            names = {f"letter-{row.pk}.pdf": row.pk for row in rows}
        else:
            names = {f"{row.number}.pdf": row.pk for row in rows}
        assert_holds_the_sandboxes_pdfs(downloaded(client, job), names, document)


def test_two_archive_jobs_over_the_same_invoices_both_get_every_pdf(connect, sandbox, partner):
    connection = connect()
    ids = list(sandbox.owner.invoices.order_by("pk").values_list("pk", flat=True)[:3])
    first = prepared(archive_job(partner, connection, ids))
    second = prepared(archive_job(partner, connection, ids))
    assert second.items.filter(state=Item.PENDING).count() == 3  # nobody "already did" it
    for job in (run_here(first), run_here(second)):
        assert job.items.filter(state=Item.SENT).count() == 3
        assert archive_info(job.pk).count == 3


def test_a_read_cut_short_by_a_dead_worker_is_read_again_never_uncertain(connect, sandbox, partner):
    ids = list(sandbox.owner.invoices.order_by("pk").values_list("pk", flat=True)[:3])
    job = prepared(archive_job(partner, connect(), ids))
    services.job_start(job=job)
    job.refresh_from_db()
    operation = operation_for(job.action)
    # A worker claimed the first item and died before its PDF arrived …
    lost = engine.item_claim_next(job)
    # … and another claimed the second, wrote its PDF, and died before recording it.
    arrived = engine.item_claim_next(job)
    step, context = FetchPdf(), Context(operation, job.parameters)
    connection_call(job.connection, lambda api: step.perform(api, arrived, context))

    assert engine.sweep_stale_sending(older_than=0) == 2
    lost.refresh_from_db()
    arrived.refresh_from_db()
    assert lost.state == Item.PENDING and lost.not_before is not None
    assert "trying again" in lost.outcome
    assert arrived.state == Item.SENT and "Confirmed done" in arrived.outcome
    assert not job.items.filter(state=Item.UNCERTAIN).exists()

    job = run_here(job)
    assert job.items.filter(state=Item.SENT).count() == 3
    assert archive_info(job.pk).count == 3


def test_an_archive_is_kept_for_the_set_days_then_deleted_and_the_page_says_so(
    connect, sandbox, partner, client
):
    ids = list(sandbox.owner.invoices.order_by("pk").values_list("pk", flat=True)[:2])
    job = run_here(prepared(archive_job(partner, connect(), ids)))
    info = archive_info(job.pk)
    assert info.expires_at - info.built_at == timedelta(days=settings.ARCHIVE_KEEP_DAYS)

    assert archives.archives_tend(now=info.expires_at - timedelta(minutes=1))["expired"] == 0
    assert info.path.exists()
    assert archives.archives_tend(now=info.expires_at + timedelta(seconds=1))["expired"] == 1
    assert not info.path.exists()

    client.force_login(partner)
    assert "The ZIP expired on" in page_text(client, job)
    response = client.get(reverse("dashboard:job_archive", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse(
        "dashboard:job", args=[job.pk]
    )
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "partnerapp.jobs.tasks.archives_tend" in beat


def test_the_invoices_browser_offers_the_archive_and_the_wizard_creates_the_job(
    connect, sandbox, partner, client
):
    connection = connect()
    client.force_login(partner)
    page = client.get(reverse("dashboard:invoices", args=[connection.pk]))
    assert b'value="invoice.archive_pdfs"' in page.content
    ids = list(sandbox.owner.invoices.order_by("pk").values_list("pk", flat=True)[:2])
    response = client.post(
        reverse("dashboard:job_new", args=[connection.pk]),
        {"action": "invoice.archive_pdfs", "selection": "ids", "ids": ids, "create": "1"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = BatchJob.objects.get(user=partner)
    assert job.action == "invoice.archive_pdfs" and job.parameters == {}


# -- packing, without the provider --------------------------------------------------------------


def test_packing_streams_file_by_file_far_below_the_size_of_the_pdfs(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    count, size = 24, 1024 * 1024  # 24 MiB of PDFs that do not compress
    for document_id in range(1, count + 1):
        part = part_path(7, document_id)
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(b"%PDF-1.4\n" + os.urandom(size))
    documents = [(document_id, f"RE-{document_id:04d}") for document_id in range(1, count + 1)]

    tracemalloc.start()
    try:
        info = archive_pack(7, documents, fallback="invoice", now=timezone.now())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 2 * 1024 * 1024, f"packing held {peak} bytes at once"
    assert info.count == count and info.size > count * size
    with zipfile.ZipFile(info.path) as archive:
        assert archive.testzip() is None
        assert archive.namelist()[0] == "RE-0001.pdf" and len(archive.namelist()) == count
    assert not part_path(7, 1).parent.exists()


def test_packing_again_after_a_crash_or_a_retry_adds_nothing_twice(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    for document_id in (1, 2):
        part_path(3, document_id).parent.mkdir(parents=True, exist_ok=True)
        part_path(3, document_id).write_bytes(b"%PDF-1.4 first run")
    archive_pack(3, [(1, "RE-1"), (2, "RE-2")], fallback="invoice", now=timezone.now())
    # A run again (its failed items retried) fetched one more; a part of the first run
    # is still there as if the first packer died before deleting it.
    for document_id in (2, 3):
        part_path(3, document_id).parent.mkdir(parents=True, exist_ok=True)
        part_path(3, document_id).write_bytes(b"%PDF-1.4 second run")
    info = archive_pack(
        3, [(1, "RE-1"), (2, "RE-2"), (3, "RE-3")], fallback="invoice", now=timezone.now()
    )
    with zipfile.ZipFile(info.path) as archive:
        assert sorted(archive.namelist()) == ["RE-1.pdf", "RE-2.pdf", "RE-3.pdf"]
        assert archive.read("RE-2.pdf") == b"%PDF-1.4 first run"
    assert info.count == 3


def test_file_names_in_the_zip_are_safe_and_unique():
    names = FileNames("letter")
    assert names.claim("RE-2026-0001", 1) == "RE-2026-0001.pdf"
    assert names.claim("RE-2026-0001", 2) == "RE-2026-0001-2.pdf"
    assert names.claim("re-2026-0001", 3) == "re-2026-0001-3.pdf"  # unique ignoring case
    assert names.claim("../../etc/passwd", 4) == "etc_passwd.pdf"
    assert names.claim("Rechnung Nr. 5/ä", 5) == "Rechnung_Nr._5_a.pdf"
    assert names.claim("", 6) == "letter-6.pdf"
    assert names.claim("...", 7) == "letter-7.pdf"

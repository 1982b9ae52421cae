"""Download documents' PDFs as one ZIP archive (`GET …/pdf`): a read, not an action.

Each item fetches its document's PDF through the engine — so the account's rate
budget, its work slots and the 429 backoff apply as to any call — and streams it into
the job's parts folder under PARTNERAPP_VAR_DIR. Reading twice is harmless, so the
step takes no ledger row and an unclear answer is simply read again
(`Step.idempotent`); there is nothing to "resend". When the job finishes,
`job_finished` packs the parts into one ZIP, file by file (never all in memory), and
deletes them. The job page offers the ZIP to the job's owner for ARCHIVE_KEEP_DAYS
days; then `jobs.archives.archives_tend` (celery beat) deletes it.

On disk, per job: `archives/job-<id>/parts/<document id>.pdf` while it runs, then
`archive.zip` and `archive.json` (count, size, when built, until when it is kept, and
when it expired). The var dir must be shared by the web server and the workers.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from partnerapp.jobs.operations.base import Context, Operation, ParametersForm, Step
from partnerapp.jobs.outcomes import Outcome, outcome
from partnerapp.smartbusiness import vocabulary
from partnerapp.smartbusiness.client import ActionResult, SmartBusinessClient
from partnerapp.smartbusiness.errors import ProtocolError

ARCHIVE = "archive.zip"
META = "archive.json"
PARTS = "parts"
CHUNK = 64 * 1024  # bytes copied at a time into the ZIP
PDF_MAGIC = b"%PDF-"
NAME_MAX = 80  # characters of a file name's stem inside the ZIP
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# -- where the files are ------------------------------------------------------------------------


def archives_root() -> Path:
    return Path(settings.VAR_DIR) / "archives"


def archive_folder(job_id: int) -> Path:
    return archives_root() / f"job-{int(job_id)}"


def part_path(job_id: int, document_id: int) -> Path:
    return archive_folder(job_id) / PARTS / f"{int(document_id)}.pdf"


def job_id_of(folder: Path) -> int | None:
    """The job id a folder under `archives_root()` belongs to (None: not one of ours)."""
    prefix, _dash, number = folder.name.partition("-")
    return int(number) if prefix == "job" and number.isdigit() else None


# -- fetching one PDF ---------------------------------------------------------------------------


def part_store(job_id: int, document_id: int, fetch) -> ActionResult:
    """Stream `fetch(file)`'s PDF into the document's part, which appears whole or not at
    all (written aside, then renamed): a part that exists is a complete PDF."""
    final = part_path(job_id, document_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    aside = final.with_name(f"{final.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(aside, "wb") as file:
            result = fetch(file)
        with open(aside, "rb") as file:
            if file.read(len(PDF_MAGIC)) != PDF_MAGIC:
                raise ProtocolError(
                    "The provider's PDF is not a PDF.", status=200, request_id=result.request_id
                )
        os.replace(aside, final)
    finally:
        aside.unlink(missing_ok=True)
    return result


class FetchPdf(Step):
    name = "fetch_pdf"
    label = gettext_lazy("download the PDF")
    idempotent = True

    def ledger_action(self, item, context: Context) -> str:
        return ""  # a read needs no at-most-once row: reading twice harms nobody

    def perform(self, api: SmartBusinessClient, item, context: Context) -> ActionResult:
        kind, document_id = context.operation.kind, item.document_id
        return part_store(
            item.job_id, document_id, lambda file: api.document_pdf_into(kind, document_id, file)
        )

    def took_effect(self, api: SmartBusinessClient, item, context: Context) -> bool:
        return part_path(item.job_id, item.document_id).exists()


# -- packing the ZIP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveInfo:
    """An archive as its job page shows it."""

    path: Path
    count: int  # PDFs in it
    size: int  # bytes of the ZIP
    built_at: datetime
    expires_at: datetime
    expired_at: datetime | None  # set once the ZIP was deleted

    @property
    def available(self) -> bool:
        return self.expired_at is None and self.path.exists()

    @property
    def file_name(self) -> str:
        return f"partnerapp-job-{job_id_of(self.path.parent)}-pdfs.zip"


class FileNames:
    """File names inside one ZIP: safe (ASCII letters, digits, . _ -), unique ignoring
    case, from the document's number ("RE-2026-0001.pdf"), else "<kind>-<id>.pdf"."""

    def __init__(self, fallback: str) -> None:
        self.fallback, self.taken = fallback, set()

    def claim(self, number: str, document_id: int) -> str:
        stem = _safe_stem(number) or f"{self.fallback}-{document_id}"
        again = (f"{stem}-{document_id}-{n}" for n in itertools.count(2))
        for candidate in itertools.chain((stem, f"{stem}-{document_id}"), again):
            name = f"{candidate}.pdf"
            if name.lower() not in self.taken:
                self.taken.add(name.lower())
                return name
        raise AssertionError("unreachable: the candidates never end")

    def take(self, name: str) -> None:
        self.taken.add(name.lower())


def _safe_stem(number: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", number).encode("ascii", "ignore").decode()
    return UNSAFE.sub("_", ascii_text).strip("._-")[:NAME_MAX]


def archive_pack(
    job_id: int, documents: Iterable[tuple[int, str]], *, fallback: str, now: datetime
) -> ArchiveInfo:
    """Pack the parts of `documents` ((document id, number) pairs) into the job's ZIP,
    one file at a time, then delete the parts.

    Safe to run again after a crash at any point: the ZIP is written aside and renamed,
    the PDFs of an earlier ZIP of the job (a run again for failed items) are carried
    over, and a document already in it is not added twice (each entry's comment holds
    its document id). Callers hold the job's lock (`DownloadPdfs.job_finished`).
    """
    folder = archive_folder(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    previous, target = folder / ARCHIVE, folder / f"{ARCHIVE}.{uuid.uuid4().hex}.tmp"
    names, packed = FileNames(fallback), set()
    try:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            if previous.exists():
                packed = _carry_over(previous, archive, names)
            for document_id, number in documents:
                part = part_path(job_id, document_id)
                if document_id in packed or not part.exists():
                    continue
                _add(archive, part, names.claim(number, document_id), document_id)
                packed.add(document_id)
        os.replace(target, previous)
    finally:
        target.unlink(missing_ok=True)
    info = _meta_write(folder, count=len(packed), size=previous.stat().st_size, now=now)
    shutil.rmtree(folder / PARTS, ignore_errors=True)
    return info


def _add(archive: zipfile.ZipFile, part: Path, name: str, document_id: int) -> None:
    info = zipfile.ZipInfo.from_file(part, arcname=name)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.comment = str(document_id).encode()
    with open(part, "rb") as source, archive.open(info, "w") as target:
        shutil.copyfileobj(source, target, CHUNK)


def _carry_over(previous: Path, archive: zipfile.ZipFile, names: FileNames) -> set[int]:
    """Copy an earlier ZIP's entries, entry by entry; the document ids they hold."""
    packed: set[int] = set()
    with zipfile.ZipFile(previous) as earlier:
        for old in earlier.infolist():
            info = zipfile.ZipInfo(old.filename, date_time=old.date_time)
            info.compress_type, info.comment = zipfile.ZIP_DEFLATED, old.comment
            info.file_size = old.file_size
            with earlier.open(old) as source, archive.open(info, "w") as target:
                shutil.copyfileobj(source, target, CHUNK)
            names.take(old.filename)
            if old.comment.isdigit():
                packed.add(int(old.comment))
    return packed


def _meta_write(folder: Path, *, count: int, size: int, now: datetime) -> ArchiveInfo:
    keep = timedelta(days=settings.ARCHIVE_KEEP_DAYS)
    meta = {
        "count": count,
        "size": size,
        "built_at": now.isoformat(),
        "expires_at": (now + keep).isoformat(),
        "expired_at": None,
    }
    _json_write(folder / META, meta)
    return _info(folder, meta)


def _json_write(path: Path, data: dict[str, Any]) -> None:
    aside = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    aside.write_text(json.dumps(data))
    os.replace(aside, path)


def _info(folder: Path, meta: dict[str, Any]) -> ArchiveInfo:
    expired = meta.get("expired_at")
    return ArchiveInfo(
        path=folder / ARCHIVE,
        count=int(meta["count"]),
        size=int(meta["size"]),
        built_at=datetime.fromisoformat(meta["built_at"]),
        expires_at=datetime.fromisoformat(meta["expires_at"]),
        expired_at=datetime.fromisoformat(expired) if expired else None,
    )


def archive_info(job_id: int) -> ArchiveInfo | None:
    """The job's archive, or None while it has none (not packed yet)."""
    folder = archive_folder(job_id)
    try:
        meta = json.loads((folder / META).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return _info(folder, meta)


def archive_expire(job_id: int, *, now: datetime) -> bool:
    """Delete the job's ZIP if its time is up (the facts stay, so the page says so)."""
    info = archive_info(job_id)
    if info is None or info.expired_at is not None or info.expires_at > now:
        return False
    info.path.unlink(missing_ok=True)
    meta = json.loads((archive_folder(job_id) / META).read_text())
    _json_write(archive_folder(job_id) / META, {**meta, "expired_at": now.isoformat()})
    return True


def parts_left(job_id: int) -> bool:
    return (archive_folder(job_id) / PARTS).is_dir()


# -- the operation ----------------------------------------------------------------------------


class ArchiveForm(ParametersForm):
    """Nothing to choose: the selection is the whole question."""

    def parameters(self) -> dict[str, Any]:
        return {}

    @classmethod
    def data_for(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        return {}


class DownloadPdfs(Operation):
    name = "archive_pdfs"
    title = gettext_lazy("Download the PDFs of %(documents)s as one ZIP")
    name_title = gettext_lazy("PDF archive of %(documents)s")
    form_class = ArchiveForm
    steps = (FetchPdf(),)
    # Any status: an archive is for the records, cancelled documents included.
    default_statuses = tuple(vocabulary.DOCUMENT_STATUSES)
    repeatable = False  # nothing to resend: reading again is simply another archive job
    done_word = gettext_lazy("downloaded")
    will_word = gettext_lazy("will be downloaded")
    warning = gettext_lazy(
        "Downloading PDFs only reads them: nothing changes at SmartBusiness and no customer "
        "gets anything. The next page shows a preview; nothing is downloaded before you "
        "confirm it."
    )

    def confirm_label(self, count: int) -> str:
        return ngettext(
            "Confirm and download %(n)d PDF", "Confirm and download %(n)d PDFs", count
        ) % {"n": count}

    def skip_reason(self, document, item, context, *, today) -> Outcome | None:
        status = str(document.get("status", ""))
        if status == vocabulary.DELETED:
            return outcome("deleted_status", s=status)
        return None

    def job_finished(self, job) -> None:
        """Pack the fetched PDFs into the job's ZIP. A job row lock keeps two packers (this
        hook and `archives_tend` after a crash) apart: the one that finds it taken leaves."""
        sent = job.items.filter(state=job.items.model.State.SENT).order_by("pk")
        with transaction.atomic():
            locked = type(job).objects.select_for_update(skip_locked=True).filter(pk=job.pk)
            if not list(locked.values_list("pk", flat=True)):
                return  # another packer holds it
            archive_pack(
                job.pk,
                sent.values_list("document_id", "document_number").iterator(),
                fallback=self.document,
                now=timezone.now(),
            )

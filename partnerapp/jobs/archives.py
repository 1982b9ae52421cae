"""PDF archives of finished jobs: what the job page offers, and their upkeep.

The files and the packing belong to the operation (`operations/archive.py`); this is
what the dashboard and celery beat ask of them.
"""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta

from django.utils import timezone

from partnerapp.jobs.models import BatchJob
from partnerapp.jobs.operations.archive import (
    ArchiveInfo,
    DownloadPdfs,
    archive_expire,
    archive_folder,
    archive_info,
    archives_root,
    job_id_of,
    parts_left,
)

logger = logging.getLogger(__name__)
Job = BatchJob.Status
# A finished job's parts are packed by its own finish; only after this long does the
# upkeep take over (its packer died, or the job was cancelled with PDFs fetched).
LEFTOVER_AFTER = timedelta(minutes=2)
FINISHED = {Job.DONE, Job.CANCELLED, Job.FAILED}


def is_archive_job(job: BatchJob) -> bool:
    return isinstance(job.operation, DownloadPdfs)


def archive_for(job: BatchJob) -> ArchiveInfo | None:
    """The job's archive as its page shows it; None: not an archive job, or not packed yet."""
    return archive_info(job.pk) if is_archive_job(job) else None


def archive_packing(job: BatchJob) -> bool:
    """The job has fetched PDFs that are not in its ZIP yet (running, or being packed)."""
    return is_archive_job(job) and parts_left(job.pk)


def archives_tend(*, now=None) -> dict[str, int]:
    """Periodic (celery beat): delete archives whose time is up, pack what a finished job
    left unpacked, and remove the folders of jobs that no longer exist."""
    now = now or timezone.now()
    counts = {"expired": 0, "packed": 0, "removed": 0}
    root = archives_root()
    folders = [folder for folder in root.iterdir() if folder.is_dir()] if root.is_dir() else []
    for folder in folders:
        job_id = job_id_of(folder)
        if job_id is None:
            continue
        counts["expired"] += archive_expire(job_id, now=now)
        if parts_left(job_id) and (outcome := _tend_parts(job_id, now=now)):
            counts[outcome] += 1
    return counts


def _tend_parts(job_id: int, *, now) -> str:
    """What became of a job's unpacked PDFs: "packed", "removed", or "" (left alone)."""
    job = BatchJob.objects.filter(pk=job_id).select_related("connection").first()
    if job is None:  # its owner deleted it: nobody will ever download these
        shutil.rmtree(archive_folder(job_id), ignore_errors=True)
        return "removed"
    recently = job.finished_at is not None and now - job.finished_at < LEFTOVER_AFTER
    if job.status not in FINISHED or recently:
        return ""  # still running, or its own finish is packing it
    logger.info("job %s: packing the PDFs its finish left behind", job_id)
    job.operation.job_finished(job)
    return "packed"

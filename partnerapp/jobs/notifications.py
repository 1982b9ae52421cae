"""Emails to the partner user about their jobs."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from partnerapp.connections.notifications import site_url
from partnerapp.jobs.models import BatchJob

logger = logging.getLogger(__name__)


def _send(job: BatchJob, subject: str, body: str) -> None:
    if not job.user.email:
        return
    link = site_url(reverse("dashboard:job", args=[job.pk]))
    try:
        send_mail(subject, f"{body}\n\n{link}\n", None, [job.user.email])
    except OSError:  # the job's state is stored either way; mail is a courtesy
        logger.exception("could not email user %s about job %s", job.user_id, job.pk)


def job_finished_notify(job: BatchJob, counts: dict[str, int]) -> None:
    summary = _(
        "%(sent)d sent, %(failed)d failed, %(skipped)d skipped, %(uncertain)d to review."
    ) % {key: counts.get(key, 0) for key in ("sent", "failed", "skipped", "uncertain")}
    _send(job, _("Job finished: %(job)s") % {"job": job}, summary)


def job_paused_notify(job: BatchJob) -> None:
    reason = job.get_pause_reason_display() or _("paused")
    _send(job, _("Job paused: %(job)s") % {"job": job}, f"{reason}. {job.error}".strip())

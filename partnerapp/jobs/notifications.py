"""E-mails to an organization's members about its jobs (`organizations.notifications`)."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from django.utils.translation import gettext as _

from partnerapp.connections.notifications import site_url
from partnerapp.jobs.models import BatchJob
from partnerapp.organizations.notifications import notify


def _send(job: BatchJob, event: str, compose: Callable[[], tuple[str, str]]) -> None:
    """Each member's message in their language, with the link to the job's page."""
    link = site_url(reverse("dashboard:job", args=[job.pk]))

    def message() -> tuple[str, str]:
        subject, body = compose()
        return subject, f"{body}\n\n{link}\n"

    notify(job.organization_id, event, compose=message, creator=job.user)


def job_finished_notify(job: BatchJob, counts: dict[str, int]) -> None:
    def compose() -> tuple[str, str]:
        summary = _(
            "%(sent)d sent, %(failed)d failed, %(skipped)d skipped, %(uncertain)d to review."
        ) % {key: counts.get(key, 0) for key in ("sent", "failed", "skipped", "uncertain")}
        return _("Job finished: %(job)s") % {"job": job}, summary

    _send(job, "job_finished", compose)
    from partnerapp.webhooks import events  # lazily: webhooks imports jobs

    events.job_finished(job, counts)


def job_paused_notify(job: BatchJob) -> None:
    def compose() -> tuple[str, str]:
        reason = job.get_pause_reason_display() or _("paused")
        return _("Job paused: %(job)s") % {"job": job}, f"{reason}. {job.error}".strip()

    _send(job, "job_paused", compose)
    from partnerapp.webhooks import events  # lazily: webhooks imports jobs

    events.job_paused(job)

"""E-mails to an organization's members about its jobs (`organizations.notifications`)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from partnerapp.connections.notifications import site_url
from partnerapp.jobs.models import BatchJob
from partnerapp.organizations.notifications import notify


def _send(job: BatchJob, event: str, subject: str, body: str) -> None:
    link = site_url(reverse("dashboard:job", args=[job.pk]))
    notify(
        job.organization_id,
        event,
        subject=subject,
        body=f"{body}\n\n{link}\n",
        creator=job.user,
    )


def job_finished_notify(job: BatchJob, counts: dict[str, int]) -> None:
    summary = _(
        "%(sent)d sent, %(failed)d failed, %(skipped)d skipped, %(uncertain)d to review."
    ) % {key: counts.get(key, 0) for key in ("sent", "failed", "skipped", "uncertain")}
    _send(job, "job_finished", _("Job finished: %(job)s") % {"job": job}, summary)
    from partnerapp.webhooks import events  # lazily: webhooks imports jobs

    events.job_finished(job, counts)


def job_paused_notify(job: BatchJob) -> None:
    reason = job.get_pause_reason_display() or _("paused")
    body = f"{reason}. {job.error}".strip()
    _send(job, "job_paused", _("Job paused: %(job)s") % {"job": job}, body)
    from partnerapp.webhooks import events  # lazily: webhooks imports jobs

    events.job_paused(job)

"""What a job is called: its default name is made here and nowhere else.

A default name reads "Invoices by email — Draft, 01.12.{DASH}15.12.2026, 15 documents": what
the operation does, the selection's status filter and date range (Swiss dates), and —
once preparation counted them — how many items the job has. A schedule's job is called
after its schedule and the day of its slot instead. The name is stored (`BatchJob.name`)
in the language of whoever created the job; jobs from before names were stored show
the default name made in the reader's language.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partnerapp.smartbusiness.vocabulary import status_label

SEPARATOR = " — "
DASH = "\N{EN DASH}"  # between the days of a range


def default_name(job, *, count: int | None = None) -> str:
    """The job's default name in the active language; `count`: its number of items."""
    details = _details(job)
    if count is not None:
        details.append(job.operation.count_label(count))
    head = _head(job)
    return f"{head}{SEPARATOR}{', '.join(details)}" if details else head


def creation_language(job) -> str:
    """The language to store a new job's name in: the creator's (the request's language).
    A schedule's run has no request: the language its emails default to stands in."""
    if job.schedule_run_id is None:
        return translation.get_language() or settings.LANGUAGE_CODE
    wanted = str(job.parameters.get("language") or "")
    return wanted if wanted in _languages() else settings.LANGUAGE_CODE


def counted_name(job, count: int) -> str | None:
    """The default name with the count, in the language the stored name was made in; None
    when the stored name is not a default one (a person named the job: it stays)."""
    preferred = creation_language(job) if job.schedule_run_id else settings.LANGUAGE_CODE
    # A name holds no language tag: the language whose default name it equals made it.
    # (A schedule's name is the same in every language: its emails' language decides.)
    for language in [preferred, *_languages()]:
        with translation.override(language):
            if job.name == default_name(job):
                return default_name(job, count=count)
    return None


def _head(job) -> str:
    if job.schedule_run_id is not None:
        return job.schedule_run.schedule.name
    return job.operation.name_label


def _details(job) -> list[str]:
    if job.schedule_run_id is not None:
        slot = timezone.localtime(job.schedule_run.slot_at).date()
        return [_swiss(slot)]
    spec = job.selection.get("filter") or {}
    details = [status_label(spec["status"])] if spec.get("status") else []
    span = _span(_day(spec.get("date_from")), _day(spec.get("date_to")))
    return [*details, span] if span else details


def _span(start: date | None, end: date | None) -> str:
    """01.12.{DASH}15.12.2026, 15.12.2025{DASH}15.01.2026, from 01.12.2026, until 15.12.2026."""
    if start and end and start == end:
        return _swiss(start)
    if start and end and start.year == end.year:
        return f"{start:%d.%m.}{DASH}{_swiss(end)}"
    if start and end:
        return f"{_swiss(start)}{DASH}{_swiss(end)}"
    if start:
        return _("from %(day)s") % {"day": _swiss(start)}
    if end:
        return _("until %(day)s") % {"day": _swiss(end)}
    return ""


def _day(value) -> date | None:
    if value == "today":
        return timezone.localdate()
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _swiss(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]

"""A job's results as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from django.utils.text import slugify

from partnerapp.jobs.models import BatchJob

HEADER = [
    "document_id",
    "document_number",
    "contact",
    "recipient_email",
    "state",
    "outcome",  # the English sentence; `outcome_code` is the same as a code (jobs/outcomes.py)
    "outcome_code",
    "attempts",
    "x_request_id",
    "error_status",
    "error_message",
    "field_errors",
    "claimed_at",
    "finished_at",
]
# No cell a spreadsheet reads may start with these, nor with whitespace and then = + - @.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet may start a cell inside our text: at its start and, when Swiss,
# German, French or Italian Excel splits our comma-separated lines at ";" (which quoting
# every field does not prevent), after each ";" and each line break. A `'` goes there when
# = + - @ follows, also behind whitespace or the quotes such a reader drops, and (as OWASP
# advises) when a tab or carriage return follows.
HIDDEN_CELL_START = re.compile(r'(?:^|(?<=[;\r\n]))(?="*[\t\r]|[\s"]*[=+\-@])')


class _Echo:
    def write(self, value: str) -> str:
        return value


def cell(value) -> str:
    """Text a spreadsheet shows as text: a `'` goes before every place where a formula
    could start (HIDDEN_CELL_START); nothing else changes."""
    text = "" if value is None else str(value)
    return HIDDEN_CELL_START.sub("'", text)


def rows(job: BatchJob) -> Iterator[list[str]]:
    yield HEADER
    for item in job.items.order_by("pk").iterator(chunk_size=2000):
        detail = item.error_detail or {}
        errors = (detail.get("meta") or {}).get("errors", [])
        fields = "; ".join(
            f"{e.get('key')}: {e.get('message')}" for e in errors if isinstance(e, dict)
        )
        yield [
            cell(v)
            for v in (
                item.document_id,
                item.document_number,
                item.contact_name,
                item.recipient_email,
                item.state,
                item.outcome,
                item.outcome_code,
                item.attempts,
                item.request_id,
                item.error_status,
                detail.get("message", ""),
                fields,
                item.claimed_at.isoformat() if item.claimed_at else "",
                item.finished_at.isoformat() if item.finished_at else "",
            )
        ]


def csv_lines(job: BatchJob) -> Iterator[str]:
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    for row in rows(job):
        yield writer.writerow(row)


def file_name(job: BatchJob) -> str:
    """partnerapp-job-42-invoices-by-email-draft-01-12-15-12-2026.csv: the number, then the
    name in plain ASCII (any browser, any file system), cut to a readable length."""
    words = slugify(re.sub(r"[.,/\N{EN DASH}\N{EM DASH}]", " ", job.title))[:60].strip("-")
    return f"partnerapp-job-{job.pk}-{words}.csv" if words else f"partnerapp-job-{job.pk}.csv"

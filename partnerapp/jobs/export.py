"""A job's results as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from partnerapp.jobs.models import BatchJob

HEADER = [
    "document_id",
    "document_number",
    "contact",
    "recipient_email",
    "state",
    "outcome",
    "attempts",
    "x_request_id",
    "error_status",
    "error_message",
    "field_errors",
    "claimed_at",
    "finished_at",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def cell(value) -> str:
    """Text a spreadsheet shows as text: a leading formula character is quoted away."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


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
    writer = csv.writer(_Echo())
    for row in rows(job):
        yield writer.writerow(row)

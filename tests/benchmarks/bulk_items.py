"""Seeding a job's items fast for the benchmarks: one INSERT … SELECT generate_series.

A million JobItem rows through bulk_create take minutes of Python; PostgreSQL builds
them itself in seconds. Every column is written: the ones given as SQL expressions of
`n` (the item's number in its job) and `job.id`, the job, and every other field's model
default (so a field added later needs no change here).
"""

from __future__ import annotations

# A job well under way, as (state, percent): the same shares the pages benchmark used.
STATE_SHARES = [
    ("sent", 70),
    ("pending", 12),
    ("sending", 1),
    ("failed", 6),
    ("skipped", 8),
    ("uncertain", 3),
]
FINISHED = ("sent", "failed", "skipped", "uncertain")


def state_mix(number: str = "n") -> str:
    """A SQL CASE that spreads the states over row numbers by STATE_SHARES (deterministic)."""
    bucket = f"mod({number}::bigint * 7919, 100)"
    cases, upto = [], 0
    for state, share in STATE_SHARES[:-1]:
        upto += share
        cases.append(f"WHEN {bucket} < {upto} THEN '{state}'")
    return f"CASE {' '.join(cases)} ELSE '{STATE_SHARES[-1][0]}' END"


NUMBER = "'RE-' || lpad(job.id::text, 5, '0') || '-' || lpad(n::text, 7, '0')"


def realistic_items() -> dict[str, str]:
    """Expressions for items that read like a bulk send's: numbers, names, emails, outcomes."""
    state = state_mix()
    finished = f"({state}) IN {FINISHED}"
    failed = f"({state}) = 'failed'"
    return {
        "document_id": "n",
        "document_number": NUMBER,
        "document_status": "'DR'",
        "contact_name": "'Firma ' || mod(n, 5000)",
        "recipient_email": (
            "'buchhaltung' || mod(n, 5000) || '@firma' || mod(n, 5000) || '.example.ch'"
        ),
        "recipient_name": "'Firma ' || mod(n, 5000) || ' AG'",
        "snapshot": (
            f"jsonb_build_object('number', {NUMBER}, 'total', '120.00', 'currency', 'CHF')"
        ),
        "state": state,
        "attempts": f"CASE WHEN {finished} THEN 1 ELSE 0 END",
        "request_id": f"CASE WHEN {finished} THEN 'req-' || job.id || '-' || n ELSE '' END",
        "finished_at": f"CASE WHEN {finished} THEN now() - mod(n, 3600) * interval '1 s' END",
        "error_status": f"CASE WHEN {failed} THEN 422 END",
        "outcome": f"CASE WHEN {failed} THEN 'SmartBusiness refused it.' ELSE '' END",
        "error_detail": (
            f"CASE WHEN {failed} THEN jsonb_build_object('code', 'validation_failed', "
            "'message', 'Invalid', 'meta', jsonb_build_object('errors', jsonb_build_array("
            "jsonb_build_object('key', 'recipients.0.email', 'message', 'Invalid address'))))"
            " ELSE '{}'::jsonb END"
        ),
    }


def items_insert(job_ids, count: int, *, expressions: dict[str, str], first: int = 1) -> int:
    """Insert items number `first` … `first + count - 1` of each job; returns how many."""
    from django.db import connection

    from partnerapp.jobs.models import JobItem

    columns, values, params = [], [], []
    for field in JobItem._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in expressions:
            values.append(expressions[field.name])
        elif field.name == "job":
            values.append("job.id")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    # Our own column names and expressions (no input from outside); values as parameters.
    sql = (
        f"INSERT INTO {JobItem._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM unnest(%s::bigint[]) AS job (id) "
        f"CROSS JOIN generate_series(%s, %s) AS n ORDER BY job.id, n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, list(job_ids), first, first + count - 1])
        return cursor.rowcount

"""Statements a job runs for every item, bound and prepared on the PostgreSQL server.

Django's psycopg cursors bind parameters on the client: each execution quotes every
value into the SQL text in Python, and the server parses and plans the text anew. For
the few statements a job runs per item (the claim, the outcome, the permit) that quoting
was about a tenth of a worker's CPU (bench_jobs, sampled with py-spy). `cursor()` gives a
server-binding psycopg cursor on Django's own connection — the same transaction, Django's
error translation and execute wrappers (DEBUG's query log, the benchmarks' counters) —
and psycopg prepares a statement once it ran five times on the connection (settings:
DATABASE_PREPARED_STATEMENTS; Django's own cursors never prepare). The statements name
their columns rather than `*`, so that a column added by a migration while a worker runs
does not change a prepared statement's result.

Elsewhere (SQLite, which `make demo` uses) it is Django's own cursor.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model


def cursor():
    """A cursor on the default connection; on PostgreSQL one that binds on the server."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = psycopg.Cursor(connection.connection)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    return wrap(raw)


def columns(model: type[Model], *, table: str = "") -> str:
    """The model's columns, for a statement's SELECT or RETURNING list (`table.` before
    each when given), in the order `instance` takes them."""
    prefix = f"{table}." if table else ""
    quote = connection.ops.quote_name
    return ", ".join(prefix + quote(field.column) for field in model._meta.concrete_fields)


def instance(model: type[Model], values: tuple[Any, ...]) -> Model:
    """A model instance from a row of `columns(model)`, converted as Django would."""
    fields = model._meta.concrete_fields
    converted = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], converted)

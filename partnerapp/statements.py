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

The psycopg cursor is made once per database connection and kept for the next
statement (a cursor without a server-side portal holds nothing but its last result):
making one, and Django's wrapper around it, cost a third of a short statement's CPU.

Elsewhere (SQLite, which `make demo` uses) it is Django's own cursor.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model


class _Kept(CursorWrapper):
    """Django's cursor wrapper, but leaving the `with` block keeps the cursor open."""

    def __exit__(self, *exc_info: object) -> None:
        return None


class _KeptDebug(CursorDebugWrapper):
    def __exit__(self, *exc_info: object) -> None:
        return None


def cursor():
    """A cursor on the default connection; on PostgreSQL one that binds on the server."""
    db = connections[DEFAULT_DB_ALIAS]  # this thread's connection
    if db.vendor != "postgresql":
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = db.__dict__.get("_server_binding_cursor")
    if raw is None or raw.closed or raw.connection is not db.connection:
        import psycopg

        with db.wrap_database_errors:
            raw = db.__dict__["_server_binding_cursor"] = psycopg.Cursor(db.connection)
    return (_KeptDebug if db.queries_logged else _Kept)(raw, db)


def columns(model: type[Model], *, table: str = "") -> str:
    """The model's columns, for a statement's SELECT or RETURNING list (`table.` before
    each when given), in the order `instance` takes them."""
    prefix = f"{table}." if table else ""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return ", ".join(prefix + quote(field.column) for field in model._meta.concrete_fields)


def instance(model: type[Model], values: tuple[Any, ...]) -> Model:
    """A model instance from a row of `columns(model)`, converted as Django would."""
    db = connections[DEFAULT_DB_ALIAS]
    names, converters = _conversion(model)
    converted = [
        value if convert is None else convert(value, None, db)
        for convert, value in zip(converters, values, strict=True)
    ]
    return model.from_db(DEFAULT_DB_ALIAS, names, converted)


@functools.cache
def _conversion(model: type[Model]) -> tuple[list[str], list[Any]]:
    """The model's attribute names, and each field's `from_db_value` (or None)."""
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    return names, [getattr(field, "from_db_value", None) for field in fields]


INSERT = "INSERT INTO {table} ({columns}) VALUES ({values}){conflicts}"


def rows_insert(model: type[Model], objs: list[Model], *, ignore_conflicts: bool = False) -> None:
    """Insert unsaved `objs` (the database numbers them; their `pk` stays unset) in one
    round trip: on PostgreSQL a statement bound on the server, run for every row in
    psycopg's pipeline mode (`executemany`). For the items a job prepares, 200 a page:
    Django's bulk_create quotes every value into an array literal on the client, which
    was half of preparing's CPU. Elsewhere it is bulk_create. Values are Django's own
    (`pre_save`, `get_db_prep_save`): defaults, auto_now_add and JSON as bulk_create
    writes them."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        model.objects.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    if not objs:
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    quote = db.ops.quote_name
    sql = INSERT.format(
        table=quote(model._meta.db_table),
        columns=", ".join(quote(field.column) for field in fields),
        values=", ".join(["%s"] * len(fields)),
        conflicts=" ON CONFLICT DO NOTHING" if ignore_conflicts else "",
    )
    rows = [
        [field.get_db_prep_save(field.pre_save(obj, True), db) for field in fields] for obj in objs
    ]
    with transaction.atomic(using=db.alias), cursor() as kept:  # all or none, as one INSERT
        kept.executemany(sql, rows)

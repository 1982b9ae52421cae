"""Model instances from SELECTs written once, for the few statements every API call runs.

The ORM compiles a query again on every execution, and for the joins every call needs
(the access token with its owner, client, grant and fault profile; the document with
its contact) that compiling was most of a send's CPU: 1.6 ms for the token lookup
through the ORM, 0.15 ms for the same statement written out (measured on the
benchmark machine; tests/benchmarks/bench_sandbox_throughput.py).

`Columns` lists a model's concrete columns under a table alias, taken from the model
itself (so a new field needs no edit here), and makes the instance from its slice of
a row with Django's own converters (the database backend's and the field's), so the
instance is the one the ORM would have made, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


class Columns:
    """A model's columns in a SELECT under `alias`, and the instance from its values."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = model._meta.concrete_fields
        self._pk_position = self.fields.index(model._meta.pk)
        self._converters: list[tuple[int, list, Any]] | None = None

    def __len__(self) -> int:
        return len(self.fields)

    def table(self) -> str:
        """`"table" alias`, for FROM and JOIN."""
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return f"{quote(self.model._meta.db_table)} {self.alias}"

    def select(self) -> str:
        """`alias."col1", alias."col2", …` in the model's field order."""
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return ", ".join(f"{self.alias}.{quote(field.column)}" for field in self.fields)

    def instance(self, values: Sequence[Any]) -> Model | None:
        """The instance these values describe; None for the NULLs of an outer join's miss."""
        if values[self._pk_position] is None:
            return None
        values = list(values)
        connection = connections[DEFAULT_DB_ALIAS]
        for position, converters, column in self._converters_for(connection):
            value = values[position]
            for converter in converters:
                value = converter(value, column, connection)
            values[position] = value
        return self.model.from_db(DEFAULT_DB_ALIAS, None, values)

    def _converters_for(self, connection) -> list[tuple[int, list, Any]]:
        """Which positions need converting, and how (worked out once per process)."""
        if self._converters is None:
            found = []
            for position, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                converters = connection.ops.get_db_converters(column)
                converters += column.get_db_converters(connection)
                if converters:
                    found.append((position, converters, column))
            self._converters = found
        return self._converters


class Table:
    """A model's INSERT, written once: what `save()` does for a new row without compiling
    the statement again (the field's own `pre_save` and `get_db_prep_save` prepare each
    value; the primary key comes back through RETURNING: PostgreSQL, SQLite >= 3.35)."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        self._sql: str | None = None

    def insert(self, instance: Model) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        values = [
            field.get_db_prep_save(field.pre_save(instance, True), connection)
            for field in self.fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(self._insert_sql(connection), values)
            instance.pk = cursor.fetchone()[0]
        instance._state.adding = False
        instance._state.db = DEFAULT_DB_ALIAS

    def _insert_sql(self, connection) -> str:
        if self._sql is None:
            quote = connection.ops.quote_name
            columns = ", ".join(quote(field.column) for field in self.fields)
            marks = ", ".join(["%s"] * len(self.fields))
            table, pk = quote(self.model._meta.db_table), quote(self.model._meta.pk.column)
            self._sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
        return self._sql


def split(row: Sequence[Any], *parts: Columns) -> list[Model | None]:
    """One instance per part, from consecutive slices of `row` (as the SELECT listed them)."""
    instances, start = [], 0
    for part in parts:
        instances.append(part.instance(row[start : start + len(part)]))
        start += len(part)
    return instances

"""Model instances from one plain-SQL row, for the few hottest reads.

Through the ORM, building a query with three `select_related` joins costs about twenty times
running it (README, Performance): a doctor page paid more for reading its doctor than for
computing and rendering two weeks. A hot read writes its SQL once with `columns()` and turns
each row into instances with `instances()`: every concrete field, converted as the ORM
converts it (a UUID kept as text by SQLite, a decimal), so the instances are whole, never
deferred, and behave as any loaded by a queryset.

The same reads go through `cursor()`: on PostgreSQL, a cursor that sends the parameters apart
from the statement, so that psycopg prepares a statement the connection runs again and again
and PostgreSQL parses and plans it once per connection instead of once per request.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model


@functools.cache
def columns(model: type[Model], alias: str) -> str:
    """Every concrete column of the model, qualified by the table's alias in the query, in
    the order `instances()` reads them."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(str(f.column))}" for f in model._meta.concrete_fields)


@functools.cache
def _layout(
    model: type[Model], alias: str
) -> tuple[list[str], int, list[tuple[int, Any, list[Any]]]]:
    # Per database alias, not per connection: the converters depend on the alias's settings
    # (its backend, its time zone), alike for each thread's connection to it.
    names, converters = [], []
    for i, field in enumerate(model._meta.concrete_fields):
        names.append(field.attname)
        col = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if found:
            converters.append((i, col, found))
    return names, names.index(model._meta.pk.attname), converters


def instances(row: Sequence[Any], *models: type[Model]) -> list[Any]:
    """One instance of each model from the row, in order: the row holds each model's
    `columns()` one after the other. None for a model whose primary key is NULL (a LEFT
    JOIN that found nothing)."""
    values = list(row)
    made: list[Any] = []
    start = 0
    for model in models:
        names, pk, converters = _layout(model, connection.alias)
        end = start + len(names)
        part = values[start:end]
        start = end
        if part[pk] is None:
            made.append(None)
            continue
        for i, col, found in converters:
            for convert in found:
                part[i] = convert(part[i], col, connection)
        made.append(model.from_db(connection.alias, names, part))
    return made


def cursor() -> CursorWrapper:
    """A cursor for a hot read written in plain SQL, the same wrapper `connection.cursor()`
    gives (its queries are logged and counted, its errors are Django's).

    On PostgreSQL its parameters are bound on the server, where Django's own cursors send
    each statement with its values quoted into the text, which PostgreSQL parses and plans
    anew each time: for the doctor's read with its three joins that cost six times running
    the prepared statement (README, Performance). psycopg prepares a statement once the
    connection has run it `prepare_threshold` times (5), and keeps it as long as the
    connection (`CONN_MAX_AGE`). Only for reads whose parameters all have a type (no bare
    None): a value bound on the server must tell PostgreSQL what it is."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    # As connection.cursor() does (DatabaseWrapper._cursor and create_cursor): the health
    # check, the connection, the time zone its timestamps are read in, Django's wrapper.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
        loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != loader.timezone:
            register_tzloader(connection.timezone, raw)
        connection.validate_thread_sharing()
        if connection.queries_logged:
            return connection.make_debug_cursor(raw)  # type: ignore[arg-type]
        return connection.make_cursor(raw)  # type: ignore[arg-type]

"""Model instances from one plain-SQL row, for the few hottest reads.

Through the ORM, building a query with three `select_related` joins costs about twenty times
running it (README, Performance): a doctor page paid more for reading its doctor than for
computing and rendering two weeks. A hot read writes its SQL once with `columns()` and turns
each row into instances with `instances()`: every concrete field, converted as the ORM
converts it (a UUID kept as text by SQLite, a decimal), so the instances are whole, never
deferred, and behave as any loaded by a queryset.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection
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

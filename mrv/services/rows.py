"""New rows as SQL parts, for writes that put several rows in one statement on PostgreSQL.

``Model.save()`` sends one statement per row and compiles it through the ORM each time. The hot
writes (a report with its first revision, an audit event with the chain head) instead build their
columns and values here, exactly as ``save()`` would write them, and send them in one statement.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection, models


@cache
def _insert_fields(model: type[models.Model]) -> tuple[tuple[models.Field[Any, Any], str, str], ...]:
    """The fields a new row is written with, each with its quoted column and its placeholder."""
    meta, found = model._meta, []
    for field in meta.local_concrete_fields:
        if field is meta.auto_field or getattr(field, "generated", False):
            continue
        db_type = field.db_type(connection) or ""
        # A typed placeholder also serves INSERT ... SELECT (where an untyped NULL would be text);
        # text columns stay untyped so that an over-long value is refused, not cut by a cast.
        typed = connection.vendor == "postgresql" and not db_type.startswith(("varchar", "text"))
        placeholder = f"%s::{db_type}" if typed else "%s"
        found.append((field, connection.ops.quote_name(field.column), placeholder))
    return tuple(found)


def insert_parts(instance: models.Model, *, omit: tuple[str, ...] = ()) -> tuple[str, str, list[Any]]:
    """``(columns, placeholders, values)`` of a new row: comma-separated column names, their
    placeholders and their database values, as ``save(force_insert=True)`` would send them
    (``auto_now_add`` fields are set on the instance, as ``save()`` sets them). Fields named in
    ``omit`` are left for the caller to add."""
    columns, placeholders, values = [], [], []
    for field, column, placeholder in _insert_fields(type(instance)):
        if field.name in omit:
            continue
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{field.name}: database expressions are not supported here")
        columns.append(column)
        placeholders.append(placeholder)
        values.append(field.get_db_prep_save(value, connection=connection))
    return ", ".join(columns), ", ".join(placeholders), values


def mark_saved(instance: models.Model, pk: int) -> None:
    """The instance now stands for its stored row (as after ``save()``)."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias

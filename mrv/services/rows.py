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
def _insert_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    meta = model._meta
    return tuple(
        field
        for field in meta.local_concrete_fields
        if field is not meta.auto_field and not getattr(field, "generated", False)
    )


def insert_parts(instance: models.Model, *, omit: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    """``(columns, values)`` of a new row: the comma-separated column names and their database
    values, as ``save(force_insert=True)`` would send them (``auto_now_add`` fields are set on the
    instance, as ``save()`` sets them). Fields named in ``omit`` are left for the caller to add."""
    columns, values = [], []
    for field in _insert_fields(type(instance)):
        if field.name in omit:
            continue
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{field.name}: database expressions are not supported here")
        columns.append(connection.ops.quote_name(field.column))
        values.append(field.get_db_prep_save(value, connection=connection))
    return ", ".join(columns), values


def placeholders(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def mark_saved(instance: models.Model, pk: int) -> None:
    """The instance now stands for its stored row (as after ``save()``)."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias

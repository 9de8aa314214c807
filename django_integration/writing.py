"""The statements `recording` runs on every delivery, as SQL built from the models' own table and
column names and values converted by the models' own fields.

The ORM compiles each query anew on every call, which cost ~2 ms of CPU per recorded delivery,
ten times the database's own work; these statements cost microseconds to build. They run through
Django's cursor, so its transactions, error wrapping and `execute_wrapper`s all apply.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.db import connections
from django.db import models as db_models

from django_integration import models


def insert(instance: db_models.Model, using: str) -> Any:
    """INSERT `instance` (every concrete field; an auto primary key left to the database) and
    return its primary key."""
    connection = connections[using]
    model = type(instance)
    pk = model._meta.pk
    assert pk is not None
    auto = isinstance(pk, db_models.AutoField | db_models.BigAutoField) and instance.pk is None
    sql, fields = _insert(model, using, auto)
    values = [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if not auto:
            return instance.pk
        if connection.features.can_return_columns_from_insert:
            row = cursor.fetchone()
            value = row[0]
        else:
            value = connection.ops.last_insert_id(cursor, model._meta.db_table, pk.column)
    instance.pk = value
    return value


def update(
    model: type[db_models.Model],
    using: str,
    changes: Mapping[str, Any],
    where: Mapping[str, Any],
) -> int:
    """UPDATE the rows of `model` matching every `where` field (equality) with `changes`: the
    number of rows changed."""
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = model._meta
    assignments, values = [], []
    for name, value in changes.items():
        field = meta.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")  # type: ignore[union-attr]
        values.append(field.get_db_prep_save(value, connection))  # type: ignore[union-attr]
    conditions = []
    for name, value in where.items():
        field = meta.get_field(name)
        conditions.append(f"{quote(field.column)} = %s")  # type: ignore[union-attr]
        values.append(field.get_db_prep_value(value, connection))  # type: ignore[union-attr]
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "
        f"WHERE {' AND '.join(conditions)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return int(cursor.rowcount)


def resume(using: str, delivery_key: str, now: Any) -> int:
    """Count a delivery on the newest unfinished run of `delivery_key` (RUNNING, one more
    attempt): the number of runs changed, 0 or 1. One statement that writes, so SQLite takes its
    write lock at once instead of failing to upgrade a read lock."""
    connection = connections[using]
    field = models.TaskRun._meta.get_field
    values = [
        models.Status.RUNNING,
        field("last_attempted_at").get_db_prep_save(now, connection),  # type: ignore[union-attr]
        delivery_key,
        models.Status.SUCCESSFUL,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_resume(using), values)
        return int(cursor.rowcount)


@functools.cache
def _insert(
    model: type[db_models.Model], using: str, auto: bool
) -> tuple[str, list[db_models.Field[Any, Any]]]:
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (auto and f.primary_key)]
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"
    if auto and connection.features.can_return_columns_from_insert:
        # Django 6 renamed it (it serves UPDATE too); 5.2 has only the old name.
        ops = connection.ops
        columns = getattr(ops, "returning_columns", None) or ops.return_insert_columns
        returning, _ = columns([meta.pk])
        sql = f"{sql} {returning}"
    return sql, fields


@functools.cache
def _resume(using: str) -> str:
    quote = connections[using].ops.quote_name
    meta = models.TaskRun._meta

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)  # type: ignore[union-attr]

    table, pk = quote(meta.db_table), column("id")
    # The inner SELECT sits in a derived table: MySQL refuses a subquery on the updated table.
    return (
        f"UPDATE {table} SET {column('status')} = %s, {column('attempts')} = "
        f"{column('attempts')} + 1, {column('last_attempted_at')} = %s, "
        f"{column('finished_at')} = NULL WHERE {pk} = (SELECT {pk} FROM (SELECT {pk} FROM "
        f"{table} WHERE {column('delivery_key')} = %s AND {column('status')} <> %s ORDER BY "
        f"{column('created_at')} DESC LIMIT 1) AS newest)"
    )

"""What the database really holds, compared with what the models say.

Used by the drift and orphan tests and reusable by the integrity tooling:

- :func:`foreign_keys` lists every FK of every installed model (contrib ones
  and auto-created M2M tables included), straight from ``_meta``.
- :func:`db_fk_actions` reads the ON DELETE action of every FK constraint from
  the catalog (``pg_constraint.confdeltype`` on PostgreSQL, ``PRAGMA
  foreign_key_list`` on SQLite).
- :func:`fk_action_drift` compares both and returns one line per mismatch.
- :func:`orphan_counts` counts, per FK, the rows pointing at a missing parent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field

from workspace.db.on_delete import PG_CONFDELTYPE, expected_db_action


@dataclass(frozen=True)
class DbForeignKey:
    table: str
    column: str
    ref_table: str
    ref_column: str
    action: str  # "CASCADE", "SET NULL", "NO ACTION", ...
    name: str = ""  # constraint name (PostgreSQL; SQLite FKs are unnamed)


def foreign_keys(*, app_labels: set[str] | None = None) -> list[Field]:
    """Every concrete FK / one-to-one field that owns a column and a database
    constraint, of every installed (managed, non-proxy) model, including the
    auto-created M2M tables; ordered by table then column."""
    fields = []
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if opts.proxy or not opts.managed or opts.swapped:
            continue
        if app_labels is not None and opts.app_label not in app_labels:
            continue
        for field in opts.local_concrete_fields:
            if field.is_relation and (field.many_to_one or field.one_to_one) and field.db_constraint:
                fields.append(field)
    return sorted(fields, key=lambda f: (f.model._meta.db_table, f.column))


def field_label(field: Field) -> str:
    return f"{field.model._meta.label}.{field.name}"


def _pg_fk_actions(cursor) -> list[DbForeignKey]:
    cursor.execute(
        """
        SELECT c1.relname, a1.attname, c2.relname, a2.attname, con.confdeltype, con.conname
        FROM pg_constraint con
        JOIN pg_class c1 ON c1.oid = con.conrelid
        JOIN pg_class c2 ON c2.oid = con.confrelid
        JOIN pg_attribute a1 ON a1.attrelid = con.conrelid AND a1.attnum = con.conkey[1]
        JOIN pg_attribute a2 ON a2.attrelid = con.confrelid AND a2.attnum = con.confkey[1]
        WHERE con.contype = 'f' AND pg_catalog.pg_table_is_visible(c1.oid)
        """
    )
    return [
        DbForeignKey(table, column, ref_table, ref_column, PG_CONFDELTYPE[code], name)
        for table, column, ref_table, ref_column, code, name in cursor.fetchall()
    ]


def _sqlite_fk_actions(connection, cursor) -> list[DbForeignKey]:
    result = []
    for table in connection.introspection.table_names(cursor):
        cursor.execute("PRAGMA foreign_key_list(%s)" % connection.ops.quote_name(table))
        for _id, _seq, ref_table, column, ref_column, _on_update, on_delete, _match in cursor.fetchall():
            result.append(DbForeignKey(table, column, ref_table, ref_column, on_delete.upper()))
    return result


def db_fk_actions(using: str = DEFAULT_DB_ALIAS) -> dict[tuple[str, str], list[DbForeignKey]]:
    """``{(table, column): [constraints]}`` for every FK constraint in the
    database (a list: a column could wrongly carry two constraints)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            rows = _pg_fk_actions(cursor)
        elif connection.vendor == "sqlite":
            rows = _sqlite_fk_actions(connection, cursor)
        else:  # pragma: no cover - only the two supported backends
            raise NotImplementedError(connection.vendor)
    found = defaultdict(list)
    for row in rows:
        found[row.table, row.column].append(row)
    return dict(found)


def fk_action_drift(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """One human-readable line per FK whose database constraint is missing,
    duplicated, points elsewhere, or carries another ON DELETE action than
    the model's ``on_delete`` maps to (``expected_db_action``). Empty when the
    database mirrors the models exactly."""
    actual = db_fk_actions(using)
    drift = []
    for field in foreign_keys():
        table, column = field.model._meta.db_table, field.column
        expected = expected_db_action(field)
        constraints = actual.get((table, column), [])
        label = f"{field_label(field)} ({table}.{column})"
        if not constraints:
            drift.append(f"{label}: no FK constraint in the database (expected ON DELETE {expected})")
            continue
        if len(constraints) > 1:
            drift.append(f"{label}: {len(constraints)} FK constraints on one column")
        ref_table = field.related_model._meta.db_table
        for constraint in constraints:
            if constraint.ref_table != ref_table:
                drift.append(f"{label}: references {constraint.ref_table}, expected {ref_table}")
            if constraint.action != expected:
                name = f" [{constraint.name}]" if constraint.name else ""
                drift.append(
                    f"{label}{name}: database ON DELETE {constraint.action}, model expects {expected}"
                )
    return drift


def orphan_counts(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """``{"app.Model.field": n}`` for every FK with ``n > 0`` rows pointing at
    a parent that does not exist. Empty when nothing is orphaned."""
    connection = connections[using]
    qn = connection.ops.quote_name
    orphans = {}
    with connection.cursor() as cursor:
        for field in foreign_keys():
            child, parent = field.model._meta, field.related_model._meta
            cursor.execute(
                f"SELECT COUNT(*) FROM {qn(child.db_table)} c "
                f"WHERE c.{qn(field.column)} IS NOT NULL AND NOT EXISTS ("
                f"SELECT 1 FROM {qn(parent.db_table)} p "
                f"WHERE p.{qn(field.target_field.column)} = c.{qn(field.column)})"
            )
            (count,) = cursor.fetchone()
            if count:
                orphans[field_label(field)] = count
    return orphans

"""The named constraints and indexes the live database has, for the report.

FK actions and their drift are the integrity core's
(``workspace.db.introspection``: ``fk_statuses``, ``fk_drift``); this module
adds Django's introspection of the other constraints. Catalogue reads only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections

from workspace.db.catalog import foreign_key_constraints
from workspace.db.lineage import all_models


@dataclass(frozen=True)
class DbConstraint:
    table: str
    name: str
    kind: str
    columns: tuple[str, ...]


def _kind(info: dict) -> str:
    if info.get("primary_key"):
        return "PRIMARY KEY"
    if info.get("foreign_key"):
        return "FOREIGN KEY"
    if info.get("unique"):
        return "UNIQUE"
    if info.get("check"):
        return "CHECK"
    if info.get("index"):
        return "INDEX"
    return "OTHER"


def db_constraints(models=None, using: str = DEFAULT_DB_ALIAS) -> list[DbConstraint]:
    """Constraints and indexes of the given tables as the database reports them."""
    connection = connections[using]
    result = []
    named_fks = defaultdict(list)
    for fk in foreign_key_constraints(using):
        if fk.name:
            named_fks[fk.table].append(fk)
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for model in all_models() if models is None else models:
            table = model._meta.db_table
            if table not in existing:
                continue
            found = connection.introspection.get_constraints(cursor, table)
            for name, info in found.items():
                result.append(DbConstraint(table, name, _kind(info), tuple(info.get("columns") or ())))
            # SQLite's introspection leaves foreign keys unnamed; the composite
            # tenant keys are named in the table's SQL (workspace/db/catalog.py).
            for fk in named_fks.get(table, ()):
                if fk.name not in found:
                    result.append(DbConstraint(table, fk.name, "FOREIGN KEY", fk.columns))
    return sorted(result, key=lambda c: (c.table, c.kind, c.name))


def db_exclusion_constraints(using: str = DEFAULT_DB_ALIAS) -> set[str]:
    """Names of the exclusion constraints (PostgreSQL only)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT con.conname FROM pg_constraint con "
            "JOIN pg_class cl ON cl.oid = con.conrelid "
            "WHERE con.contype = 'x' AND pg_catalog.pg_table_is_visible(cl.oid)"
        )
        return {row[0] for row in cursor.fetchall()}

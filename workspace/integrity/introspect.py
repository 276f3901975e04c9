"""What the live database enforces, next to what the models require.

FK actions come from ``workspace.db.introspection.db_fk_actions``
(``pg_constraint`` on PostgreSQL, ``PRAGMA foreign_key_list`` on SQLite);
named constraints from Django's introspection. Catalogue reads only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections

from workspace.db.introspection import DbForeignKey, db_fk_actions
from workspace.db.lineage import Edge, all_edges, all_models


@dataclass(frozen=True)
class FkStatus:
    """One model FK next to the database constraint(s) on its column."""

    edge: Edge
    db: tuple[DbForeignKey, ...]

    @property
    def actual(self) -> str:
        if not self.db:
            return "missing"
        return ", ".join(sorted({fk.action for fk in self.db}))

    @property
    def ok(self) -> bool:
        return (
            len(self.db) == 1
            and self.db[0].action == self.edge.db_action
            and self.db[0].ref_table == self.edge.parent_table
        )

    @property
    def status(self) -> str:
        if self.ok:
            return "match"
        if not self.db:
            return "DRIFT (no constraint)"
        if len(self.db) > 1:
            return "DRIFT (duplicate constraints)"
        if self.db[0].ref_table != self.edge.parent_table:
            return "DRIFT (references another table)"
        return "DRIFT"


def fk_statuses(edges=None, using: str = DEFAULT_DB_ALIAS) -> list[FkStatus]:
    db = db_fk_actions(using)
    return [
        FkStatus(edge=e, db=tuple(db.get((e.table, e.column), ())))
        for e in (all_edges() if edges is None else edges)
    ]


def fk_drift(using: str = DEFAULT_DB_ALIAS) -> list[FkStatus]:
    """Model FKs whose database constraint is missing or carries another
    action (tables not created yet are left out)."""
    tables = set(connections[using].introspection.table_names())
    return [s for s in fk_statuses(using=using) if not s.ok and s.edge.table in tables]


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
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for model in all_models() if models is None else models:
            table = model._meta.db_table
            if table not in existing:
                continue
            for name, info in connection.introspection.get_constraints(cursor, table).items():
                result.append(DbConstraint(table, name, _kind(info), tuple(info.get("columns") or ())))
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

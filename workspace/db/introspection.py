"""What the database really holds, compared with what the models say: the
one integrity core (docs/integrity.md). The audit, the report, the drill, the
tests and the bench all read through it:

- :func:`foreign_keys` lists every FK of every installed model (contrib ones
  and auto-created M2M tables included): the lineage's edges
  (``workspace.db.lineage.all_edges``).
- :func:`db_fk_actions` reads the ON DELETE action of every FK constraint from
  the catalog (``pg_constraint.confdeltype`` on PostgreSQL, ``PRAGMA
  foreign_key_list`` on SQLite).
- :func:`fk_statuses` / :func:`fk_drift` compare both, FK by FK (the one place
  that decides what drift is); :func:`fk_action_drift` words it.
- :func:`orphan_querysets` finds, per FK, the rows pointing at a missing
  parent (one anti-join each, optionally one company's);
  :func:`orphan_counts` counts them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Exists, Field, OuterRef, Q, QuerySet

from workspace.db.lineage import Edge, all_edges, cascade_paths
from workspace.db.on_delete import PG_CONFDELTYPE


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
    return [
        edge.field
        for edge in all_edges()
        if app_labels is None or edge.child._meta.app_label in app_labels
    ]


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

    def problems(self) -> list[str]:
        """One readable line per mismatch (empty when ``ok``)."""
        edge = self.edge
        label = f"{edge.label} ({edge.table}.{edge.column})"
        if not self.db:
            return [f"{label}: no FK constraint in the database (expected ON DELETE {edge.db_action})"]
        lines = []
        if len(self.db) > 1:
            lines.append(f"{label}: {len(self.db)} FK constraints on one column")
        for constraint in self.db:
            if constraint.ref_table != edge.parent_table:
                lines.append(f"{label}: references {constraint.ref_table}, expected {edge.parent_table}")
            if constraint.action != edge.db_action:
                name = f" [{constraint.name}]" if constraint.name else ""
                lines.append(
                    f"{label}{name}: database ON DELETE {constraint.action}, model expects {edge.db_action}"
                )
        return lines


def fk_statuses(edges: Iterable[Edge] | None = None, using: str = DEFAULT_DB_ALIAS) -> list[FkStatus]:
    """Every model FK (or those of ``edges``) with the constraints the
    database has on its column. The one comparison of models and catalog:
    extend it here (e.g. for composite constraints)."""
    db = db_fk_actions(using)
    return [
        FkStatus(edge=e, db=tuple(db.get((e.table, e.column), ())))
        for e in (all_edges() if edges is None else edges)
    ]


def fk_drift(using: str = DEFAULT_DB_ALIAS) -> list[FkStatus]:
    """Model FKs whose database constraint is missing, duplicated, points
    elsewhere or carries another ON DELETE action than the model's
    ``on_delete`` maps to (tables not created yet are left out)."""
    tables = set(connections[using].introspection.table_names())
    return [s for s in fk_statuses(using=using) if not s.ok and s.edge.table in tables]


def fk_action_drift(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """:func:`fk_drift` in words, one line per mismatch; empty when the
    database mirrors the models exactly."""
    return [line for status in fk_drift(using) for line in status.problems()]


# --- Orphans ----------------------------------------------------------------


def _company_scope(edge: Edge, company_id: int) -> Q | None:
    """Rows of ``edge.child`` that belong to the company through a path that
    does not go through the broken FK itself (None: not attributable)."""
    paths = [p for p in cascade_paths(edge.child) if p.split("__", 1)[0] != edge.field.name]
    if not paths:
        return None
    q = Q()
    for path in paths:
        q |= Q(**{path: company_id})
    return q


def orphan_querysets(
    company_id: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> Iterator[tuple[Edge, QuerySet]]:
    """For every FK, the rows whose parent is missing (one anti-join each);
    with ``company_id``, only the rows that company owns through another
    path."""
    existing = set(connections[using].introspection.table_names())
    for edge in all_edges():
        if edge.table not in existing or edge.parent_table not in existing:
            continue
        attname = edge.field.attname
        parent_exists = Exists(
            edge.parent._base_manager.using(using).filter(
                **{edge.field.target_field.attname: OuterRef(attname)}
            )
        )
        qs = (
            edge.child._base_manager.using(using)
            .filter(**{f"{attname}__isnull": False})
            .filter(~parent_exists)
        )
        if company_id is not None:
            scope = _company_scope(edge, company_id)
            if scope is None:
                continue
            qs = qs.filter(scope)
        yield edge, qs


def orphan_counts(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """``{"app.Model.field": n}`` for every FK with ``n > 0`` rows pointing at
    a parent that does not exist. Empty when nothing is orphaned."""
    counts = {}
    for edge, qs in orphan_querysets(using=using):
        count = qs.count()
        if count:
            counts[edge.label] = count
    return counts

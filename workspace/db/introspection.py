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
from workspace.db.catalog import foreign_key_constraints
from workspace.db.tenant import TENANT_FIELD

TENANT_ATTNAME = f"{TENANT_FIELD}_id"


@dataclass(frozen=True)
class DbForeignKey:
    """One FK constraint of the catalog. A composite tenant key
    ``(company_id, x_id)`` is one constraint, filed under ``x_id``."""

    table: str
    column: str  # the relation's own column (the last one of a composite key)
    ref_table: str
    ref_column: str
    action: str  # "CASCADE", "SET NULL", "NO ACTION", ...
    name: str = ""  # constraint name (PostgreSQL; SQLite FKs are unnamed)
    columns: tuple[str, ...] = ()
    ref_columns: tuple[str, ...] = ()
    set_null_columns: tuple[str, ...] = ()  # PostgreSQL 15's SET NULL (column)

    @property
    def shape(self) -> tuple:
        return (self.columns, self.ref_table, self.ref_columns, self.action, self.set_null_columns)

    def describe(self) -> str:
        action = self.action + (f" ({', '.join(self.set_null_columns)})" if self.set_null_columns else "")
        return action if len(self.columns) == 1 else f"{action} on ({', '.join(self.columns)})"


def foreign_keys(*, app_labels: set[str] | None = None) -> list[Field]:
    """Every concrete FK / one-to-one field the database enforces (by its own
    constraint or by a composite tenant key), of every installed model,
    including the auto-created M2M tables: the lineage's edges
    (``workspace.db.lineage.all_edges``)."""
    return [edge.field for edge in all_edges() if app_labels is None or edge.child._meta.app_label in app_labels]


def db_fk_actions(using: str = DEFAULT_DB_ALIAS) -> dict[tuple[str, str], list[DbForeignKey]]:
    """``{(table, column): [constraints]}`` for every FK constraint in the
    database, composite keys filed under their last column (a list: a column
    could wrongly carry two constraints, and on SQLite a nullable tenant
    relation carries its composite key and a single-column SET NULL one)."""
    found = defaultdict(list)
    for fk in foreign_key_constraints(using):
        set_null = ()
        action = fk.on_delete
        if action.startswith("SET NULL ("):
            action, set_null = "SET NULL", tuple(c.strip() for c in fk.on_delete[10:-1].split(","))
        found[fk.table, fk.columns[-1]].append(
            DbForeignKey(
                fk.table,
                fk.columns[-1],
                fk.ref_table,
                fk.ref_columns[-1],
                action,
                fk.name,
                fk.columns,
                fk.ref_columns,
                set_null,
            )
        )
    return dict(found)


def expected_constraints(edge: Edge, vendor: str) -> list[tuple]:
    """The constraint shapes (:attr:`DbForeignKey.shape`) that must enforce
    ``edge`` on ``vendor``."""
    if edge.tenant_key is None:
        return [((edge.column,), edge.parent_table, (edge.parent_column,), edge.db_action, ())]
    composite = (edge.columns, edge.parent_table, edge.parent_columns)
    if edge.db_action != "SET NULL":
        return [(*composite, edge.db_action, ())]
    if vendor == "postgresql":
        return [(*composite, "SET NULL", (edge.column,))]
    # SQLite: no SET NULL (column); the composite key is NO ACTION and a
    # single-column key does the SET NULL (workspace/db/tenant.py).
    return [(*composite, "NO ACTION", ()), ((edge.column,), edge.parent_table, (edge.parent_column,), "SET NULL", ())]


@dataclass(frozen=True)
class FkStatus:
    """One model FK next to the database constraint(s) on its column."""

    edge: Edge
    db: tuple[DbForeignKey, ...]
    expected: tuple[tuple, ...] = ()

    @property
    def actual(self) -> str:
        if not self.db:
            return "missing"
        return ", ".join(sorted({fk.describe() for fk in self.db}))

    @property
    def ok(self) -> bool:
        return sorted(fk.shape for fk in self.db) == sorted(self.expected)

    @property
    def status(self) -> str:
        if self.ok:
            return "match"
        if not self.db:
            return "DRIFT (no constraint)"
        if len(self.db) > len(self.expected):
            return "DRIFT (duplicate constraints)"
        if any(fk.ref_table != self.edge.parent_table for fk in self.db):
            return "DRIFT (references another table)"
        if self.edge.tenant_key and not any(len(fk.columns) > 1 for fk in self.db):
            return "DRIFT (no composite tenant key)"
        return "DRIFT"

    def problems(self) -> list[str]:
        """One readable line per mismatch (empty when ``ok``)."""
        edge = self.edge
        label = f"{edge.label} ({edge.table}.{edge.column})"
        expected = " + ".join(_describe_shape(shape) for shape in self.expected)
        if not self.db:
            return [f"{label}: no FK constraint in the database (expected ON DELETE {expected})"]
        if self.ok:
            return []
        lines = []
        if len(self.db) > len(self.expected):
            lines.append(f"{label}: {len(self.db)} FK constraints on one column")
        for constraint in self.db:
            if constraint.ref_table != edge.parent_table:
                lines.append(f"{label}: references {constraint.ref_table}, expected {edge.parent_table}")
            elif constraint.shape not in self.expected:
                name = f" [{constraint.name}]" if constraint.name else ""
                lines.append(f"{label}{name}: database ON DELETE {constraint.describe()}, model expects {expected}")
        if not lines:
            lines.append(f"{label}: database has ON DELETE {self.actual}, model expects {expected}")
        return lines


def _describe_shape(shape: tuple) -> str:
    columns, _ref_table, _ref_columns, action, set_null = shape
    action += f" ({', '.join(set_null)})" if set_null else ""
    return action if len(columns) == 1 else f"{action} on ({', '.join(columns)})"


def fk_statuses(edges: Iterable[Edge] | None = None, using: str = DEFAULT_DB_ALIAS) -> list[FkStatus]:
    """Every model FK (or those of ``edges``) with the constraints the
    database has on its column. The one comparison of models and catalog:
    extend it here (e.g. for composite constraints)."""
    db = db_fk_actions(using)
    vendor = connections[using].vendor
    return [
        FkStatus(
            edge=e,
            db=tuple(db.get((e.table, e.column), ())),
            expected=tuple(expected_constraints(e, vendor)),
        )
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


def orphan_querysets(company_id: int | None = None, using: str = DEFAULT_DB_ALIAS) -> Iterator[tuple[Edge, QuerySet]]:
    """For every FK, the rows whose parent is missing (one anti-join each);
    with ``company_id``, only the rows that company owns through another
    path."""
    existing = set(connections[using].introspection.table_names())
    for edge in all_edges():
        if edge.table not in existing or edge.parent_table not in existing:
            continue
        attname = edge.field.attname
        match = {edge.field.target_field.attname: OuterRef(attname)}
        if edge.tenant_key is not None:
            # A parent of another tenant is no parent: the composite key's view.
            match[TENANT_ATTNAME] = OuterRef(TENANT_ATTNAME)
        parent_exists = Exists(edge.parent._base_manager.using(using).filter(**match))
        qs = edge.child._base_manager.using(using).filter(**{f"{attname}__isnull": False}).filter(~parent_exists)
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

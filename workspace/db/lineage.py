"""The foreign-key graph of the project, read from the models only.

Everything here is deterministic (no database access): the lineage of every
table from ``Company`` down, the delete action of each edge, and the ORM paths
from any tenant-owned model back to its company. The report's deterministic
sections, the admin's delete summary, the audit's ``--company`` scope and the
cascade drill are all built on it, so they cannot disagree about what a tenant
owns.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q

from workspace.db.on_delete import expected_db_action
from workspace.db.tenant import TENANT_FIELD, TenantForeignKey, tenant_foreign_keys

ROOT_LABEL = "companies.Company"


@dataclass(frozen=True)
class Edge:
    """One foreign key: ``child.field`` -> ``parent``."""

    child: type[models.Model]
    field: models.Field
    parent: type[models.Model]
    #: The composite ``(company_id, x_id)`` key that enforces this relation in
    #: the database instead of a single-column one (workspace/db/tenant.py).
    tenant_key: TenantForeignKey | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The constrained columns: ``(company_id, x_id)`` for a tenant key."""
        return self.tenant_key.columns(self.child) if self.tenant_key else (self.column,)

    @property
    def parent_columns(self) -> tuple[str, ...]:
        if self.tenant_key:
            return (self.parent._meta.get_field(TENANT_FIELD).column, self.parent_column)
        return (self.parent_column,)

    @property
    def label(self) -> str:
        return f"{self.child._meta.label}.{self.field.name}"

    @property
    def table(self) -> str:
        return self.child._meta.db_table

    @property
    def column(self) -> str:
        return self.field.column

    @property
    def parent_table(self) -> str:
        return self.parent._meta.db_table

    @property
    def parent_column(self) -> str:
        return self.field.target_field.column

    @property
    def on_delete(self) -> str:
        """The ORM handler's name: CASCADE, SET_NULL, PROTECT, DB_CASCADE..."""
        return self.field.remote_field.on_delete.__name__

    @property
    def db_action(self) -> str:
        """The ON DELETE action the database constraint must carry."""
        return expected_db_action(self.field)

    @property
    def cascades(self) -> bool:
        return self.db_action == "CASCADE"

    @property
    def is_self(self) -> bool:
        return self.child is self.parent


def root_model() -> type[models.Model]:
    return apps.get_model(ROOT_LABEL)


def all_models() -> list[type[models.Model]]:
    """Every concrete table Django manages, M2M through tables included."""
    return sorted(
        (m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy),
        key=lambda m: m._meta.db_table,
    )


def _edges_of(model: type[models.Model]) -> list[Edge]:
    tenant_keys = {c.field: c for c in tenant_foreign_keys(model)}
    return [
        Edge(child=model, field=f, parent=f.related_model, tenant_key=tenant_keys.get(f.name))
        for f in model._meta.concrete_fields
        if f.is_relation and (f.many_to_one or f.one_to_one) and (f.db_constraint or f.name in tenant_keys)
    ]


@cache
def all_edges() -> tuple[Edge, ...]:
    """Every FK the database enforces (Django's single-column constraints and
    the composite tenant keys), ordered by (table, column)."""
    edges = [edge for model in all_models() for edge in _edges_of(model)]
    return tuple(sorted(edges, key=lambda e: (e.table, e.column)))


@cache
def tenant_models() -> tuple[type[models.Model], ...]:
    """``Company`` and every table below it (reachable through any FK), in
    breadth-first order, ties by table name."""
    root = root_model()
    children: dict[type[models.Model], list[type[models.Model]]] = {}
    for edge in all_edges():
        children.setdefault(edge.parent, []).append(edge.child)
    seen = {root: None}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for child in sorted(children.get(node, []), key=lambda m: m._meta.db_table):
            if child not in seen:
                seen[child] = None
                queue.append(child)
    return tuple(seen)


@cache
def depth() -> dict[type[models.Model], int]:
    root = root_model()
    result = {root: 0}
    changed = True
    while changed:
        changed = False
        for edge in all_edges():
            if edge.parent in result and not edge.is_self:
                candidate = result[edge.parent] + 1
                if candidate < result.get(edge.child, 1 << 30):
                    result[edge.child] = candidate
                    changed = True
    return result


@cache
def tenant_edges() -> tuple[Edge, ...]:
    """Every FK between two tenant tables (the lineage's edges)."""
    inside = set(tenant_models())
    return tuple(e for e in all_edges() if e.child in inside and e.parent in inside)


@cache
def tenant_table_edges() -> tuple[Edge, ...]:
    """Every FK of a tenant table, including those to tables outside the
    tenant (groups, permissions, content types): the delete policy table."""
    inside = set(tenant_models())
    return tuple(e for e in all_edges() if e.child in inside)


@cache
def home_edge() -> dict[type[models.Model], Edge]:
    """For each tenant table but the root, the edge under which the lineage
    diagram expands it: the owning parent (CASCADE before SET NULL, a
    structural parent before the person, then the shallowest)."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    d = depth()
    result = {}
    for model in tenant_models()[1:]:
        incoming = [e for e in tenant_edges() if e.child is model and not e.is_self]
        result[model] = min(
            incoming,
            key=lambda e: (
                not e.cascades,
                e.parent is user_model,
                d.get(e.parent, 1 << 30),
                e.parent_table,
                e.column,
            ),
        )
    return result


@cache
def cascade_paths(model: type[models.Model]) -> tuple[str, ...]:
    """ORM lookups from ``model`` to its company following CASCADE FKs only:
    every way a company delete reaches a row of ``model``. ``("pk",)`` for the
    company itself, ``()`` for a model a company delete cannot reach."""
    root = root_model()
    if model is root:
        return ("pk",)
    paths: list[str] = []

    def walk(current, prefix: list[str], visited: frozenset):
        for edge in _edges_of(current):
            if not edge.cascades or edge.parent in visited:
                continue
            path = [*prefix, edge.field.name]
            if edge.parent is root:
                paths.append("__".join(path))
            else:
                walk(edge.parent, path, visited | {edge.parent})

    walk(model, [], frozenset({model}))
    return tuple(sorted(paths, key=lambda p: (p.count("__"), p)))


@cache
def tenant_lookup(model: type[models.Model]) -> str | None:
    """The one ORM lookup from ``model`` to the owning company's id, used to
    scope the admin and to take a tenant's rows: the shortest of
    :func:`cascade_paths`, a structural parent (a message's channel) before a
    person (its author). ``"pk"`` for the company, ``None`` for global models
    (content types, permissions, groups, sessions)."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)

    def through_person(path: str) -> bool:
        first = path.split("__", 1)[0]
        return first != "pk" and model._meta.get_field(first).related_model is user_model

    paths = cascade_paths(model)
    if not paths:
        return None
    return min(paths, key=lambda p: (p.count("__"), through_person(p), p))


def tenant_q(model: type[models.Model], company_id: int) -> Q | None:
    """Rows of ``model`` that a delete of company ``company_id`` removes
    (None: no CASCADE path reaches ``model``)."""
    paths = cascade_paths(model)
    if not paths:
        return None
    q = Q()
    for path in paths:
        q |= Q(**{path: company_id})
    return q


def tenant_rows(model: type[models.Model], company_id: int):
    q = tenant_q(model, company_id)
    manager = model._base_manager
    return manager.none() if q is None else manager.filter(q)


def cascade_counts(company_id: int) -> dict[type[models.Model], int]:
    """How many rows of each tenant table a delete of the company removes:
    one COUNT per table, no row loaded (the admin's delete summary)."""
    counts = {}
    for model in tenant_models():
        if cascade_paths(model):
            counts[model] = tenant_rows(model, company_id).count()
    return counts

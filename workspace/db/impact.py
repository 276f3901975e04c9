"""Impact plans: exactly which rows a delete removes, computed set-based.

A plan starts from a root queryset (a user, a channel, a company, the
messages a retention run expires) and follows every foreign key whose
database action is ``ON DELETE CASCADE`` (the lineage, workspace/integrity/
lineage.py: the same edges the database cascades along) down to the leaves.
For each table reached it holds one queryset of the rows that go, built from
nested ``IN (subquery)`` filters, never from loaded rows; a self-referencing
cascade (``Message.parent``: replies of replies) is closed with a recursive
CTE. ``ON DELETE SET NULL`` edges are not deletions: the rows they touch are
reported as *detached* (``chat_channel.created_by_id``: channels that outlive
their creator, ``meetings_meeting.channel_id``: meetings that outlive their
channel).

Counting costs one ``COUNT`` per table reached (plus one per detaching edge),
whatever the size of the data: the previews of the admin and the API, and
the receipts' id streams, are built on it (docs/lifecycle.md, "Impact
previews").
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field

from contextlib import contextmanager

from django.core.exceptions import FieldDoesNotExist
from django.db import connections, models, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

from workspace.db.lineage import ROOT_LABEL, Edge, all_edges
from workspace.db.tenant import TENANT_FIELD


@contextmanager
def _without_jit(using: str):
    """Inside a transaction, ``SET LOCAL jit = off`` on PostgreSQL. The
    planner estimates a recursive CTE's work table at ten times its base and
    so prices a closure of 1,000 rows like one of 100,000: above
    ``jit_above_cost``, it compiles the query (~0.3 s) to run it in ~10 ms.
    The setting lasts until the end of the (outermost) transaction."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def _cascade_children(model) -> list[Edge]:
    return [e for e in all_edges() if e.parent is model and e.cascades and not e.is_self]


def _order_from(root) -> list[type[models.Model]]:
    """The models a delete of ``root`` rows can reach through CASCADE edges,
    in topological order (every parent before its children)."""
    reached = {root}
    stack = [root]
    while stack:
        for edge in _cascade_children(stack.pop()):
            if edge.child not in reached:
                reached.add(edge.child)
                stack.append(edge.child)
    incoming = {
        m: {e.parent for e in all_edges() if e.child is m and e.cascades and not e.is_self and e.parent in reached}
        for m in reached
    }
    order: list[type[models.Model]] = []
    ready = sorted((m for m in reached if not incoming[m] or m is root), key=lambda m: m._meta.db_table)
    done: set = set()
    while ready:
        model = ready.pop(0)
        if model in done:
            continue
        done.add(model)
        order.append(model)
        for m in sorted(reached - done, key=lambda m: m._meta.db_table):
            if incoming[m] <= done and m not in ready:
                ready.append(m)
    if len(order) != len(reached):  # a cascade cycle between tables
        raise RuntimeError("The cascade graph has a cycle: no impact plan.")
    return order


def _pk_values(queryset: models.QuerySet) -> models.QuerySet:
    return queryset.order_by().values("pk")


def _close_self(model, queryset: models.QuerySet, using: str) -> models.QuerySet:
    """``queryset`` plus every row reached from it through a self-referencing
    CASCADE edge (a reply, a reply to a reply, ...): one recursive CTE."""
    edges = [e for e in all_edges() if e.child is model and e.is_self and e.cascades]
    if not edges:
        return queryset
    connection = connections[using]
    qn = connection.ops.quote_name
    sql, params = _pk_values(queryset).query.sql_with_params()
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    if connection.vendor == "postgresql":
        # A LATERAL subquery that cannot be flattened (OFFSET 0): one index
        # probe per row of the previous level. As a plain join, PostgreSQL
        # estimates the work table at 10x the base and picks a merge join
        # that scans the whole parent_id index at every level.
        steps = " UNION ".join(
            f"SELECT impact_child.id FROM impact_closure CROSS JOIN LATERAL "
            f"(SELECT c.{pk} AS id FROM {table} c WHERE c.{qn(e.column)} = impact_closure.id OFFSET 0) impact_child"
            for e in edges
        )
    else:
        steps = " UNION ".join(
            f"SELECT impact_child.{pk} FROM {table} impact_child "
            f"JOIN impact_closure ON impact_child.{qn(e.column)} = impact_closure.id"
            for e in edges
        )
    closure = RawSQL(
        f"WITH RECURSIVE impact_closure(id) AS (SELECT * FROM ({sql}) impact_base UNION {steps}) "
        "SELECT id FROM impact_closure",
        params,
    )
    return model._base_manager.using(using).filter(pk__in=closure)


@dataclass
class Impact:
    """What a delete removes: per model, the queryset of its rows that go;
    per SET NULL edge, the rows that stay with the reference nulled."""

    kind: str
    subject: str
    root: type[models.Model]
    using: str = "default"
    deleted: dict[type[models.Model], models.QuerySet] = field(default_factory=dict)
    detaching: dict[Edge, models.QuerySet] = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Rows per table (``db_table``) that the delete removes; tables with
        none are left out. One ``COUNT`` per table reached."""
        result = {}
        with _without_jit(self.using):
            for model, queryset in self.deleted.items():
                count = queryset.count()
                if count:
                    result[model._meta.db_table] = count
        return dict(sorted(result.items()))

    def detached(self) -> dict[str, int]:
        """Rows that stay, their reference set to NULL, per ``table.column``."""
        result = {}
        with _without_jit(self.using):
            for edge, queryset in self.detaching.items():
                count = queryset.count()
                if count:
                    key = f"{edge.table}.{edge.column}"
                    result[key] = result.get(key, 0) + count
        return dict(sorted(result.items()))

    def id_sums(self) -> dict[str, tuple[int, int]]:
        """Per table reached: (rows, sum of the ids' hashes mod 2**64), the
        receipt's count and checksum (workspace/db/receipts.py). On PostgreSQL
        one aggregate per table computes both in the database (no id leaves
        it: a tenant of millions of rows costs no memory here); elsewhere the
        ids are streamed and hashed in Python, with the same hash."""
        result = {}
        with _without_jit(self.using):
            result.update(self._id_sums())
        return result

    def _id_sums(self) -> dict[str, tuple[int, int]]:
        from workspace.db.receipts import MOD, id_sum

        result = {}
        for model, queryset in self.deleted.items():
            table = model._meta.db_table
            if queryset.db and connections[queryset.db].vendor == "postgresql":
                sql, params = queryset.order_by().values("pk").query.sql_with_params()
                with connections[queryset.db].cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*), COALESCE(sum(('x' || substr(md5(impact_ids.pk::text), 1, 16))"
                        f"::bit(64)::bigint), 0) FROM ({sql}) impact_ids",
                        params,
                    )
                    count, total = cursor.fetchone()
                result[table] = (int(count), int(total) % MOD)
            else:
                result[table] = id_sum(queryset.order_by().values_list("pk", flat=True).iterator(chunk_size=5000))
        return result

    def delete_with_sums(self) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
        """Delete what the plan deletes and return what :meth:`id_sums` and
        :meth:`detached` would have counted, in one pass.

        PostgreSQL: ONE statement, a data-modifying CTE per table (``DELETE
        ... WHERE id IN (<the plan's query>) RETURNING id``) aggregated into
        (rows, id-hash sum); the detached counts are read in the same
        statement, from the same snapshot. The receipt of a tenant purge thus
        costs one pass over the rows instead of two (docs/PERFORMANCE.md,
        "Tenant keys"). The cascades of the foreign keys then find nothing
        left to do. Elsewhere: the sums first, then one cascading DELETE of
        the root rows."""
        from workspace.db.receipts import MOD
        from workspace.db.writes import delete_cascading

        connection = connections[self.using]
        if connection.vendor != "postgresql":
            sums, detached = self.id_sums(), self.detached()
            for pk in _pk_values(self.deleted[self.root]).values_list("pk", flat=True):
                delete_cascading(self.root, pk, using=self.using)
            return sums, detached
        qn = connection.ops.quote_name
        ctes, selects, params, keys = [], [], [], []
        for n, (model, queryset) in enumerate(self.deleted.items()):
            sql, qparams = queryset.order_by().values("pk").query.sql_with_params()
            pk = qn(model._meta.pk.column)
            ctes.append(
                f"impact_d{n} AS (DELETE FROM {qn(model._meta.db_table)} WHERE {pk} IN ({sql}) RETURNING {pk} AS id)"
            )
            params.extend(qparams)
            selects.append(
                f"SELECT {n}, count(*), COALESCE(sum(('x' || substr(md5(id::text), 1, 16))::bit(64)::bigint), 0) "
                f"FROM impact_d{n}"
            )
            keys.append(("deleted", model._meta.db_table))
        select_params = []
        for edge, queryset in self.detaching.items():
            n = len(keys)
            sql, qparams = queryset.order_by().values("pk").query.sql_with_params()
            selects.append(f"SELECT {n}, count(*), 0 FROM ({sql}) impact_x{n}")
            select_params.extend(qparams)
            keys.append(("detached", f"{edge.table}.{edge.column}"))
        sums, detached = {}, {}
        with _without_jit(self.using), connection.cursor() as cursor:
            cursor.execute(f"WITH {', '.join(ctes)} {' UNION ALL '.join(selects)}", [*params, *select_params])
            for n, count, total in cursor.fetchall():
                kind, key = keys[n]
                if kind == "deleted":
                    sums[key] = (int(count), int(total) % MOD)
                elif count:
                    detached[key] = detached.get(key, 0) + int(count)
        return sums, dict(sorted(detached.items()))

    def as_dict(self) -> dict:
        counts = self.counts()
        return {
            "kind": self.kind,
            "subject": self.subject,
            "counts": counts,
            "detached": self.detached(),
            "total": sum(counts.values()),
        }


def plan(*, kind: str, subject: str, root: models.QuerySet, parameters: dict | None = None) -> Impact:
    """The impact of deleting the rows of ``root`` with the database's
    cascade (``DELETE FROM <root table> WHERE id IN (...)``)."""
    using = root.db
    model = root.model
    impact = Impact(kind=kind, subject=subject, root=model, using=using, parameters=dict(parameters or {}))
    tenant_root = model._meta.label == ROOT_LABEL
    for current in _order_from(model):
        if current is model:
            queryset = model._base_manager.using(using).filter(pk__in=_pk_values(root))
        elif tenant_root and _tenant_field(current) is not None:
            # Below a company, a tenant table's cascaded rows are exactly the
            # rows with its company_id: the composite tenant keys guarantee
            # that no row of the company hangs off another tenant's parent
            # (workspace/db/tenant.py). One index scan instead of the chain of
            # parents (and of the reply closure).
            impact.deleted[current] = current._base_manager.using(using).filter(
                **{f"{_tenant_field(current).attname}__in": _pk_values(root)}
            )
            continue
        else:
            conditions = [
                Q(**{f"{edge.field.attname}__in": _pk_values(impact.deleted[edge.parent])})
                for edge in _cascade_children_of(current)
                if edge.parent in impact.deleted
            ]
            queryset = current._base_manager.using(using).filter(functools.reduce(operator.or_, conditions))
        impact.deleted[current] = _close_self(current, queryset, using)
    for edge in all_edges():
        if edge.db_action != "SET NULL" or edge.parent not in impact.deleted:
            continue
        rows = edge.child._base_manager.using(using).filter(
            **{f"{edge.field.attname}__in": _pk_values(impact.deleted[edge.parent])}
        )
        if edge.child in impact.deleted:
            rows = rows.exclude(pk__in=_pk_values(impact.deleted[edge.child]))
        impact.detaching[edge] = rows
    return impact


def _tenant_field(model):
    """The model's ``company`` FK to the tenant root (None: not a tenant table)."""
    try:
        field = model._meta.get_field(TENANT_FIELD)
    except FieldDoesNotExist:
        return None
    if field.is_relation and field.related_model._meta.label == ROOT_LABEL and field.concrete:
        return field
    return None


def _cascade_children_of(model) -> list[Edge]:
    return [e for e in all_edges() if e.child is model and e.cascades and not e.is_self]

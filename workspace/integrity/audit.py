"""Set-based scans of a live database, and their repair.

Three kinds of findings:

- ``orphan``: a row whose FK points at a parent that no longer exists
  (possible after raw SQL with constraints disabled, ``session_replication_role
  = replica`` on PostgreSQL, or SQLite with ``PRAGMA foreign_keys = OFF``).
- ``fk_drift``: a model FK whose database constraint is missing or carries
  another ``ON DELETE`` action than the model's delete policy requires.
- ``stale_last_message_at`` / ``stale_last_active`` /
  ``stale_meeting_is_private``: derived fields that a write bypassing Django
  (raw SQL) left wrong, as registered by the apps (``workspace.db.derived``).

Orphans and FK drift are found by the integrity core
(``workspace.db.introspection``); this module words and repairs them.

Every scan is one query per FK or per field (``NOT EXISTS`` anti-joins,
correlated ``MAX`` subqueries); every repair is one statement per FK or per
field. No Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection as default_connection
from django.db import transaction

from workspace.db.derived import registered
from workspace.db.introspection import FkStatus, fk_drift, orphan_querysets
from workspace.db.lineage import Edge, all_edges

SAMPLE = 20


@dataclass
class Finding:
    kind: str
    table: str
    detail: str
    count: int
    sample: list = field(default_factory=list)
    fixable: bool = True

    def row(self) -> tuple[str, str, str, str, str]:
        ids = ", ".join(str(pk) for pk in self.sample)
        if self.count > len(self.sample):
            ids += ", ..."
        return (self.kind, self.table, self.detail, str(self.count), ids)


@dataclass
class Change:
    kind: str
    table: str
    detail: str
    count: int

    def row(self) -> tuple[str, str, str, str]:
        return (self.kind, self.table, self.detail, str(self.count))


# --- Orphans ----------------------------------------------------------------


def find_orphans(company_id: int | None = None) -> list[Finding]:
    findings = []
    for edge, qs in orphan_querysets(company_id):
        count = qs.count()
        if count:
            pk = edge.child._meta.pk.attname
            sample = list(qs.order_by(pk).values_list(pk, flat=True)[:SAMPLE])
            action = "set to NULL" if _nulls_out(edge) else "delete"
            findings.append(
                Finding(
                    "orphan",
                    edge.table,
                    f"{edge.column} -> missing {edge.parent_table} row ({action})",
                    count,
                    sample,
                )
            )
    return findings


def _nulls_out(edge: Edge) -> bool:
    return edge.db_action == "SET NULL" and edge.field.null


def _pk_in_sql(qs) -> tuple[str, list]:
    pk = qs.model._meta.pk
    sql, params = qs.values(pk.attname).query.sql_with_params()
    return f"{default_connection.ops.quote_name(pk.column)} IN ({sql})", list(params)


def fix_orphans(company_id: int | None = None) -> list[Change]:
    """Repair every orphan the way its FK's delete policy would have: delete
    the row (CASCADE), or clear the reference (SET NULL). Deleting an orphan
    can orphan its own children where the database does not cascade (SQLite
    with foreign keys off), so passes repeat until one finds nothing."""
    qn = default_connection.ops.quote_name
    changes: dict[tuple[str, str], Change] = {}
    for _ in range(len(all_edges()) + 1):
        changed = False
        for edge, qs in orphan_querysets(company_id):
            where, params = _pk_in_sql(qs)
            if _nulls_out(edge):
                sql = f"UPDATE {qn(edge.table)} SET {qn(edge.column)} = NULL WHERE {where}"
                what = f"{edge.column} set to NULL (parent missing)"
            else:
                sql = f"DELETE FROM {qn(edge.table)} WHERE {where}"
                what = f"orphans deleted ({edge.column} -> missing {edge.parent_table} row)"
            with default_connection.cursor() as cursor:
                cursor.execute(sql, params)
                count = cursor.rowcount
            if count:
                changed = True
                key = (edge.table, what)
                if key in changes:
                    changes[key].count += count
                else:
                    changes[key] = Change("orphan", edge.table, what, count)
        if not changed:
            break
    return list(changes.values())


# --- FK-action drift --------------------------------------------------------


def find_fk_drift() -> list[Finding]:
    findings = []
    fixable = default_connection.vendor == "postgresql"
    for status in fk_drift():
        edge = status.edge
        findings.append(
            Finding(
                "fk_drift",
                edge.table,
                f"{edge.column}: ON DELETE {status.actual} in the database, "
                f"{edge.db_action} required ({edge.label} on_delete={edge.on_delete})",
                1,
                [fk.name for fk in status.db],
                fixable=fixable,
            )
        )
    return findings


def fix_fk_drift() -> list[Change]:
    """PostgreSQL: drop each drifted FK constraint and create it again from the
    model (the schema editor writes the delete policy's ON DELETE). Existing
    rows are validated by ADD CONSTRAINT, so orphans must be fixed first."""
    if default_connection.vendor != "postgresql":
        return []
    statuses: list[FkStatus] = fk_drift()
    if not statuses:
        return []
    # Fire the deferred FK checks queued by this transaction's writes:
    # PostgreSQL refuses ALTER TABLE on a table with pending trigger events.
    default_connection.check_constraints()
    changes = []
    with default_connection.schema_editor(atomic=False) as editor:
        for status in statuses:
            edge = status.edge
            for fk in status.db:
                editor.execute(editor._delete_fk_sql(edge.child, fk.name))
            if edge.tenant_key is not None:
                # The composite key (added NOT VALID, validated at the end).
                editor.execute(edge.tenant_key.create_sql(edge.child, editor))
            else:
                editor.execute(editor._create_fk_sql(edge.child, edge.field, "_fk_%(to_table)s_%(to_column)s"))
            changes.append(
                Change(
                    "fk_drift",
                    edge.table,
                    f"{edge.column}: constraint re-created with ON DELETE {edge.db_action} (was {status.actual})",
                    1,
                )
            )
    return changes


# --- Stale derived fields ---------------------------------------------------
# Each app registers its own (workspace.db.derived, from AppConfig.ready()):
# chat ``last_message_at`` and ``last_active`` (posts), meetings ``is_private``.


def find_stale_lifecycle(company_id: int | None = None) -> list[Finding]:
    findings = []
    for derived in registered():
        qs = derived.stale(company_id)
        count = qs.count()
        if count:
            sample = list(qs.order_by("pk").values_list("pk", flat=True)[:SAMPLE])
            findings.append(Finding(derived.kind, derived.model._meta.db_table, derived.problem, count, sample))
    return findings


def fix_stale_lifecycle(company_id: int | None = None) -> list[Change]:
    """One UPDATE per registered derived field for all its stale rows
    (``last_message_at`` recomputed from the newest message, null when none;
    ``last_active`` moved forward to the newest message, never backwards)."""
    changes = []
    for derived in registered():
        count = derived.fix(company_id)
        if count:
            changes.append(Change(derived.kind, derived.model._meta.db_table, derived.repair, count))
    return changes


# --- Entry points -----------------------------------------------------------


def audit(company_id: int | None = None) -> list[Finding]:
    """Everything wrong, in a stable order. The schema (FK actions) is shared
    by all tenants, so drift is reported with or without a company scope."""
    return [*find_orphans(company_id), *find_fk_drift(), *find_stale_lifecycle(company_id)]


def repair(company_id: int | None = None) -> list[Change]:
    """Fix what is fixable, in one transaction: orphans first (re-creating a
    constraint validates existing rows; deleting orphans can make lifecycle
    fields stale), then FK actions, then lifecycle fields."""
    with transaction.atomic():
        changes = fix_orphans(company_id)
        changes += fix_fk_drift()
        changes += fix_stale_lifecycle(company_id)
    return changes

"""``docs/RELATIONAL_INTEGRITY_REPORT.md``: rendering and the CI check.

The report mixes two kinds of sections:

- deterministic ones (lineage diagram, delete policy, declared constraints),
  computed from the models alone and wrapped in ``<!-- BEGIN/END
  deterministic: NAME -->`` markers; ``integrity_report --check`` regenerates
  them and fails when the committed file differs;
- live ones (FK actions and constraints as introspected, the cascade drill,
  the audit), which depend on the database the report was generated on.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Q, Value
from django.db.models.expressions import Func
from django.db.models.lookups import Lookup
from django.utils import timezone

from workspace.db.tenant import TenantForeignKey
from workspace.db.lineage import (
    Edge,
    all_edges,
    home_edge,
    root_model,
    tenant_edges,
    tenant_models,
    tenant_table_edges,
)
from workspace.integrity.table import md_table

REPORT_PATH = Path(settings.BASE_DIR) / "docs" / "RELATIONAL_INTEGRITY_REPORT.md"
DETERMINISTIC = ("lineage", "delete-policy", "constraints")
_BLOCK = re.compile(
    r"<!-- BEGIN deterministic: (?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- END deterministic: (?P=name) -->",
    re.S,
)


# --- Lineage diagram --------------------------------------------------------


def _node(model) -> str:
    return f"{model._meta.db_table} ({model._meta.label})"


def lineage_diagram() -> str:
    """ASCII tree of every table from Company down. Each edge is labelled with
    its delete action and FK column; a table reached by several FKs is drawn
    under its owner and referred to elsewhere."""
    homes = home_edge()
    by_parent: dict[type, list[Edge]] = {}
    for edge in tenant_edges():
        by_parent.setdefault(edge.parent, []).append(edge)

    lines = [_node(root_model())]

    def walk(model, prefix: str):
        edges = sorted(by_parent.get(model, []), key=lambda e: (e.table, e.column))
        for index, edge in enumerate(edges):
            last = index == len(edges) - 1
            branch = "`--" if last else "+--"
            label = f"[{edge.db_action}] {_columns(edge)}"
            if edge.is_self:
                lines.append(f"{prefix}{branch}{label} --> (self) {edge.table}: thread replies")
                continue
            if homes.get(edge.child) is edge:
                lines.append(f"{prefix}{branch}{label} --> {_node(edge.child)}")
                walk(edge.child, prefix + ("    " if last else "|   "))
            else:
                owner = homes[edge.child].parent._meta.db_table
                lines.append(f"{prefix}{branch}{label} --> {edge.table} (drawn under {owner})")

    walk(root_model(), "")
    return "```text\n" + "\n".join(lines) + "\n```\n"


# --- Delete policy ----------------------------------------------------------


def _columns(edge, *, parent: bool = False) -> str:
    """``channel_id``, or ``(company_id, channel_id)`` for a composite tenant key."""
    columns = edge.parent_columns if parent else edge.columns
    return columns[0] if len(columns) == 1 else f"({', '.join(columns)})"


def delete_policy_table() -> str:
    inside = set(tenant_models())
    rows = []
    for edge in tenant_table_edges():
        rows.append(
            (
                f"`{edge.label}`",
                f"`{edge.table}` `{_columns(edge)}`",
                f"`{edge.parent_table}` `{_columns(edge, parent=True)}`"
                + ("" if edge.parent in inside else " (outside the tenant)"),
                edge.on_delete,
                edge.db_action,
                "yes" if edge.field.null else "no",
            )
        )
    return (
        md_table(("foreign key", "column", "references", "ORM on_delete", "DB ON DELETE (required)", "nullable"), rows)
        + "\n"
    )


# --- Constraints (declared) -------------------------------------------------

_OPS = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "IN"}


def _column(opts, name: str) -> str:
    try:
        return opts.get_field(name).column if opts is not None else name
    except Exception:
        return name


def expression_sql(expr, opts=None) -> str:
    """A readable, backend-neutral rendering of a constraint expression
    (field names shown as their columns when ``opts`` is given)."""
    if isinstance(expr, Q):
        parts = [expression_sql(child, opts) for child in expr.children]
        joined = f" {expr.connector} ".join(parts)
        if len(parts) > 1:
            joined = f"({joined})"
        return f"NOT {joined}" if expr.negated else joined
    if isinstance(expr, tuple):
        lookup, value = expr
        name, _, op = lookup.rpartition("__")
        if op not in {*_OPS, "isnull"}:
            name, op = lookup, "exact"
        name = _column(opts, name)
        if op == "isnull":
            return f"{name} IS {'' if value else 'NOT '}NULL"
        return f"{name} {_OPS[op]} {expression_sql(value, opts)}"
    if isinstance(expr, Lookup):
        op = _OPS.get(expr.lookup_name, expr.lookup_name)
        return f"{expression_sql(expr.lhs, opts)} {op} {expression_sql(expr.rhs, opts)}"
    if isinstance(expr, F):
        return _column(opts, expr.name)
    if isinstance(expr, Value):
        return expression_sql(expr.value, opts)
    if isinstance(expr, Func):
        function = expr.function or type(expr).__name__.upper()
        args = ", ".join(expression_sql(e, opts) for e in expr.get_source_expressions())
        return f"{function}({args})"
    if isinstance(expr, str):
        if not expr.isprintable() or any(c.isspace() and c != " " for c in expr):
            expr = expr.encode("unicode_escape").decode("ascii")  # one line, visible
        return f"'{expr}'"
    if isinstance(expr, list | tuple | set):
        return "(" + ", ".join(expression_sql(v, opts) for v in expr) + ")"
    return str(expr)


def declared_constraints(model) -> list[tuple[str, str, str]]:
    """(name, kind, definition) of every constraint the models declare for a
    table, the implicit ones (primary key, unique fields, FKs) included."""
    from django.contrib.postgres.constraints import ExclusionConstraint

    from workspace.db.constraints import PostgresOnlyExclusionConstraint

    opts = model._meta
    rows = [("(implicit)", "PRIMARY KEY", f"({opts.pk.column})")]
    for field in opts.local_concrete_fields:
        if field.unique and not field.primary_key:
            rows.append(("(implicit)", "UNIQUE", f"({field.column})"))
    for fields in opts.unique_together:
        columns = ", ".join(opts.get_field(name).column for name in fields)
        rows.append(("(implicit)", "UNIQUE", f"({columns})"))
    for edge in all_edges():
        if edge.child is model and edge.tenant_key is None:
            rows.append(
                (
                    "(implicit)",
                    "FOREIGN KEY",
                    f"({edge.column}) REFERENCES {edge.parent_table} ({edge.parent_column}) "
                    f"ON DELETE {edge.db_action} DEFERRABLE INITIALLY DEFERRED",
                )
            )
    for constraint in opts.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            columns = ", ".join(opts.get_field(name).column for name in constraint.fields)
            definition = f"({columns})"
            if constraint.condition is not None:
                definition += f" WHERE {expression_sql(constraint.condition, opts)}"
            rows.append((constraint.name, "UNIQUE" + (" (partial)" if constraint.condition else ""), definition))
        elif isinstance(constraint, models.CheckConstraint):
            rows.append((constraint.name, "CHECK", f"({expression_sql(constraint.condition, opts)})"))
        elif isinstance(constraint, TenantForeignKey):
            edge = next(e for e in all_edges() if e.child is model and e.field.name == constraint.field)
            action = constraint.db_action(model, "postgresql")
            rows.append(
                (
                    constraint.name,
                    "FOREIGN KEY (tenant key)",
                    f"{_columns(edge)} REFERENCES {edge.parent_table} {_columns(edge, parent=True)} "
                    f"ON DELETE {action} DEFERRABLE INITIALLY DEFERRED"
                    + (
                        " (SQLite: NO ACTION, plus a single-column SET NULL key)"
                        if action.startswith("SET NULL")
                        else ""
                    ),
                )
            )
        elif isinstance(constraint, ExclusionConstraint):
            parts = ", ".join(
                f"{expression_sql(F(e) if isinstance(e, str) else e, opts)} WITH {op}"
                for e, op in constraint.expressions
            )
            definition = f"USING {constraint.index_type.lower()} ({parts})"
            if isinstance(constraint, PostgresOnlyExclusionConstraint):
                definition += " (PostgreSQL only; the service refuses the same on SQLite)"
            rows.append((constraint.name, "EXCLUDE", definition))
        else:  # pragma: no cover - no other kind in the project
            rows.append((constraint.name, type(constraint).__name__, str(constraint)))
    return rows


def constraints_section() -> str:
    out = []
    for model in sorted(tenant_models(), key=lambda m: m._meta.db_table):
        out.append(f"#### `{model._meta.db_table}` ({model._meta.label})\n")
        rows = [(f"`{n}`" if n != "(implicit)" else n, k, f"`{d}`") for n, k, d in declared_constraints(model)]
        out.append(md_table(("name", "kind", "definition"), rows) + "\n")
    return "\n".join(out)


def deterministic_blocks() -> dict[str, str]:
    return {
        "lineage": lineage_diagram(),
        "delete-policy": delete_policy_table(),
        "constraints": constraints_section(),
    }


def _block(name: str, body: str) -> str:
    return f"<!-- BEGIN deterministic: {name} -->\n{body}<!-- END deterministic: {name} -->"


def extract_blocks(text: str) -> dict[str, str]:
    return {m.group("name"): m.group("body") for m in _BLOCK.finditer(text)}


def check(path: Path = REPORT_PATH) -> list[str]:
    """Differences between the committed report's deterministic sections and
    what the models produce now (empty: up to date)."""
    if not path.exists():
        return [f"{path} does not exist: run `manage.py integrity_report`."]
    committed = extract_blocks(path.read_text())
    problems = []
    for name, expected in deterministic_blocks().items():
        actual = committed.get(name)
        if actual is None:
            problems.append(f"section {name!r} is missing from {path.name}")
        elif actual != expected:
            diff = difflib.unified_diff(
                actual.splitlines(), expected.splitlines(), f"committed/{name}", f"models/{name}", lineterm=""
            )
            problems.append(f"section {name!r} is out of date:\n" + "\n".join(diff))
    return problems


# --- Live sections ----------------------------------------------------------


def live_fk_table(statuses) -> str:
    rows = [
        (
            f"`{s.edge.label}`",
            ", ".join(f"`{fk.name or '(unnamed)'}`" for fk in s.db) or "-",
            s.edge.db_action,
            s.actual,
            s.status,
        )
        for s in statuses
    ]
    return md_table(("foreign key", "database constraint", "required", "in the database", "status"), rows) + "\n"


def live_constraints_table() -> tuple[str, list[str]]:
    """Each declared named constraint next to the database's; returns the
    table and the names missing from the database."""
    from workspace.db.constraints import PostgresOnlyExclusionConstraint
    from workspace.integrity.introspect import db_constraints

    found = {(c.table, c.name) for c in db_constraints(tenant_models())}
    rows, missing = [], []
    for model in sorted(tenant_models(), key=lambda m: m._meta.db_table):
        for constraint in model._meta.constraints:
            present = (model._meta.db_table, constraint.name) in found
            if present:
                state = "present"
            elif isinstance(constraint, PostgresOnlyExclusionConstraint) and connection.vendor != "postgresql":
                state = "n/a on this backend (service-enforced)"
            else:
                state = "MISSING"
                missing.append(constraint.name)
            rows.append((f"`{model._meta.db_table}`", f"`{constraint.name}`", state))
    by_kind: dict[str, int] = {}
    for c in db_constraints(tenant_models()):
        by_kind[c.kind] = by_kind.get(c.kind, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(by_kind.items()))
    table = md_table(("table", "declared constraint", "in the database"), rows)
    return f"{table}\n\nAll constraints and indexes the database reports on these tables: {summary}.\n", missing


def _db_description() -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        return f"PostgreSQL {version}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


STATIC_ISSUES = [
    "Raw SQL bypasses Django's receivers: a raw `DELETE` or `UPDATE` leaves no orphan (the "
    "database cascades) but can leave `Channel.last_message_at` / `User.last_active` stale. "
    "`manage.py integrity_audit` finds it and `--fix` repairs it (the drill shows both).",
    "Django creates FK constraints `DEFERRABLE INITIALLY DEFERRED`: a row pointing at a missing "
    "parent is refused at commit (or `connection.check_constraints()`), not at the statement.",
    "SQLite has no exclusion constraint: overlapping attendances are refused by the service "
    "there, by the database on PostgreSQL only.",
    "On SQLite the audit detects FK-action drift but cannot repair it in place (the table "
    "would have to be rebuilt): re-create the database with `migrate`.",
    "With `PRAGMA foreign_keys = OFF` (SQLite) or `session_replication_role = replica` "
    "(PostgreSQL) nothing cascades: the audit finds the orphans and `--fix` deletes them.",
]


def receipts_section(limit: int = 20) -> str:
    """The newest deletion receipts (docs/lifecycle.md): counts and checksums,
    never content; the batches of one retention run are folded into one line."""
    from companies.models import DeletionReceipt

    lines: dict = {}
    for receipt in DeletionReceipt.objects.order_by("-created_at", "-id")[: limit * 50]:
        key = receipt.run or receipt.pk
        if key not in lines:
            if len(lines) == limit:
                break
            lines[key] = {"receipt": receipt, "counts": {}, "batches": 0}
        line = lines[key]
        line["batches"] += 1
        for table, count in receipt.counts.items():
            line["counts"][table] = line["counts"].get(table, 0) + count
    if not lines:
        return "No deletion receipt yet."
    rows = [
        (
            f"{line['receipt'].created_at:%Y-%m-%d %H:%M:%S}",
            line["receipt"].kind + (f" ({line['batches']} batches)" if line["receipt"].run else ""),
            line["receipt"].subject,
            line["receipt"].company_slug or "-",
            line["receipt"].actor_username or "system",
            ", ".join(f"{table} {count}" for table, count in sorted(line["counts"].items())) or "nothing",
        )
        for line in lines.values()
    ]
    return md_table(("when (UTC)", "kind", "subject", "company", "by", "rows deleted"), rows)


def render() -> str:
    from workspace.integrity.audit import audit
    from workspace.integrity.drill import run_drill
    from workspace.db.introspection import fk_statuses

    statuses = fk_statuses(tenant_table_edges())
    drift = [s for s in statuses if not s.ok]
    constraints_table, missing = live_constraints_table()
    drill = run_drill()
    findings = audit()
    blocks = deterministic_blocks()

    summary = [
        f"- Tables from `Company` down: **{len(tenant_models())}**; foreign keys on them: "
        f"**{len(tenant_table_edges())}** ({len(tenant_edges())} inside the tenant).",
        f"- Database FK actions match the delete policy: **{len(statuses) - len(drift)}/{len(statuses)}**"
        + (f" — drift on {', '.join(s.edge.label for s in drift)}" if drift else "."),
        f"- Declared named constraints missing from the database: **{len(missing)}**"
        + (f" ({', '.join(missing)})" if missing else "."),
        f"- Cascade drill: **{sum(r.passed for r in drill)}/{len(drill)}** paths passed.",
        f"- Integrity audit of the live database: **{len(findings)}** finding(s).",
    ]
    issues = list(STATIC_ISSUES)
    issues += [f"FK-action drift: `{s.edge.label}` is {s.actual}, {s.edge.db_action} required." for s in drift]
    issues += [f"Constraint `{name}` is declared but missing from the database." for name in missing]
    issues += [f"Drill path failed: {r.path}: {r.outcome}." for r in drill if not r.passed]
    issues += [f"Audit: {f.kind} on `{f.table}`: {f.detail} ({f.count} rows)." for f in findings]

    drill_rows = [
        (
            r.path,
            str(r.rows_before),
            str(r.rows_left),
            str(r.orphans),
            str(r.bystander_changes),
            str(r.stale_lifecycle),
            r.outcome,
        )
        for r in drill
    ]
    audit_rows = [f.row()[:4] for f in findings]

    parts = [
        "# Relational integrity report",
        "",
        "Generated by `manage.py integrity_report` from the models and the live database "
        f"({_db_description()}, {timezone.now():%Y-%m-%d}). Do not edit by hand: regenerate it. "
        "Sections between `deterministic` markers come from the models alone and are checked by CI "
        "(`manage.py integrity_report --check`); the others describe the database it was generated on. "
        "See docs/integrity.md.",
        "",
        "## Summary",
        "",
        *summary,
        "",
        "## Lineage",
        "",
        "Every table below `Company`, each edge labelled with its `ON DELETE` action and FK column "
        "(`(company_id, x_id)`: a composite tenant key, which also refuses a parent of another tenant). "
        "A table reached through several foreign keys is drawn once, under its owner.",
        "",
        _block("lineage", blocks["lineage"]),
        "",
        "## Delete policy",
        "",
        "Every foreign key of those tables: the ORM `on_delete` and the action the database "
        "constraint must carry (workspace/db/on_delete.py).",
        "",
        _block("delete-policy", blocks["delete-policy"]),
        "",
        "### Database FK actions (live)",
        "",
        "As introspected (`pg_constraint` on PostgreSQL, `PRAGMA foreign_key_list` on SQLite).",
        "",
        live_fk_table(statuses),
        "## Constraints",
        "",
        "Declared by the models (FK and unique-field constraint names are generated by Django; "
        "the definitions are backend-neutral renderings).",
        "",
        _block("constraints", blocks["constraints"]),
        "",
        "### Constraints in the live database",
        "",
        constraints_table,
        "## Cascade drill",
        "",
        "A sample tenant (people, channels, messages with replies and reactions, meetings, "
        "attendance, an API token, an admin log entry, group and permission links) and a bystander "
        "tenant are built, then the sample is deleted through each path, each inside a savepoint; "
        "the whole drill runs in a transaction that is rolled back. *rows* are the rows the delete "
        "must remove (the tenant's rows, or the person's and what cascades from them); *left* must be "
        "0; *orphans* counts rows pointing at a missing parent anywhere; *bystander* counts changed "
        "rows of the other tenant; *stale* counts wrong lifecycle fields anywhere.",
        "",
        md_table(("path", "rows", "left", "orphans", "bystander", "stale", "result"), drill_rows),
        "",
        "## Integrity audit (live database)",
        "",
        (md_table(("kind", "table", "detail", "rows"), audit_rows) if audit_rows else "No findings.") + "",
        "",
        "## Deletion receipts (live database)",
        "",
        "The newest receipts (`companies.DeletionReceipt`, append-only, outside the tenant: it "
        "survives the purge): counts per table, no deleted content. Full checksums in the admin.",
        "",
        receipts_section(),
        "",
        "## Remaining issues",
        "",
        *[f"- {issue}" for issue in issues],
        "",
    ]
    return "\n".join(parts)

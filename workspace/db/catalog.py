"""Foreign-key constraints as the database holds them, composite ones whole.

``PRAGMA foreign_key_list`` and ``pg_constraint`` describe a composite key as
one constraint over several columns; this module returns it that way (the
column-per-row view of :mod:`workspace.db.introspection` cannot tell a
composite key from two single ones). Used by the tenant-key drift check, the
integrity report and the co-location test.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections

from workspace.db.on_delete import PG_CONFDELTYPE


@dataclass(frozen=True)
class ForeignKeyConstraint:
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str  # "CASCADE", "SET NULL", "SET NULL (created_by_id)", "NO ACTION", ...
    name: str = ""  # Django names only PostgreSQL's single-column keys; composite keys are named on both

    @property
    def label(self) -> str:
        return (
            f"{self.table} ({', '.join(self.columns)}) -> {self.ref_table} ({', '.join(self.ref_columns)})"
            f" ON DELETE {self.on_delete}"
        )


def _postgresql(cursor) -> list[ForeignKeyConstraint]:
    cursor.execute(
        """
        SELECT con.conname, c1.relname, c2.relname, con.confdeltype,
               ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
               ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
               ARRAY(SELECT a.attname FROM unnest(con.confdelsetcols) k(n)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n)
        FROM pg_constraint con
        JOIN pg_class c1 ON c1.oid = con.conrelid
        JOIN pg_class c2 ON c2.oid = con.confrelid
        WHERE con.contype = 'f' AND pg_catalog.pg_table_is_visible(c1.oid)
        """
    )
    result = []
    for name, table, ref_table, code, columns, ref_columns, set_columns in cursor.fetchall():
        action = PG_CONFDELTYPE[code]
        if set_columns:
            action = f"{action} ({', '.join(set_columns)})"
        result.append(ForeignKeyConstraint(table, tuple(columns), ref_table, tuple(ref_columns), action, name))
    return result


#: ``CONSTRAINT "name" FOREIGN KEY ("a", "b")`` in SQLite's stored CREATE TABLE.
_SQLITE_NAMED_FK = re.compile(r'CONSTRAINT\s+"([^"]+)"\s+FOREIGN\s+KEY\s*\(([^)]*)\)', re.IGNORECASE)


def _sqlite_names(cursor, table: str) -> dict[tuple[str, ...], str]:
    """SQLite keeps constraint names only in the table's SQL: read them there."""
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
    row = cursor.fetchone()
    names = {}
    for name, columns in _SQLITE_NAMED_FK.findall(row[0] if row and row[0] else ""):
        names[tuple(c.strip().strip('"') for c in columns.split(","))] = name
    return names


def _sqlite(connection, cursor) -> list[ForeignKeyConstraint]:
    qn = connection.ops.quote_name
    result = []
    for table in connection.introspection.table_names(cursor):
        names = _sqlite_names(cursor, table)
        cursor.execute(f"PRAGMA foreign_key_list({qn(table)})")
        keys = defaultdict(list)
        for fk_id, seq, ref_table, column, ref_column, _on_update, on_delete, _match in cursor.fetchall():
            keys[fk_id].append((seq, ref_table, column, ref_column, on_delete.upper()))
        for rows in keys.values():
            rows.sort()
            columns = tuple(r[2] for r in rows)
            result.append(
                ForeignKeyConstraint(
                    table, columns, rows[0][1], tuple(r[3] for r in rows), rows[0][4], names.get(columns, "")
                )
            )
    return result


def foreign_key_constraints(using: str = DEFAULT_DB_ALIAS) -> list[ForeignKeyConstraint]:
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            found = _postgresql(cursor)
        else:
            found = _sqlite(connection, cursor)
    return sorted(found, key=lambda fk: (fk.table, fk.columns, fk.ref_table))

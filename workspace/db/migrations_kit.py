"""Building blocks for expand/contract migrations on populated databases.

Used by the tenant-key migrations (docs/operations.md, "Schema changes"):
columns are added nullable (expand), filled set-based in short batches
(:func:`backfill_company`), then made NOT NULL (:class:`SetNotNullSafely`)
and constrained (composite keys added ``NOT VALID``, then validated; see
workspace/db/tenant.py).
"""

from __future__ import annotations

from django.db import migrations, transaction

BATCH_SIZE = 10_000


def backfill_company(table: str, *, parent_table: str, parent_column: str, batch_size: int | None = None):
    """A ``RunPython`` function that copies the parent's ``company_id`` into
    ``table.company_id`` where it is NULL, in batches of ``batch_size`` ids
    (:data:`BATCH_SIZE` at run time when not given),
    each its own short transaction when the migration is not atomic.

    A correlated subquery, so the same SQL runs on SQLite and PostgreSQL.
    Rows written by the previous release while this runs are caught by the
    catch-up pass of the contract migration.
    """

    def forwards(apps, schema_editor):
        connection = schema_editor.connection
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MIN(id), MAX(id) FROM {qn(table)} WHERE company_id IS NULL")
            low, high = cursor.fetchone()
        if low is None:
            return
        sql = (
            f"UPDATE {qn(table)} SET company_id = (SELECT p.company_id FROM {qn(parent_table)} p "
            f"WHERE p.id = {qn(table)}.{qn(parent_column)}) "
            f"WHERE id >= %s AND id < %s AND company_id IS NULL"
        )
        size = batch_size or BATCH_SIZE
        start = low
        while start <= high:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(sql, [start, start + size])
            start += size
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # The UPDATEs queued deferred FK checks; an ALTER TABLE later in
            # the same transaction would fail with "pending trigger events".
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    return forwards


def _not_null_proof_name(table: str, column: str) -> str:
    return f"{table}_{column}_not_null_proof"


def prove_not_null(table: str, column: str) -> migrations.RunPython:
    """PostgreSQL: prove ``column IS NOT NULL`` with a CHECK added ``NOT VALID``
    and then validated (the scan does not block writes), so that the next
    ``AlterField`` (``SET NOT NULL``) skips its own full scan under ACCESS
    EXCLUSIVE (PostgreSQL 12+). :func:`drop_not_null_proof` removes the CHECK
    afterwards. Nothing to do on SQLite."""

    def forwards(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        qn = connection.ops.quote_name
        name = qn(_not_null_proof_name(table, column))
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {name} CHECK ({qn(column)} IS NOT NULL) NOT VALID")
            cursor.execute(f"ALTER TABLE {qn(table)} VALIDATE CONSTRAINT {name}")

    return migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)


def drop_not_null_proof(table: str, column: str) -> migrations.RunPython:
    def forwards(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE {qn(table)} DROP CONSTRAINT IF EXISTS {qn(_not_null_proof_name(table, column))}"
            )

    return migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)

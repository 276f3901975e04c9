"""SQLite backend whose FK constraints carry the ORM delete policy.

``check_constraints`` is Django's, corrected for composite foreign keys:
Django indexes ``PRAGMA foreign_key_list`` (one row per column) by the
foreign key's id, so for a table with a composite key it names the wrong
column. Here the rows are grouped by id, and the error names the constraint
(``chat_message_channel_same_company``) and every column, as PostgreSQL does.
"""

from itertools import chain

from django.apps import apps
from django.db import IntegrityError
from django.db.backends.sqlite3 import base
from django.db.backends.sqlite3.schema import DatabaseSchemaEditor as _Editor

from workspace.db.backends.schema import MirrorOnDeleteSchemaMixin


class DatabaseSchemaEditor(MirrorOnDeleteSchemaMixin, _Editor):
    pass


def _constraint_name(table: str, columns: list[str]) -> str:
    """The name the models give the foreign key of ``table`` on ``columns``."""
    from workspace.db.tenant import tenant_foreign_keys

    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table != table:
            continue
        for constraint in tenant_foreign_keys(model):
            if list(constraint.columns(model)) == columns:
                return constraint.name
        if len(columns) == 1:
            for field in model._meta.concrete_fields:
                if field.column == columns[0] and field.is_relation:
                    return f"{table}.{field.column} -> {field.related_model._meta.db_table}"
    return f"{table} ({', '.join(columns)})"


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor

    def check_constraints(self, table_names=None):
        qn = self.ops.quote_name
        with self.cursor() as cursor:
            if table_names is None:
                violations = cursor.execute("PRAGMA foreign_key_check").fetchall()
            else:
                violations = chain.from_iterable(
                    cursor.execute(f"PRAGMA foreign_key_check({qn(name)})").fetchall() for name in table_names
                )
            for table, rowid, ref_table, fk_id in violations:
                rows = sorted(
                    (
                        row
                        for row in cursor.execute(f"PRAGMA foreign_key_list({qn(table)})").fetchall()
                        if row[0] == fk_id
                    ),
                    key=lambda row: row[1],  # seq: the column's position in the key
                )
                columns = [row[3] for row in rows]
                ref_columns = [row[4] for row in rows]
                values = cursor.execute(
                    f"SELECT {', '.join(qn(c) for c in columns)} FROM {qn(table)} WHERE rowid = %s", (rowid,)
                ).fetchone()
                raise IntegrityError(
                    f'insert or update on table "{table}" violates foreign key constraint '
                    f'"{_constraint_name(table, columns)}": ({", ".join(columns)})=({", ".join(map(str, values))}) '
                    f'is not present in table "{ref_table}" ({", ".join(ref_columns)})'
                )

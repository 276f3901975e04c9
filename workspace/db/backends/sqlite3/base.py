"""SQLite backend whose FK constraints carry the ORM delete policy."""

from django.db.backends.sqlite3 import base
from django.db.backends.sqlite3.schema import DatabaseSchemaEditor as _Editor

from workspace.db.backends.schema import MirrorOnDeleteSchemaMixin


class DatabaseSchemaEditor(MirrorOnDeleteSchemaMixin, _Editor):
    pass


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor

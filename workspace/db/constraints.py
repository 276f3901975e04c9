"""Constraints that only PostgreSQL can enforce, declared in ``Meta`` like any
other so that they are named, migrated and introspectable. On other backends
they produce no SQL and skip model validation; the services refuse the same
data in Python there (e.g. overlapping attendances on SQLite)."""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db.models import Func


class TsTzRange(Func):
    """``tstzrange(lower, upper)``; a null upper bound means unbounded."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    @staticmethod
    def _applies(schema_editor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        return super().constraint_sql(model, schema_editor) if self._applies(schema_editor) else None

    def create_sql(self, model, schema_editor):
        return super().create_sql(model, schema_editor) if self._applies(schema_editor) else None

    def remove_sql(self, model, schema_editor):
        return super().remove_sql(model, schema_editor) if self._applies(schema_editor) else None

    def validate(self, model, instance, exclude=None, using="default"):
        from django.db import connections

        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)

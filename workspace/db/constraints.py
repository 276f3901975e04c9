"""Constraint building blocks shared by the apps' ``Meta.constraints``.

- :func:`not_blank`: a text column must hold at least one character that is
  not whitespace -- the same whitespace Python's ``str.strip()`` removes, so
  the database refuses exactly what the services and the API refuse.
- :class:`PostgresOnlyExclusionConstraint`: constraints that only PostgreSQL
  can enforce, declared in ``Meta`` like any other so that they are named,
  migrated and introspectable. On other backends they produce no SQL and skip
  model validation; the services refuse the same data in Python there (e.g.
  overlapping attendances on SQLite).
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import models
from django.db.models import Func, Value
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThan

#: Every character ``str.isspace()`` accepts, i.e. what ``str.strip()``
#: removes (ASCII controls, NBSP, the Unicode spaces, line/paragraph separators).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class StripWhitespace(Func):
    """The text without whitespace at either end. SQL's one-argument
    ``TRIM()`` removes spaces only (a body of ``"\\n\\t"`` would pass); this is
    ``TRIM(x, chars)`` on SQLite and ``BTRIM(x, chars)`` on PostgreSQL with
    :data:`WHITESPACE` as the characters."""

    function = "TRIM"
    output_field = models.TextField()

    def __init__(self, expression, **extra):
        super().__init__(expression, Value(WHITESPACE), **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="BTRIM", **extra_context)


def not_blank(field: str, name: str) -> models.CheckConstraint:
    """A name/body/title made only of whitespace is refused by the database itself."""
    return models.CheckConstraint(
        condition=GreaterThan(Length(StripWhitespace(field)), 0),
        name=name,
        violation_error_message=f"{field.capitalize()} may not be blank.",
    )


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

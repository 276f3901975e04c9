"""Small write helpers shared by the services."""

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, transaction


def create_unique[M: models.Model](model: type[M], *, field: str, error: str, **values) -> M:
    """INSERT a row whose uniqueness the database enforces.

    The database, not a prior ``exists()`` check, decides (no race between
    two requests); a refusal becomes a ``ValidationError`` naming ``field``.
    The savepoint keeps the caller's transaction usable after the refusal.
    """
    try:
        with transaction.atomic():
            return model.objects.create(**values)
    except IntegrityError:
        raise ValidationError({field: error}) from None


def delete_cascading(model: type[models.Model], pk, *, using: str = DEFAULT_DB_ALIAS) -> int:
    """``DELETE FROM <table> WHERE <pk> = %s``: one statement, and the
    database cascades (every FK carries the delete policy's ``ON DELETE
    CASCADE`` / ``SET NULL``, workspace/db/backends), without Django's
    collector loading the rows below or any delete receiver running. The one
    raw cascading delete of the project (the purge, the erasure, the channel
    delete, the drill's raw-SQL path, the bench's raw-SQL limit). Returns the
    number of rows deleted (0 or 1)."""
    connection = connections[using]
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(model._meta.pk.column)} = %s", [pk])
        return cursor.rowcount

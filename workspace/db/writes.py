"""Small write helpers shared by the services."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction


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

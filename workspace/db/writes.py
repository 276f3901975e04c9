"""Small write helpers shared by the services, and the errors they raise.

A service refuses a write with one of two exceptions, each carrying a code
that says what kind of refusal it is; the API maps the codes to HTTP statuses
in one place (workspace/api/exceptions.py), the admin shows them as form
errors (workspace/adminkit.py, ``ServiceErrorsAsFormErrors``):

- ``django.core.exceptions.ValidationError`` naming the offending fields,
  with the code of each message: ``unique`` (a duplicate: 409), ``conflict``
  (the current state does not allow it: 409), ``not_found`` (the row to act
  on is not there: 404), anything else (``invalid``, ``required``...: 400);
- :class:`Forbidden` (code ``forbidden``: 403): the ``actor`` a service was
  given may not do this (docs/architecture.md, "Permissions").
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, models, router, transaction

#: Codes of ``ValidationError`` messages that are not bad input but a clash
#: with the current state (409), or a missing row (404).
UNIQUE = "unique"
CONFLICT = "conflict"
NOT_FOUND = "not_found"
CONFLICT_CODES = frozenset({UNIQUE, "unique_together", CONFLICT})


class Forbidden(PermissionDenied):
    """The one permission error of the services: the actor may not do this.

    A subclass of Django's ``PermissionDenied``, so that outside the API and
    the admin (a plain Django view) it is a 403 too, never a 500.
    """

    code = "forbidden"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def conflict(message: str, *, field: str = NON_FIELD_ERRORS) -> ValidationError:
    """A ``ValidationError`` for a write the current state refuses (409)."""
    return ValidationError({field: ValidationError(message, code=CONFLICT)})


def not_found(message: str, *, field: str = NON_FIELD_ERRORS) -> ValidationError:
    """A ``ValidationError`` for a row that is not there to act on (404)."""
    return ValidationError({field: ValidationError(message, code=NOT_FOUND)})


def error_codes(exc: ValidationError) -> set[str]:
    groups = exc.error_dict.values() if hasattr(exc, "error_dict") else [exc.error_list]
    return {error.code for group in groups for error in group if error.code}


def validate(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """``full_clean()``, with the refusals of the model's unique constraints
    coded ``unique`` and named on the constraint's last field (``name`` for
    a channel's (company, name)): a constraint with its own
    ``violation_error_message`` is reported by Django with no code and no
    field, so the API could only tell it from bad input by its text."""
    exclude = set(exclude or ())
    errors: dict[str, list[ValidationError]] = {}
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        errors = {field: list(group) for field, group in exc.error_dict.items()}
    exclude |= set(errors)
    using = router.db_for_write(type(instance), instance=instance)
    for constraint in instance._meta.constraints:
        try:
            constraint.validate(type(instance), instance, exclude=exclude, using=using)
        except ValidationError as exc:
            if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
                field = constraint.fields[-1]
                errors.setdefault(field, []).extend(ValidationError(m, code=UNIQUE) for m in exc.messages)
            else:
                errors.setdefault(NON_FIELD_ERRORS, []).extend(exc.error_list)
    if errors:
        raise ValidationError(errors)


def update_allowed[M: models.Model](
    instance: M,
    changes: Mapping[str, Any],
    *,
    allowed: Iterable[str],
    exclude: Iterable[str] = (),
) -> M:
    """The allowed-fields update of the services: refuse a field outside
    ``allowed`` (400 naming it), set the others, validate the whole row
    (:func:`validate`: field checks, ``clean()`` with its tenant checks,
    constraints), then ``save(update_fields=...)`` writing only what changed
    hands. Nothing given: nothing written. Runs inside the caller's
    transaction (services are atomic)."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    if not changes:
        return instance
    for name, value in changes.items():
        setattr(instance, name, value)
    validate(instance, exclude=exclude)
    instance.save(update_fields=[*changes])
    return instance


def create_unique[M: models.Model](model: type[M], *, field: str, error: str, **values) -> M:
    """INSERT a row whose uniqueness the database enforces.

    The database, not a prior ``exists()`` check, decides (no race between
    two requests); a refusal becomes a ``ValidationError`` naming ``field``
    (code ``unique``: a 409). The savepoint keeps the caller's transaction
    usable after the refusal.
    """
    try:
        with transaction.atomic():
            return model.objects.create(**values)
    except IntegrityError:
        raise ValidationError({field: ValidationError(error, code=UNIQUE)}) from None


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


def acts_for_platform(actor) -> bool:
    """``actor`` is None (the system: a command, a job, a data import) or a
    platform superuser (no company): the services' permission rules are the
    tenants' rules and do not apply to them (docs/architecture.md,
    "Permissions")."""
    return actor is None or (actor.is_superuser and actor.company_id is None)


def is_company_admin(actor, company_id: int | None) -> bool:
    """``actor`` is an admin of the company ``company_id`` (not of another)."""
    return actor is not None and actor.company_id == company_id and actor.is_company_admin

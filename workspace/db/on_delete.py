"""The database mirror of the ORM delete policy.

Every foreign key keeps its ORM ``on_delete`` (CASCADE / SET_NULL), so Django's
collector, signals and admin keep working, and the schema layer writes the same
action into the database constraint (``ON DELETE CASCADE`` / ``ON DELETE SET
NULL``). A delete issued outside Django (psql, a retention job, the fast tenant
purge) therefore leaves no orphan either.

The mapping lives here, in one place, and is used by the schema editors of both
database backends, by the drift test and by the integrity tooling.
"""

from django.db import models

#: ORM ``on_delete`` handler -> SQL action the database constraint must carry.
#: PROTECT / RESTRICT / DO_NOTHING map to nothing (the database's NO ACTION):
#: the ORM enforces those, the database must not silently cascade them.
DB_ACTION_FOR_ON_DELETE = {
    models.CASCADE: "CASCADE",
    models.SET_NULL: "SET NULL",
}

#: ``pg_constraint.confdeltype`` code -> SQL action.
PG_CONFDELTYPE = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}


def expected_db_action(field) -> str:
    """The ON DELETE action the database constraint of ``field`` must carry."""
    on_delete = field.remote_field.on_delete
    operation = getattr(on_delete, "operation", None)  # Django's DB_* options
    if operation:
        return operation
    return DB_ACTION_FOR_ON_DELETE.get(on_delete, "NO ACTION")

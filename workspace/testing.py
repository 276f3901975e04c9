"""The test kit: helpers shared by the test suites (never imported by
production code; an import contract checks it, docs/architecture.md).

- The populated tenant and the row snapshots are
  ``workspace.integrity.sample``'s (the cascade drill uses them too),
  re-exported here for the tests.
- :func:`refused_by` / :func:`invalid`: constraint and validation assertions.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from django.db import connection, transaction

from workspace.integrity.sample import (
    LIFECYCLE_FIELDS,
    PopulatedTenant,
    Snapshot,
    build_populated_tenant,
    count_rows,
    diff_snapshots,
    snapshot_models,
    snapshot_rows,
    snapshot_tenant_rows,
)

__all__ = [
    "LIFECYCLE_FIELDS",
    "PopulatedTenant",
    "Snapshot",
    "build_populated_tenant",
    "count_rows",
    "diff_snapshots",
    "invalid",
    "refused_by",
    "snapshot_models",
    "snapshot_rows",
    "snapshot_tenant_rows",
]


# --- constraint assertions -----------------------------------------------------


@contextmanager
def refused_by(constraint: str, *, sqlite: str | None = None):
    """Expect the database itself to refuse the writes of the block with an
    ``IntegrityError`` raised by ``constraint`` (its name). SQLite reports a
    violated UNIQUE constraint by its columns (``"chat_channel.company_id,
    chat_channel.name"``), not its name: pass those as ``sqlite``.

    The block runs in its own savepoint, so the test can go on afterwards.
    Deferred FK checks are forced inside it (``check_constraints``), so a
    missing parent surfaces here too, never at a rollback nobody sees.
    """
    import pytest
    from django.db import IntegrityError

    expected = sqlite if sqlite is not None and connection.vendor == "sqlite" else constraint
    with pytest.raises(IntegrityError, match=re.escape(expected)):
        with transaction.atomic():
            yield
            connection.check_constraints()


@contextmanager
def invalid(*fields: str):
    """Expect a ``ValidationError`` (services, ``full_clean``) whose error
    dict names each of ``fields``; yields pytest's ``ExceptionInfo``."""
    import pytest
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        yield info
    named = set(getattr(info.value, "error_dict", {}))
    assert set(fields) <= named, f"expected errors on {sorted(fields)}, got {info.value!r}"

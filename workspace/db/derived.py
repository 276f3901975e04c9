"""The registry of derived (lifecycle) fields: each app registers, from its
``AppConfig.ready()``, how to find the rows whose derived value is wrong and
the value they should hold, so the integrity audit (``workspace.integrity``,
``manage.py integrity_audit``), the cascade drill, the bench and the tests check
and repair every derived field without knowing the apps (docs/integrity.md).

A check is set-based: ``stale(company_id)`` is a queryset (one query to count,
one to sample), and the repair is one ``UPDATE`` setting the field to
``value()`` on the stale rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import QuerySet


@dataclass(frozen=True)
class DerivedField:
    #: finding kind, e.g. ``"stale_last_message_at"``
    kind: str
    model: type[models.Model]
    #: the derived field, e.g. ``"last_message_at"``
    field: str
    #: what a stale row is (the finding's detail)
    problem: str
    #: what the repair does (the change's detail)
    repair: str
    #: the stale rows, of one company when given an id
    stale: Callable[[int | None], QuerySet]
    #: the true value, an expression over a row of ``model`` (``OuterRef("pk")``)
    value: Callable[[], models.Expression]

    def fix(self, company_id: int | None = None) -> int:
        """Set the field to its true value on every stale row (one UPDATE);
        returns how many rows changed."""
        rows = self.model._base_manager.filter(pk__in=self.stale(company_id).values("pk"))
        return rows.update(**{self.field: self.value()})


_registry: dict[str, DerivedField] = {}


def register(*fields: DerivedField) -> None:
    """Register derived-field checks (idempotent: keyed by ``kind``)."""
    for derived in fields:
        _registry[derived.kind] = derived


def registered() -> tuple[DerivedField, ...]:
    """Every registered check, in registration order (the apps' order in
    ``INSTALLED_APPS``)."""
    return tuple(_registry.values())

"""Small helpers shared by the apps' admin modules (docs/integrity.md).

The admin writes through the services like every other caller: a ModelAdmin
validates the form (the model's ``clean()`` checks tenant consistency and the
named constraints, so a cross-tenant pick is a form error), then calls the
service and adopts the row it wrote.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def adopt(target: models.Model, source: models.Model) -> None:
    """Make the admin's (unsaved) form instance the row a service created,
    so the admin's log entry and redirect refer to it."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


def count_of(model: type[models.Model], fk: str):
    """``COUNT`` of ``model`` rows per parent as a correlated subquery: one
    query for the whole changelist, no join fan-out between several counts."""
    rows = (
        model._base_manager.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


class FixedOnChangeMixin:
    """Fields that define which tenant (or parent) a row belongs to are set
    when it is created and read-only afterwards: moving a channel or a person
    to another company would make everything below it cross-tenant."""

    fixed_on_change: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [name for name in self.fixed_on_change if name not in fields]
        return fields


class ChangeViewInlinesMixin:
    """Inlines only on the change page: on the add page the parent has no id
    yet, so a child's tenant check would have nothing to compare with."""

    def get_inlines(self, request, obj):
        return super().get_inlines(request, obj) if obj is not None else []


class IsNullFilter(admin.SimpleListFilter):
    """Yes/no filter on ``<field> IS NULL``; subclass with ``field``,
    ``title``, ``parameter_name`` and the two labels."""

    field = ""
    null_label = "Empty"
    not_null_label = "Set"

    def lookups(self, request, model_admin):
        return (("null", self.null_label), ("set", self.not_null_label))

    def queryset(self, request, queryset):
        if self.value() == "null":
            return queryset.filter(**{f"{self.field}__isnull": True})
        if self.value() == "set":
            return queryset.filter(**{f"{self.field}__isnull": False})
        return queryset

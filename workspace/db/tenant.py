"""The tenant key in the database: composite foreign keys (docs/delete-policy.md).

Every tenant-owned table carries ``company_id``; every parent a tenant row may
point at exposes ``UNIQUE (company_id, id)``; and every foreign key between
tenant tables is a composite one::

    FOREIGN KEY (company_id, channel_id) REFERENCES chat_channel (company_id, id)

so PostgreSQL and SQLite themselves refuse a row that ties two tenants
together, whatever wrote it (the ORM, ``QuerySet.update()``, raw SQL, a data
migration). Python's ``ensure_same_company`` stays, for clear form errors.

- :class:`TenantForeignKey` is the composite constraint, declared in
  ``Meta.constraints`` next to the model's ordinary ``ForeignKey`` (which keeps
  the relation, ``on_delete``, the collector, the admin and the receivers; its
  own single-column constraint is dropped with ``db_constraint=False``). The
  ``ON DELETE`` action is the field's delete policy (workspace/db/on_delete.py).
- :class:`TenantOwned` derives ``company`` from the row's parent on ``save()``
  and ``clean()`` when it was not given; :class:`TenantQuerySet` does the same
  for ``bulk_create`` (one query per batch) and then sends
  :data:`post_bulk_create`, so the lifecycle receivers can maintain derived
  fields on the bulk path too.

SQLite has no ``ON DELETE SET NULL (column)``: there a nullable relation's
composite key is NO ACTION and a single-column foreign key, rendered with it,
does the SET NULL (the composite key of a row whose column was nulled is not
checked: MATCH SIMPLE).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import ClassVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models.constraints import BaseConstraint
from django.dispatch import Signal

from workspace.db.on_delete import expected_db_action

TENANT_FIELD = "company"

#: Like Django's own foreign keys: checked at commit, so rows can be written
#: in any order inside a transaction (cascades, bulk imports).
DEFERRABLE = " DEFERRABLE INITIALLY DEFERRED"

#: Sent by :meth:`TenantQuerySet.bulk_create` after the rows are inserted
#: (``sender`` = the model, ``objs`` = the created instances, ``using``).
#: ``bulk_create`` sends no ``post_save``: receivers that maintain derived
#: fields listen to this instead (once per batch, set-based).
post_bulk_create = Signal()


class TenantForeignKey(BaseConstraint):
    """``FOREIGN KEY (company_id, <field>_id) REFERENCES parent (company_id, id)``."""

    def __init__(self, *, field: str, name: str, violation_error_message=None):
        self.field = field
        self._custom_message = violation_error_message is not None
        super().__init__(name=name, violation_error_message=violation_error_message)

    # --- the SQL -------------------------------------------------------------

    def parts(self, model):
        """(field, tenant field of the row, parent model, tenant field of the parent)."""
        field = model._meta.get_field(self.field)
        parent = field.related_model
        return field, model._meta.get_field(TENANT_FIELD), parent, parent._meta.get_field(TENANT_FIELD)

    def columns(self, model) -> tuple[str, str]:
        field, tenant, _parent, _parent_tenant = self.parts(model)
        return tenant.column, field.column

    def db_action(self, model, vendor: str) -> str:
        """The ON DELETE action of the composite key on ``vendor``."""
        field = model._meta.get_field(self.field)
        action = expected_db_action(field)
        if action == "SET NULL":
            return f"SET NULL ({field.column})" if vendor == "postgresql" else "NO ACTION"
        return action

    def _references_sql(self, model, schema_editor) -> str:
        qn = schema_editor.quote_name
        field, tenant, parent, parent_tenant = self.parts(model)
        action = self.db_action(model, schema_editor.connection.vendor)
        if action.startswith("SET NULL ("):
            action = f"SET NULL ({qn(field.column)})"
        on_delete = "" if action == "NO ACTION" else f" ON DELETE {action}"
        return (
            f"FOREIGN KEY ({qn(tenant.column)}, {qn(field.column)}) "
            f"REFERENCES {qn(parent._meta.db_table)} ({qn(parent_tenant.column)}, {qn(parent._meta.pk.column)})"
            f"{on_delete}{DEFERRABLE}"
        )

    def _sqlite_set_null_sql(self, model, schema_editor) -> str:
        # SQLite's stand-in for SET NULL (column): see the module docstring.
        qn = schema_editor.quote_name
        field, _tenant, parent, _parent_tenant = self.parts(model)
        return (
            f"FOREIGN KEY ({qn(field.column)}) REFERENCES {qn(parent._meta.db_table)} ({qn(parent._meta.pk.column)})"
            f" ON DELETE SET NULL{DEFERRABLE}"
        )

    def constraint_sql(self, model, schema_editor):
        sql = f"CONSTRAINT {schema_editor.quote_name(self.name)} {self._references_sql(model, schema_editor)}"
        if schema_editor.connection.vendor == "sqlite" and expected_db_action(self.parts(model)[0]) == "SET NULL":
            sql += ", " + self._sqlite_set_null_sql(model, schema_editor)
        return sql

    def create_sql(self, model, schema_editor):
        # PostgreSQL (SQLite rebuilds the table from constraint_sql instead).
        # Added NOT VALID, so taking the lock is instant, then validated by a
        # deferred statement that only takes SHARE UPDATE EXCLUSIVE: writes go
        # on while existing rows are checked (in its own transaction when the
        # migration is not atomic).
        qn = schema_editor.quote_name
        table = qn(model._meta.db_table)
        schema_editor.deferred_sql.append(f"ALTER TABLE {table} VALIDATE CONSTRAINT {qn(self.name)}")
        return (
            f"ALTER TABLE {table} ADD CONSTRAINT {qn(self.name)} {self._references_sql(model, schema_editor)} NOT VALID"
        )

    def remove_sql(self, model, schema_editor):
        qn = schema_editor.quote_name
        return f"ALTER TABLE {qn(model._meta.db_table)} DROP CONSTRAINT {qn(self.name)}"

    # --- model validation (full_clean, forms, admin) ------------------------

    def get_violation_error_message(self):
        if self._custom_message:
            return super().get_violation_error_message()
        return f"The {self.field.replace('_', ' ')} belongs to another company."

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if exclude and (self.field in exclude or TENANT_FIELD in exclude):
            return
        field, tenant, parent, parent_tenant = self.parts(model)
        company_id = getattr(instance, tenant.attname)
        target_id = getattr(instance, field.attname)
        if company_id is None or target_id is None:
            return
        cached = field.get_cached_value(instance, None)
        if cached is not None and cached.pk == target_id:
            parent_company_id = getattr(cached, parent_tenant.attname)
        else:
            parent_company_id = (
                parent._default_manager.using(using)
                .filter(pk=target_id)
                .values_list(parent_tenant.attname, flat=True)
                .first()
            )
            if parent_company_id is None:
                return  # no such parent: the field's own validation says so
        if parent_company_id != company_id:
            raise ValidationError({self.field: self.get_violation_error_message()}, code="tenant")

    # --- identity (migrations) ----------------------------------------------

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["field"] = self.field
        return path, args, kwargs

    def __eq__(self, other):
        if isinstance(other, TenantForeignKey):
            return self.name == other.name and self.field == other.field
        return super().__eq__(other)

    def __hash__(self):
        return hash((self.__class__, self.name, self.field))

    def __repr__(self):
        return f"<{self.__class__.__name__}: field={self.field!r} name={self.name!r}>"


def tenant_foreign_keys(model) -> list[TenantForeignKey]:
    return [c for c in model._meta.constraints if isinstance(c, TenantForeignKey)]


# --- deriving company ---------------------------------------------------------


class TenantOwned:
    """Mixin for a tenant row whose company is its parent's.

    ``tenant_parent`` names the FK it takes the company from. The company is
    only derived when missing: a row whose company disagrees with its parent's
    is refused by the composite key, never silently "fixed".
    """

    tenant_parent: ClassVar[str]

    def derive_company(self) -> None:
        if self.company_id is None and getattr(self, f"{self.tenant_parent}_id") is not None:
            try:
                self.company_id = getattr(self, self.tenant_parent).company_id
            except ObjectDoesNotExist:
                pass  # a missing parent: the database refuses the row

    def clean(self) -> None:
        self.derive_company()
        super().clean()

    def save(self, *args, **kwargs) -> None:
        self.derive_company()
        super().save(*args, **kwargs)


def fill_company(model, objs: Iterable[models.Model], *, using: str) -> None:
    """Set ``company_id`` on ``objs`` that lack it, from their parents: cached
    parents cost nothing, the others one query for the whole batch."""
    parent_name = model.tenant_parent
    field = model._meta.get_field(parent_name)
    missing = defaultdict(list)
    for obj in objs:
        if obj.company_id is not None:
            continue
        parent = field.get_cached_value(obj, None)
        if parent is not None:
            obj.company_id = parent.company_id
        elif getattr(obj, field.attname) is not None:
            missing[getattr(obj, field.attname)].append(obj)
    if missing:
        companies = dict(
            field.related_model._default_manager.using(using)
            .filter(pk__in=list(missing))
            .values_list("pk", f"{TENANT_FIELD}_id")
        )
        for parent_id, waiting in missing.items():
            for obj in waiting:
                obj.company_id = companies.get(parent_id)  # missing parent: the FK refuses


class TenantQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        fill_company(self.model, objs, using=self.db)
        created = super().bulk_create(objs, *args, **kwargs)
        post_bulk_create.send(sender=self.model, objs=created, using=self.db)
        return created

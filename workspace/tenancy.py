"""Tenant consistency: every object that refers to people refers to people of
its own company. Used by model ``clean()`` (forms, admin) and by the services.

Low-level kit (imports no app). The tenant write gate that needs the company
table is ``companies.tenancy.lock_tenant``; the path from a model to its
company is ``workspace.db.lineage.tenant_lookup`` (docs/architecture.md).
"""

from django.core.exceptions import ValidationError


def ensure_same_company(company_id: int | None, **related) -> None:
    """Raise ``ValidationError`` naming each field whose object belongs to
    another company than ``company_id``.

    ``related`` maps a field name to a model instance with a ``company_id``
    (a user, a channel) or ``None`` (not set: nothing to check).
    """
    errors = {}
    for field, obj in related.items():
        if obj is None:
            continue
        if getattr(obj, "company_id", None) != company_id:
            errors[field] = f"{obj._meta.verbose_name.capitalize()} {obj.pk} belongs to another company."
    if errors:
        raise ValidationError(errors)

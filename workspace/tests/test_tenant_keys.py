"""The tenant key in the database (DESIGN.md "Tenant key everywhere",
workspace/db/tenant.py): for every composite foreign key, a raw INSERT and a
``QuerySet.update()`` that point a row at another tenant's parent are refused
by the database with the key's name, on SQLite and PostgreSQL; the
same-tenant twin is accepted. Deferred checks are forced inside each block
(``refused_by`` runs ``check_constraints()``)."""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from workspace.db.tenant import TENANT_FIELD, tenant_foreign_keys
from workspace.testing import build_populated_tenant, refused_by

TENANT_FKS = [(model, constraint) for model in apps.get_models() for constraint in tenant_foreign_keys(model)]


def test_every_fk_between_tenant_tables_is_a_composite_key():
    """The declared list: a new FK between tenant tables without its
    composite key fails here (and in the co-location test)."""
    assert sorted(c.name for _m, c in TENANT_FKS) == [
        "chat_channel_created_by_same_company",
        "chat_channelmembership_channel_same_company",
        "chat_channelmembership_user_same_company",
        "chat_message_author_same_company",
        "chat_message_channel_same_company",
        "chat_message_parent_same_company",
        "chat_messagereaction_message_same_company",
        "chat_messagereaction_user_same_company",
        "companies_attendance_user_same_company",
        "meetings_meeting_channel_same_company",
        "meetings_meeting_organizer_same_company",
        "meetings_meetingparticipant_meeting_same_company",
        "meetings_meetingparticipant_user_same_company",
    ]


@pytest.fixture
def tenants(db):
    return build_populated_tenant(slug="acme"), build_populated_tenant(slug="globex")


def _ids(model, company) -> list[int]:
    return list(model._default_manager.filter(**{TENANT_FIELD: company}).order_by("pk").values_list("pk", flat=True))


def _row(model, pk) -> dict:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {qn(model._meta.db_table)} WHERE {qn(model._meta.pk.column)} = %s", [pk])
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def _insert(model, values: dict) -> None:
    qn = connection.ops.quote_name
    columns = [c for c in values if c != model._meta.pk.column]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            [values[c] for c in columns],
        )


def _delete(model, pk) -> None:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(model._meta.pk.column)} = %s", [pk])


def _foreign_parent(field, tenant) -> int:
    """A parent of the other tenant. A person is a new one, with no rows of
    their own, so no other key (one open attendance, no overlap) gets in
    the way of the one under test."""
    from companies.factories import UserFactory

    if field.related_model._meta.label == "companies.User":
        return UserFactory(company=tenant.company).pk
    return _ids(field.related_model, tenant.company)[0]


def _a_row_with_a_parent(model, field, company):
    rows = model._default_manager.filter(**{TENANT_FIELD: company, f"{field.name}__isnull": False}).order_by("pk")
    row = rows.first()
    assert row is not None, f"build_populated_tenant has no {model.__name__} with a {field.name}"
    return row


@pytest.mark.parametrize(("model", "constraint"), TENANT_FKS, ids=[c.name for _m, c in TENANT_FKS])
def test_a_raw_insert_pointing_at_another_tenants_parent_is_refused(tenants, model, constraint):
    acme, globex = tenants
    field = model._meta.get_field(constraint.field)
    row = _a_row_with_a_parent(model, field, acme.company)
    values = _row(model, row.pk)
    foreign_parent = _foreign_parent(field, globex)
    with transaction.atomic():
        # Re-insert the row (deleted first, so no unique key is in the way):
        # pointing at globex's parent it is refused by its composite key...
        _delete(model, row.pk)
        with refused_by(constraint.name):
            _insert(model, {**values, field.column: foreign_parent})
        # ...while its same-tenant twin, as it was, is accepted.
        _insert(model, values)
        connection.check_constraints()
        transaction.set_rollback(True)


@pytest.mark.parametrize(("model", "constraint"), TENANT_FKS, ids=[c.name for _m, c in TENANT_FKS])
def test_a_queryset_update_pointing_at_another_tenants_parent_is_refused(tenants, model, constraint):
    acme, globex = tenants
    field = model._meta.get_field(constraint.field)
    row = _a_row_with_a_parent(model, field, acme.company)
    with refused_by(constraint.name):
        model._default_manager.filter(pk=row.pk).update(**{field.attname: _foreign_parent(field, globex)})
    # The twin: another parent of the same tenant (for the first row and
    # parent that no unique key refuses) is accepted.
    accepted = []
    rows = model._default_manager.filter(**{TENANT_FIELD: acme.company, f"{field.name}__isnull": False})
    for twin in rows.order_by("pk"):
        for candidate in _ids(field.related_model, acme.company):
            if candidate == getattr(twin, field.attname) or (field.related_model is model and candidate == twin.pk):
                continue
            try:
                with transaction.atomic():
                    model._default_manager.filter(pk=twin.pk).update(**{field.attname: candidate})
                    connection.check_constraints()
            except IntegrityError as error:
                assert constraint.name not in str(error)  # a unique key of the row, not the tenant key
                continue
            accepted.append(candidate)
            break
        if accepted:
            break
    assert accepted, f"no same-tenant {field.related_model.__name__} was accepted"


def test_a_raw_insert_without_company_id_is_refused(tenants):
    from chat.models import Message

    acme, _globex = tenants
    message = acme.messages[0]
    values = _row(Message, message.pk)
    del values["company_id"]
    with pytest.raises(IntegrityError, match="company_id"), transaction.atomic():
        _insert(Message, values)


def test_a_set_null_key_keeps_company_id(tenants):
    """Deleting a channel's creator nulls ``created_by`` only (PostgreSQL:
    ``ON DELETE SET NULL (created_by_id)``; SQLite: the single-column key),
    by raw SQL too: ``company_id`` stays."""
    from chat.models import Channel

    acme, _globex = tenants
    channel = acme.channels[1]
    creator = channel.created_by
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM companies_user WHERE id = %s", [creator.pk])
    connection.check_constraints()
    row = Channel.objects.values("company_id", "created_by_id").get(pk=channel.pk)
    assert row == {"company_id": acme.company.pk, "created_by_id": None}

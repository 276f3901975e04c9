"""Ready for a distributed PostgreSQL (docs/operations.md, "Scale-out"):
every table that would be distributed by ``company_id`` has the column, and
every foreign key between two of them includes it on both sides, so the rows
of one tenant always sit on one node (co-location). A later change that adds
a tenant table without ``company_id``, or a foreign key that leaves it out,
fails here. Checked against the live schema, on SQLite and PostgreSQL."""

import pytest
from django.apps import apps
from django.db import connection

from workspace.db.catalog import foreign_key_constraints

#: The tenant root: distributed by its own id (= company_id everywhere else).
ROOT = "companies_company"


def distributed_tables() -> set[str]:
    """Every table of a model with a ``company`` foreign key, plus the root."""
    tables = {ROOT}
    for model in apps.get_models():
        field = next((f for f in model._meta.concrete_fields if f.name == "company"), None)
        if field is not None and field.is_relation and field.related_model._meta.db_table == ROOT:
            tables.add(model._meta.db_table)
    return tables


def test_the_distributed_tables_are_the_tenant_tables():
    assert distributed_tables() == {
        "companies_company",
        "companies_user",
        "companies_attendance",
        "chat_channel",
        "chat_channelmembership",
        "chat_message",
        "chat_messagereaction",
        "meetings_meeting",
        "meetings_meetingparticipant",
    }


@pytest.mark.django_db
def test_every_distributed_table_has_company_id():
    with connection.cursor() as cursor:
        missing = [
            table
            for table in sorted(distributed_tables() - {ROOT})
            if "company_id" not in {c.name for c in connection.introspection.get_table_description(cursor, table)}
        ]
    assert missing == []


@pytest.mark.django_db
def test_every_foreign_key_between_distributed_tables_includes_company_id():
    tables = distributed_tables()
    broken = []
    for fk in foreign_key_constraints():
        if fk.table not in tables or fk.ref_table not in tables:
            continue
        if fk.ref_table == ROOT:
            ok = fk.columns == ("company_id",) and fk.ref_columns == ("id",)
        else:
            ok = fk.columns[0] == "company_id" and fk.ref_columns[0] == "company_id"
        if not ok and not _sqlite_set_null_companion(fk):
            broken.append(fk.label)
    assert broken == []


def _sqlite_set_null_companion(fk) -> bool:
    """SQLite has no ``ON DELETE SET NULL (column)``: a nullable relation's
    composite key is paired there with a single-column SET NULL key
    (workspace/db/tenant.py). PostgreSQL has no such companion."""
    return connection.vendor == "sqlite" and fk.on_delete == "SET NULL" and len(fk.columns) == 1

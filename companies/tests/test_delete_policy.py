"""The delete policy of docs/delete-policy.md (DESIGN.md), row by row.

``DELETE_POLICY`` below is the contract table typed out by hand, on purpose
not derived from the models: the first tests check the models against it,
the cascade tests use it as the oracle. For every row, a parent object of a
populated tenant is deleted (through the ORM, and through raw SQL so the
database's own ON DELETE action does the work), next to a second populated
tenant; the whole database is then compared row for row with what the
contract predicts: exactly the cascaded rows are gone, exactly the SET NULL
columns are nulled, nothing else changed.
"""

from collections import defaultdict
from copy import deepcopy

import pytest
from django.apps import apps
from django.db import connection, models

from workspace.db.introspection import foreign_keys
from workspace.db.lineage import tenant_lookup
from workspace.testing import build_populated_tenant, diff_snapshots, snapshot_rows

CASCADE, SET_NULL = models.CASCADE, models.SET_NULL

#: (child model, FK field, ORM on_delete) -- DESIGN.md "Delete policy".
DELETE_POLICY = [
    ("companies.User", "company", CASCADE),
    ("chat.Channel", "company", CASCADE),
    ("meetings.Meeting", "company", CASCADE),
    ("companies.Attendance", "company", CASCADE),
    # The tenant key (DESIGN.md "Tenant key everywhere"): the rows that gained
    # a company die with it, like every tenant row.
    ("chat.ChannelMembership", "company", CASCADE),
    ("chat.Message", "company", CASCADE),
    ("chat.MessageReaction", "company", CASCADE),
    ("meetings.MeetingParticipant", "company", CASCADE),
    ("companies.Attendance", "user", CASCADE),
    ("chat.ChannelMembership", "user", CASCADE),
    ("chat.MessageReaction", "user", CASCADE),
    ("meetings.MeetingParticipant", "user", CASCADE),
    ("chat.Message", "author", CASCADE),
    ("meetings.Meeting", "organizer", CASCADE),
    ("chat.Channel", "created_by", SET_NULL),
    ("meetings.Meeting", "channel", SET_NULL),
    ("chat.ChannelMembership", "channel", CASCADE),
    ("chat.Message", "channel", CASCADE),
    ("meetings.MeetingParticipant", "meeting", CASCADE),
    ("chat.MessageReaction", "message", CASCADE),
    ("chat.Message", "parent", CASCADE),
]

#: Installed contrib FKs (Django's own choices, mirrored in the database too).
CONTRIB_POLICY = [
    ("knox.AuthToken", "user", CASCADE),
    ("axes.AccessAttemptExpiration", "access_attempt", CASCADE),
    ("admin.LogEntry", "user", CASCADE),
    ("admin.LogEntry", "content_type", SET_NULL),
    ("companies.User_groups", "user", CASCADE),
    ("companies.User_groups", "group", CASCADE),
    ("companies.User_user_permissions", "user", CASCADE),
    ("companies.User_user_permissions", "permission", CASCADE),
    ("auth.Permission", "content_type", CASCADE),
    ("auth.Group_permissions", "group", CASCADE),
    ("auth.Group_permissions", "permission", CASCADE),
]

PROJECT_APPS = {"companies", "chat", "meetings"}


def _field(label: str, name: str):
    return apps.get_model(label)._meta.get_field(name)


def _is_contrib(field) -> bool:
    # The M2M tables Django creates for User.groups/user_permissions live in
    # the companies app but belong to contrib.auth's design.
    return field.model._meta.auto_created or field.model._meta.app_label not in PROJECT_APPS


def test_every_project_fk_is_in_the_contract_with_its_on_delete():
    in_models = {(f.model._meta.label, f.name): f.remote_field.on_delete for f in foreign_keys() if not _is_contrib(f)}
    in_contract = {(label, name): on_delete for label, name, on_delete in DELETE_POLICY}
    assert in_models == in_contract


def test_every_contrib_fk_has_its_expected_on_delete():
    in_models = {(f.model._meta.label, f.name): f.remote_field.on_delete for f in foreign_keys() if _is_contrib(f)}
    assert in_models == {(label, name): on_delete for label, name, on_delete in CONTRIB_POLICY}


def test_every_fk_column_is_indexed(db):
    """Cascades must not scan: each FK column leads some index."""
    unindexed = []
    with connection.cursor() as cursor:
        for field in foreign_keys():
            table = field.model._meta.db_table
            constraints = connection.introspection.get_constraints(cursor, table)
            if not any(
                (c["index"] or c["unique"] or c["primary_key"]) and c["columns"][:1] == [field.column]
                for c in constraints.values()
            ):
                unindexed.append(f"{table}.{field.column}")
    assert unindexed == []


# --- the oracle --------------------------------------------------------------


def _rules():
    for label, name, on_delete in [*DELETE_POLICY, *CONTRIB_POLICY]:
        field = _field(label, name)
        yield label, field.attname, field.related_model._meta.label, on_delete


def expected_after_delete(before, label: str, pk) -> dict:
    """What the database must look like once ``label`` ``pk`` is deleted,
    computed from the contract tables alone (transitive cascades included)."""
    rules = list(_rules())
    deleted = defaultdict(set)
    deleted[label].add(pk)
    grew = True
    while grew:
        grew = False
        for child, attname, parent, on_delete in rules:
            if on_delete is not CASCADE:
                continue
            for child_pk, row in before.get(child, {}).items():
                if child_pk not in deleted[child] and row[attname] is not None and row[attname] in deleted[parent]:
                    deleted[child].add(child_pk)
                    grew = True
    after = deepcopy(before)
    for model_label, pks in deleted.items():
        for gone in pks:
            after[model_label].pop(gone, None)
    for child, attname, parent, on_delete in rules:
        if on_delete is SET_NULL:
            for row in after.get(child, {}).values():
                if row[attname] in deleted[parent]:
                    row[attname] = None
    return after


def _delete(obj, via: str) -> None:
    if via == "orm":
        obj.delete()
    else:
        opts = obj._meta
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {qn(opts.db_table)} WHERE {qn(opts.pk.column)} = %s", [obj.pk])
    # Deferred FK checks fire now: a dangling reference would raise here.
    connection.check_constraints()


@pytest.fixture
def world(db):
    """Two populated tenants and a platform superuser (no company)."""
    from companies.factories import UserFactory

    first = build_populated_tenant(slug="first")
    second = build_populated_tenant(slug="second")
    UserFactory(company=None, is_superuser=True, is_staff=True, username="platform")
    return first, second


@pytest.mark.parametrize("via", ["orm", "sql"])
@pytest.mark.parametrize(
    ("child_label", "field_name", "on_delete"),
    DELETE_POLICY,
    ids=[f"{label}.{name}" for label, name, _ in DELETE_POLICY],
)
def test_deleting_the_parent_applies_the_policy_exactly(world, child_label, field_name, on_delete, via):
    first, second = world
    child_model = apps.get_model(child_label)
    tenant = {f"{tenant_lookup(child_model)}": first.company.pk}
    child = child_model._base_manager.filter(**tenant, **{f"{field_name}__isnull": False}).order_by("pk").first()
    assert child is not None, "the populated tenant must hold a row for every FK of the policy"
    parent = getattr(child, field_name)
    parent_label, parent_pk = parent._meta.label, parent.pk  # delete() clears pk
    other_tenant_child = (
        child_model._base_manager.filter(**{tenant_lookup(child_model): second.company.pk})
        .filter(**{f"{field_name}__isnull": False})
        .first()
    )
    before = snapshot_rows(ignore_lifecycle=True)

    _delete(parent, via)

    after = snapshot_rows(ignore_lifecycle=True)
    # The FK of the row itself, spelled out...
    if on_delete is CASCADE:
        assert not child_model._base_manager.filter(pk=child.pk).exists()
    else:
        child.refresh_from_db()
        assert getattr(child, field_name) is None
    assert child_model._base_manager.filter(pk=other_tenant_child.pk).exists()
    # ...and the whole database against the contract.
    expected = expected_after_delete(before, parent_label, parent_pk)
    diff = diff_snapshots(expected, after)
    assert diff == [], "\n".join(diff)
    # The deletion really removed something beyond the parent itself.
    assert sum(map(len, before.values())) > sum(map(len, after.values())) + (on_delete is CASCADE)


def test_the_oracle_sees_a_missing_cascade(world):
    """Guard for the test itself: if a cascade did not happen, the diff says so."""
    first, _ = world
    before = snapshot_rows(ignore_lifecycle=True)
    channel = first.channels[0]
    expected = expected_after_delete(before, "chat.Channel", channel.pk)
    # Pretend the database deleted only the channel row.
    only_channel = deepcopy(before)
    only_channel["chat.Channel"].pop(channel.pk)
    diff = diff_snapshots(expected, only_channel)
    assert any(line.startswith("chat.Message ") for line in diff)
    assert any(line.startswith("chat.ChannelMembership ") for line in diff)
    assert any(line.startswith("meetings.Meeting ") and "changed" in line for line in diff)

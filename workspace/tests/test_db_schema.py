"""The database schema against the models: FK actions (drift), the schema
editor that writes them, named constraints, and FK enforcement."""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.test.utils import isolate_apps

from companies.models import Company
from workspace.db.constraints import PostgresOnlyExclusionConstraint
from workspace.db.catalog import foreign_key_constraints
from workspace.db.introspection import db_fk_actions, fk_action_drift, foreign_keys
from workspace.db.on_delete import PG_CONFDELTYPE, expected_db_action
from workspace.testing import build_populated_tenant

PROJECT_APPS = ("companies", "chat", "meetings")


# --- FK actions: no drift ----------------------------------------------------


@pytest.mark.django_db
def test_every_fk_of_every_installed_model_carries_its_on_delete_in_the_database():
    fields = foreign_keys()
    # contrib (auth, admin log), API tokens (knox) and the project: nothing left out
    assert {f.model._meta.app_label for f in fields} >= {"auth", "admin", "knox", *PROJECT_APPS}
    assert fk_action_drift() == []
    actual = db_fk_actions()
    for field in fields:
        constraints = actual[field.model._meta.db_table, field.column]
        # One constraint carries the action (on SQLite a nullable tenant
        # relation's composite key is NO ACTION next to its SET NULL one).
        acting = [c for c in constraints if c.action != "NO ACTION"]
        assert [c.action for c in acting] == [expected_db_action(field)], field
        assert len(constraints) == 1 or connection.vendor == "sqlite", field


@pytest.mark.postgres
@pytest.mark.django_db
def test_pg_constraint_confdeltype_matches_the_models():
    """The same comparison, spelled out on the PostgreSQL catalog."""
    drift = []
    with connection.cursor() as cursor:
        for field in foreign_keys():
            cursor.execute(
                """
                SELECT con.confdeltype FROM pg_constraint con
                JOIN pg_attribute a ON a.attrelid = con.conrelid
                    AND a.attnum = con.conkey[array_length(con.conkey, 1)]  -- (company_id, x_id): x_id
                WHERE con.contype = 'f' AND con.conrelid = %s::regclass AND a.attname = %s
                """,
                [field.model._meta.db_table, field.column],
            )
            codes = [row[0] for row in cursor.fetchall()]
            if [PG_CONFDELTYPE[c] for c in codes] != [expected_db_action(field)]:
                drift.append((field.model._meta.label, field.name, codes))
    assert drift == []


def _fk_constraint_name(table: str, column: str) -> str:
    [constraint] = db_fk_actions()[table, column]
    return constraint.name


@pytest.mark.postgres
@pytest.mark.django_db
def test_drift_check_reports_an_fk_rebuilt_without_its_action():
    name = _fk_constraint_name("chat_message", "channel_id")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE chat_message DROP CONSTRAINT "{name}"')
            cursor.execute(
                f'ALTER TABLE chat_message ADD CONSTRAINT "{name}" FOREIGN KEY (channel_id) '
                "REFERENCES chat_channel (id) DEFERRABLE INITIALLY DEFERRED"
            )
        drift = fk_action_drift()
        transaction.set_rollback(True)
    assert len(drift) == 1
    assert drift[0].startswith("chat.Message.channel (chat_message.channel_id)")
    assert "database ON DELETE NO ACTION, model expects CASCADE" in drift[0]
    assert fk_action_drift() == []  # rolled back


@pytest.mark.postgres
@pytest.mark.django_db
def test_drift_check_reports_a_missing_or_duplicated_fk():
    name = _fk_constraint_name("meetings_meeting", "channel_id")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE meetings_meeting DROP CONSTRAINT "{name}"')
        missing = fk_action_drift()
        with connection.cursor() as cursor:
            for suffix in ("a", "b"):
                cursor.execute(
                    f'ALTER TABLE meetings_meeting ADD CONSTRAINT "tmp_{suffix}" FOREIGN KEY (channel_id) '
                    "REFERENCES chat_channel (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED"
                )
        duplicated = fk_action_drift()
        transaction.set_rollback(True)
    assert missing == [
        "meetings.Meeting.channel (meetings_meeting.channel_id): "
        "no FK constraint in the database (expected ON DELETE SET NULL (channel_id) on (company_id, channel_id))"
    ]
    assert duplicated[0] == "meetings.Meeting.channel (meetings_meeting.channel_id): 2 FK constraints on one column"
    # ...neither of them the composite tenant key the model declares
    assert len(duplicated) == 3 and all("model expects SET NULL (channel_id) on" in line for line in duplicated[1:])


# --- the schema editor writes the action -------------------------------------


def _fk(to, on_delete, *, model=None, name="parent"):
    field = models.ForeignKey(to, on_delete, null=True)
    field.set_attributes_from_name(name)
    field.model = model
    return field


def test_a_change_of_on_delete_alone_makes_the_schema_editor_alter_the_field():
    editor = connection.schema_editor()  # not entered: no SQL runs
    cascade = _fk(Company, models.CASCADE, model=Company)
    for on_delete in (models.SET_NULL, models.DO_NOTHING, models.PROTECT):
        other = _fk(Company, on_delete, model=Company)
        # Stock Django sees nothing to do in the database...
        assert not BaseDatabaseSchemaEditor._field_should_be_altered(editor, cascade, other)
        # ...ours rebuilds the constraint.
        assert editor._field_should_be_altered(cascade, other)
        assert editor._field_should_be_altered(other, cascade)
    # PROTECT and DO_NOTHING are both NO ACTION in the database: no rebuild.
    assert not editor._field_should_be_altered(
        _fk(Company, models.PROTECT, model=Company), _fk(Company, models.DO_NOTHING, model=Company)
    )
    assert not editor._field_should_be_altered(cascade, _fk(Company, models.CASCADE, model=Company))


@pytest.mark.django_db(transaction=True)
def test_migrating_a_new_or_altered_fk_writes_its_action_into_the_constraint():
    """The schema editor ``migrate`` uses, on a throwaway pair of tables: a new
    FK is created with its action, and each change of ``on_delete`` rebuilds
    the constraint with the new one (on SQLite: the table is remade)."""
    with isolate_apps("companies"):

        class TmpParent(models.Model):
            class Meta:
                app_label = "companies"
                db_table = "tmp_fk_parent"

        class TmpChild(models.Model):
            parent = models.ForeignKey(TmpParent, models.CASCADE, null=True)

            class Meta:
                app_label = "companies"
                db_table = "tmp_fk_child"

        def actions():
            return [fk.action for fk in db_fk_actions().get(("tmp_fk_child", "parent_id"), [])]

        with connection.schema_editor() as editor:
            editor.create_model(TmpParent)
            editor.create_model(TmpChild)
        try:
            assert actions() == ["CASCADE"]
            steps = [
                (models.CASCADE, models.SET_NULL, ["SET NULL"]),
                (models.SET_NULL, models.DO_NOTHING, ["NO ACTION"]),
                (models.DO_NOTHING, models.CASCADE, ["CASCADE"]),
            ]
            for old, new, expected in steps:
                with connection.schema_editor() as editor:
                    editor.alter_field(
                        TmpChild,
                        _fk(TmpParent, old, model=TmpChild),
                        _fk(TmpParent, new, model=TmpChild),
                        strict=True,
                    )
                assert actions() == expected, (old, new)
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(TmpChild)
                editor.delete_model(TmpParent)


# --- SQLite: enforcement is on, and a raw DELETE cascades ---------------------


@pytest.mark.django_db
def test_sqlite_enforces_foreign_keys_and_cascades_a_raw_delete():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-specific (PostgreSQL always enforces FKs)")
    from chat.factories import ChannelMembershipFactory, MessageFactory
    from meetings.factories import MeetingFactory

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
    message = MessageFactory()
    channel = message.channel
    ChannelMembershipFactory(channel=channel)
    meeting = MeetingFactory(company=channel.company, channel=channel)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM chat_channel WHERE id = %s", [channel.pk])
    connection.check_constraints()
    assert not message.__class__.objects.filter(channel_id=channel.pk).exists()
    assert not channel.memberships.model.objects.filter(channel_id=channel.pk).exists()
    meeting.refresh_from_db()
    assert meeting.channel_id is None


# --- named constraints exist in the database ---------------------------------


def _named_constraints():
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            for constraint in model._meta.constraints:
                marks = [pytest.mark.postgres] if isinstance(constraint, PostgresOnlyExclusionConstraint) else []
                yield pytest.param(model, constraint.name, marks=marks, id=constraint.name)


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "name"), list(_named_constraints()))
def test_named_constraint_exists_in_the_database(model, name):
    app_label = model._meta.app_label
    assert name.startswith(f"{app_label}_"), "constraints are named <app>_<model>_<rule>"
    with connection.cursor() as cursor:
        constraints = set(connection.introspection.get_constraints(cursor, model._meta.db_table))
    # SQLite's introspection leaves FKs unnamed: the composite keys' names are
    # read from the table's SQL (workspace/db/catalog.py).
    constraints |= {fk.name for fk in foreign_key_constraints() if fk.table == model._meta.db_table}
    assert name in constraints


# --- every FK refuses a missing parent ---------------------------------------

MISSING = 2_000_000_000


@pytest.fixture
def populated(db):
    return build_populated_tenant()


@pytest.mark.parametrize("field", foreign_keys(), ids=[f"{f.model._meta.label}.{f.name}" for f in foreign_keys()])
def test_every_fk_refuses_a_row_pointing_at_a_missing_parent(populated, field):
    model = field.model
    row = model._base_manager.filter(**{f"{field.name}__isnull": False}).first()
    assert row is not None, "the populated tenant holds a row for every FK"
    # Django's FK constraints are deferred: check_constraints() makes the
    # database verify them now, inside the test, so the error is real.
    with pytest.raises(IntegrityError, match=field.column):
        with transaction.atomic():
            model._base_manager.filter(pk=row.pk).update(**{field.attname: MISSING})
            connection.check_constraints()
    # The same write with an existing parent is fine (the refusal was the FK).
    with transaction.atomic():
        model._base_manager.filter(pk=row.pk).update(**{field.attname: getattr(row, field.attname)})
        connection.check_constraints()

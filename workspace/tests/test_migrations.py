"""Migrations: the models and the migration files agree, and the test
database (built by ``migrate`` from an empty database, on SQLite or
PostgreSQL) has every migration applied."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader


@pytest.mark.django_db
def test_makemigrations_finds_nothing_to_do(capsys):
    # check=True exits non-zero when a model change has no migration.
    call_command("makemigrations", check=True, dry_run=True, interactive=False)
    assert "No changes detected" in capsys.readouterr().out


def test_the_migration_graph_has_one_leaf_per_app():
    """Parallel branches adding migrations must be merged (no conflicts)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert loader.detect_conflicts() == {}


@pytest.mark.django_db
def test_migrate_built_the_test_database_with_every_migration():
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    call_command("migrate", check_unapplied=True, verbosity=0)  # exits 1 if anything is unapplied


@pytest.mark.django_db(transaction=True)
def test_meeting_is_private_migrates_a_populated_database():
    """meetings 0003 on existing rows: the meetings announced in a private
    channel become private, the others stay company-visible."""
    from datetime import UTC, datetime, timedelta

    before = [("meetings", "0002_not_blank_strips_all_whitespace")]
    after = [("meetings", "0003_meeting_is_private")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Company = apps.get_model("companies", "Company")
    User = apps.get_model("companies", "User")
    Channel = apps.get_model("chat", "Channel")
    Meeting = apps.get_model("meetings", "Meeting")
    try:
        company = Company.objects.create(name="Old", slug="old")
        organizer = User.objects.create(username="old-organizer", company=company)
        secret = Channel.objects.create(company=company, name="secret", is_private=True)
        general = Channel.objects.create(company=company, name="general", is_private=False)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        ids = {
            name: Meeting.objects.create(
                company=company, organizer=organizer, channel=channel, title=name,
                starts_at=start, ends_at=start + timedelta(hours=1),
            ).pk
            for name, channel in (("secret", secret), ("general", general), ("none", None))
        }

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
        Meeting = executor.loader.project_state(after).apps.get_model("meetings", "Meeting")
        assert dict(Meeting.objects.filter(pk__in=ids.values()).values_list("title", "is_private")) == {
            "secret": True, "general": False, "none": False,
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

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

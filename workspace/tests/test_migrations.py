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
                company=company,
                organizer=organizer,
                channel=channel,
                title=name,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
            ).pk
            for name, channel in (("secret", secret), ("general", general), ("none", None))
        }

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
        Meeting = executor.loader.project_state(after).apps.get_model("meetings", "Meeting")
        assert dict(Meeting.objects.filter(pk__in=ids.values()).values_list("title", "is_private")) == {
            "secret": True,
            "general": False,
            "none": False,
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_tenant_key_migrates_a_populated_database(monkeypatch):
    """The tenant-key migrations (expand, backfill in batches, contract) on a
    database of two tenants written by the previous schema: every new
    company_id is its parent's, and afterwards the composite keys refuse a
    cross-tenant row. Batches of 2 ids, so the backfill loops."""
    from datetime import UTC, datetime, timedelta

    from django.db import IntegrityError, transaction

    from workspace.db import migrations_kit

    monkeypatch.setattr(migrations_kit, "BATCH_SIZE", 2)
    before = [
        ("companies", "0002_not_blank_strips_all_whitespace"),
        ("chat", "0004_message_channel_single_index_dropped"),
        ("meetings", "0003_meeting_is_private"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        for slug in ("old-a", "old-b"):
            company = old.get_model("companies", "Company").objects.create(name=slug, slug=slug)
            User = old.get_model("companies", "User")
            people = [User.objects.create(username=f"{slug}-{i}", company=company) for i in range(3)]
            Channel = old.get_model("chat", "Channel")
            channels = [Channel.objects.create(company=company, name=f"c{i}", created_by=people[i]) for i in range(2)]
            for channel in channels:
                for person in people:
                    old.get_model("chat", "ChannelMembership").objects.create(channel=channel, user=person)
                Message = old.get_model("chat", "Message")
                for i, person in enumerate(people):
                    top = Message.objects.create(channel=channel, author=person, body=f"m{i}")
                    reply = Message.objects.create(channel=channel, author=people[i - 1], body="re", parent=top)
                    for message in (top, reply):
                        old.get_model("chat", "MessageReaction").objects.create(
                            message=message, user=person, emoji="👍"
                        )
            meeting = old.get_model("meetings", "Meeting").objects.create(
                company=company,
                organizer=people[0],
                channel=channels[0],
                title="m",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
            )
            for person in people:
                old.get_model("meetings", "MeetingParticipant").objects.create(meeting=meeting, user=person)

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

        from chat.models import ChannelMembership, Message, MessageReaction
        from meetings.models import MeetingParticipant

        expected = {
            ChannelMembership: "channel__company_id",
            Message: "channel__company_id",
            MessageReaction: "message__company_id",
            MeetingParticipant: "meeting__company_id",
        }
        for model, parent_company in expected.items():
            rows = list(model.objects.values_list("company_id", parent_company))
            assert len(rows) > 2 and all(own == parent for own, parent in rows), model.__name__
        a, b = (Message.objects.filter(company__slug=slug).first() for slug in ("old-a", "old-b"))
        with pytest.raises(IntegrityError, match="chat_message_channel_same_company"), transaction.atomic():
            Message.objects.filter(pk=a.pk).update(channel_id=b.channel_id)
            connection.check_constraints()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

"""manage.py integrity_audit: clean database, each kind of drift, --fix, --company."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.models import User
from workspace.db.introspection import db_fk_actions


@pytest.fixture
def tenant(db):
    from workspace.testing import build_populated_tenant

    return build_populated_tenant()


def audit(*args):
    """Run the command; return (exit status, output)."""
    out = StringIO()
    try:
        call_command("integrity_audit", *args, stdout=out, stderr=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_clean_database_has_no_findings(tenant):
    status, out = audit()
    assert status == 0, out
    assert "no findings" in out
    status, out = audit("--fix")
    assert status == 0 and "no findings" in out


def test_stale_lifecycle_fields_found_and_fixed(tenant):
    general, private = tenant.channels
    newest = general.messages.order_by("-created_at").first()
    author = newest.author
    # What raw SQL can do behind the receivers' back:
    raw("UPDATE chat_channel SET last_message_at = NULL WHERE id = %s", [general.pk])
    raw("UPDATE companies_user SET last_active = NULL WHERE id = %s", [author.pk])
    empty = Channel.objects.create(company=tenant.company, name="empty")
    raw("UPDATE chat_channel SET last_message_at = %s WHERE id = %s", [newest.created_at, empty.pk])

    status, out = audit()
    assert status == 1
    assert "stale_last_message_at" in out and "stale_last_active" in out
    assert f"{min(general.pk, empty.pk)}, {max(general.pk, empty.pk)}" in out  # both channels listed
    # Without --fix nothing changes.
    assert Channel.objects.get(pk=general.pk).last_message_at is None

    status, out = audit("--fix")
    assert status == 0, out
    assert "last_message_at recomputed" in out and "no findings" in out
    assert Channel.objects.get(pk=general.pk).last_message_at == newest.created_at
    assert Channel.objects.get(pk=empty.pk).last_message_at is None
    assert (
        Channel.objects.get(pk=private.pk).last_message_at
        == private.messages.order_by("-created_at").first().created_at
    )
    newest_of_author = author.messages.order_by("-created_at").first().created_at
    assert User.objects.get(pk=author.pk).last_active == newest_of_author
    assert audit()[0] == 0


def test_last_active_ahead_of_messages_is_not_stale(tenant):
    """last_active counts other activity (login, RSVP...): newer is fine."""
    user = tenant.members[0]
    raw("UPDATE companies_user SET last_active = %s WHERE id = %s", ["2999-01-01 00:00:00+00:00", user.pk])
    assert audit()[0] == 0


def test_company_scope(tenant):
    from workspace.testing import build_populated_tenant

    other = build_populated_tenant()
    raw("UPDATE chat_channel SET last_message_at = NULL WHERE id = %s", [tenant.channels[0].pk])
    assert audit("--company", other.company.slug)[0] == 0
    status, out = audit("--company", tenant.company.slug)
    assert status == 1 and "stale_last_message_at" in out
    status, out = audit("--company", other.company.slug, "--fix")
    assert status == 0
    assert Channel.objects.get(pk=tenant.channels[0].pk).last_message_at is None  # out of scope
    assert audit("--company", tenant.company.slug, "--fix")[0] == 0
    assert audit()[0] == 0


def test_unknown_company_is_an_error(db):
    with pytest.raises(CommandError, match="No company"):
        call_command("integrity_audit", "--company", "nope")


def test_fix_is_set_based(tenant):
    """The same number of statements whatever the number of stale rows."""
    from workspace.testing import build_populated_tenant

    def stale_everything():
        raw("UPDATE chat_channel SET last_message_at = NULL")
        raw("UPDATE companies_user SET last_active = NULL")

    stale_everything()
    with CaptureQueriesContext(connection) as small:
        assert audit("--fix")[0] == 0
    for _ in range(3):
        build_populated_tenant()
    stale_everything()
    with CaptureQueriesContext(connection) as large:
        assert audit("--fix")[0] == 0
    assert len(large) == len(small)


# --- Orphans: rows whose parent is gone --------------------------------------


def _orphan_checks(channel_id, message_ids, reaction_ids, membership_ids):
    assert Message.objects.filter(pk__in=message_ids).exists()  # orphaned, still there
    status, out = audit()
    assert status == 1
    assert "orphan" in out and "chat_message" in out and "channel_id -> missing chat_channel" in out
    status, out = audit("--fix")
    assert status == 0, out
    assert "orphans deleted" in out
    assert not Message.objects.filter(pk__in=message_ids).exists()
    assert not MessageReaction.objects.filter(pk__in=reaction_ids).exists()
    assert not ChannelMembership.objects.filter(pk__in=membership_ids).exists()
    assert audit()[0] == 0


def _doomed(channel):
    return (
        list(channel.messages.values_list("pk", flat=True)),
        list(MessageReaction.objects.filter(message__channel=channel).values_list("pk", flat=True)),
        list(channel.memberships.values_list("pk", flat=True)),
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite-only: PRAGMA foreign_keys")
@pytest.mark.django_db(transaction=True)
def test_orphans_after_delete_with_foreign_keys_off_sqlite():
    from workspace.testing import build_populated_tenant

    tenant = build_populated_tenant()
    channel = tenant.channels[0]
    doomed = _doomed(channel)
    # PRAGMA foreign_keys only takes effect outside a transaction.
    raw("PRAGMA foreign_keys = OFF")
    try:
        raw("DELETE FROM chat_channel WHERE id = %s", [channel.pk])
    finally:
        raw("PRAGMA foreign_keys = ON")
    _orphan_checks(channel.pk, *doomed)


@pytest.mark.postgres
def test_orphans_after_delete_with_triggers_off_postgres(tenant):
    channel = tenant.channels[0]
    doomed = _doomed(channel)
    connection.check_constraints()
    # As superuser: FK triggers (checks and cascades) do not fire.
    raw("SET LOCAL session_replication_role = replica")
    raw("DELETE FROM chat_channel WHERE id = %s", [channel.pk])
    raw("SET LOCAL session_replication_role = origin")
    _orphan_checks(channel.pk, *doomed)


@pytest.mark.postgres
def test_set_null_orphan_is_cleared_not_deleted(tenant):
    channel = tenant.channels[0]
    creator = channel.created_by
    connection.check_constraints()
    raw("SET LOCAL session_replication_role = replica")
    raw("DELETE FROM companies_user WHERE id = %s", [creator.pk])
    raw("SET LOCAL session_replication_role = origin")
    status, out = audit()
    assert status == 1 and "created_by_id -> missing companies_user row (set to NULL)" in out
    assert audit("--fix")[0] == 0
    channel.refresh_from_db()
    assert channel.created_by_id is None  # the channel outlives its creator


# --- FK-action drift (PostgreSQL) ---------------------------------------------


def _author_fk():
    (fk,) = db_fk_actions()[("chat_message", "author_id")]
    return fk


@pytest.mark.postgres
@pytest.mark.parametrize("readd", [True, False], ids=["no-on-delete", "dropped"])
def test_fk_action_drift_found_and_fixed(tenant, readd):
    connection.check_constraints()  # PostgreSQL refuses ALTER TABLE with pending trigger events
    name = _author_fk().name
    raw(f'ALTER TABLE chat_message DROP CONSTRAINT "{name}"')
    if readd:
        raw(
            f'ALTER TABLE chat_message ADD CONSTRAINT "{name}" FOREIGN KEY (author_id) '
            "REFERENCES companies_user (id) DEFERRABLE INITIALLY DEFERRED"
        )
    status, out = audit()
    assert status == 1
    assert "fk_drift" in out and "author_id" in out
    assert ("NO ACTION" if readd else "missing") in out

    status, out = audit("--fix")
    assert status == 0, out
    assert "re-created with ON DELETE CASCADE" in out
    assert _author_fk().action == "CASCADE"
    # And the database cascades again: erasing an author by raw SQL leaves no orphan.
    author = tenant.members[0]
    raw("DELETE FROM companies_user WHERE id = %s", [author.pk])
    assert not Message.objects.filter(author_id=author.pk).exists()


def test_each_app_registers_its_derived_fields_with_the_audit():
    """The audit knows no app: chat and meetings register their derived
    fields from AppConfig.ready(), and the audit checks what is registered."""
    from workspace.db.derived import registered

    kinds = {derived.kind: derived.model._meta.label for derived in registered()}
    assert kinds == {
        "stale_last_message_at": "chat.Channel",
        "stale_last_active": "companies.User",
        "stale_meeting_is_private": "meetings.Meeting",
    }

"""Read state: membership_mark_read and the unread counts of channel_read_state
(docs/api.md, "Read state"), on both databases."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import selectors, services
from chat.models import ChannelMembership, Message
from companies.factories import UserFactory
from companies.services import user_erase
from chat.tests.read_state_kit import T0, at, post

pytestmark = pytest.mark.django_db


def last_read(channel, user):
    return ChannelMembership.objects.get(channel=channel, user=user).last_read_at


def state(channel, user):
    """(last_read_at, unread_count) as the channel list shows them to ``user``."""
    channels = selectors.channel_read_state(channels=selectors.channel_list_visible(user=user), user=user)
    row = channels.get(pk=channel.pk)
    return row.last_read_at, row.unread_count


# --- membership_mark_read ---------------------------------------------------------


def test_mark_read_up_to_a_message_then_an_older_one_does_not_move_back(room, people):
    bob = people["bob"]
    old, new = post(room, people["alice"], 1), post(room, people["alice"], 2)
    assert services.membership_mark_read(channel=room, user=bob, message=new) == at(2)
    assert services.membership_mark_read(channel=room, user=bob, message=old) == at(2)
    assert last_read(room, bob) == at(2)
    assert services.membership_mark_read(channel=room, user=bob, message=new) == at(2)


def test_the_update_itself_is_conditional_never_backwards(room, people):
    # Another request moved the mark ahead between our read and our write:
    # the statement, not a Python check, keeps it there.
    bob = people["bob"]
    old = post(room, people["alice"], 1)
    ChannelMembership.objects.filter(channel=room, user=bob).update(last_read_at=at(30))
    with CaptureQueriesContext(connection) as queries:
        assert services.membership_mark_read(channel=room, user=bob, message=old) == at(30)
    assert last_read(room, bob) == at(30)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"last_read_at" IS NULL OR' in updates[0] and '"last_read_at" <' in updates[0]


def test_mark_read_is_one_update_statement(room, people):
    post(room, people["alice"], 1)
    with CaptureQueriesContext(connection) as queries:
        services.membership_mark_read(channel=room, user=people["bob"])
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SELECT", "SAVEPOINT", "RELEASE"))]
    assert len(writes) == 1 and writes[0].startswith('UPDATE "chat_channelmembership"')


def test_mark_read_without_message_goes_to_the_newest_message_replies_included(room, people):
    alice, bob = people["alice"], people["bob"]
    top = post(room, alice, 1)
    post(room, alice, 5, parent=top)
    post(room, alice, 3)
    assert services.membership_mark_read(channel=room, user=bob) == at(5)
    assert state(room, bob) == (at(5), 0)


def test_mark_read_in_an_empty_channel_leaves_never_read(room, people):
    assert services.membership_mark_read(channel=room, user=people["bob"]) is None
    assert last_read(room, people["bob"]) is None


def test_a_message_of_another_channel_is_refused(room, company, people):
    other = services.channel_create(company=company, name="other", created_by=people["alice"])
    elsewhere = post(other, people["alice"], 1)
    with pytest.raises(ValidationError) as exc:
        services.membership_mark_read(channel=room, user=people["bob"], message=elsewhere)
    assert "message" in exc.value.message_dict
    assert last_read(room, people["bob"]) is None


def test_a_non_member_has_no_read_state_to_move(room, people):
    post(room, people["alice"], 1)
    from workspace.db.writes import Forbidden

    with pytest.raises(Forbidden, match="Only members of the channel have a read state"):
        services.membership_mark_read(channel=room, user=people["carol"])
    assert not ChannelMembership.objects.filter(channel=room, user=people["carol"]).exists()


# --- unread counts ----------------------------------------------------------------


def test_unread_counts_others_messages_after_the_mark_replies_included_own_excluded(room, people):
    alice, bob = people["alice"], people["bob"]
    first = post(room, alice, 1)
    services.membership_mark_read(channel=room, user=bob, message=first)
    post(room, alice, 2)
    post(room, alice, 3, parent=first)  # a thread reply counts
    post(room, bob, 4)  # bob's own does not
    assert state(room, bob) == (at(1), 2)
    assert state(room, alice) == (None, 1)  # never read: bob's message since she joined


def test_a_member_who_never_read_counts_from_joining_not_the_whole_history(room, people):
    alice, carol = people["alice"], people["carol"]
    for minute in (1, 2, 3):
        post(room, alice, minute)
    membership = services.membership_add(channel=room, user=carol)
    ChannelMembership.objects.filter(pk=membership.pk).update(joined_at=at(2) + timedelta(seconds=30))
    assert state(room, carol) == (None, 1)
    ChannelMembership.objects.filter(pk=membership.pk).update(joined_at=at(10))
    assert state(room, carol) == (None, 0)


def test_marking_a_message_from_before_joining_does_not_unread_older_history(room, people):
    alice, carol = people["alice"], people["carol"]
    first = post(room, alice, 1)
    for minute in (2, 3):
        post(room, alice, minute)
    membership = services.membership_add(channel=room, user=carol)
    ChannelMembership.objects.filter(pk=membership.pk).update(joined_at=at(10))
    services.membership_mark_read(channel=room, user=carol, message=first)
    assert state(room, carol) == (at(1), 0)


def test_a_non_member_sees_no_unread(room, people):
    post(room, people["alice"], 1)
    assert state(room, people["carol"]) == (None, 0)


def test_a_deleted_unread_message_is_no_longer_counted_service(room, people):
    alice, bob = people["alice"], people["bob"]
    first = post(room, alice, 1)
    unread = [post(room, alice, 2), post(room, alice, 3)]
    post(room, alice, 4, parent=unread[0])
    assert state(room, bob) == (None, 4)
    services.message_delete(message=unread[0])  # with its reply
    assert state(room, bob) == (None, 2)
    services.membership_mark_read(channel=room, user=bob, message=first)
    assert state(room, bob) == (at(1), 1)


def test_a_deleted_unread_message_is_no_longer_counted_queryset(room, people):
    alice, bob = people["alice"], people["bob"]
    for minute in (1, 2, 3):
        post(room, alice, minute)
    Message.objects.filter(channel=room, created_at__gte=at(2)).delete()
    assert state(room, bob) == (None, 1)


def test_erasing_the_author_removes_their_unread_messages_from_the_count(room, company, people):
    alice, bob = people["alice"], people["bob"]
    leaver = UserFactory(company=company)
    services.membership_add(channel=room, user=leaver)
    post(room, alice, 1)
    post(room, leaver, 2)
    post(room, leaver, 3)
    assert state(room, bob) == (None, 3)
    user_erase(user=leaver)
    assert state(room, bob) == (None, 1)


def test_the_channel_list_is_one_query_whatever_the_number_of_channels(company, people):
    bob = people["bob"]

    def count_for(n: int) -> int:
        for i in range(n):
            channel = services.channel_create(
                company=company, name=f"c{n}-{i}", created_by=people["alice"], members=[bob]
            )
            services.message_create(channel=channel, author=people["alice"], body="new")
        with CaptureQueriesContext(connection) as queries:
            rows = list(selectors.channel_read_state(channels=selectors.channel_list_visible(user=bob), user=bob))
        assert all(row.unread_count >= 1 for row in rows)
        return len(queries.captured_queries)

    assert count_for(2) == count_for(8) == 1


@pytest.mark.postgres
def test_unread_counts_walk_the_channel_created_at_index_from_the_read_mark(company, people):
    # Interleaved channels, everything read but one message each: the count
    # must probe (channel, created_at > mark) in the index, not filter each
    # channel's whole history (which it did while a single-column index on
    # channel_id existed next to the composite one).
    bob, alice = people["bob"], people["alice"]
    channels = [
        services.channel_create(company=company, name=f"p{i}", created_by=alice, members=[bob]) for i in range(30)
    ]
    ChannelMembership.objects.filter(user=bob).update(joined_at=T0)
    Message.objects.bulk_create([Message(channel=c, author=alice, body="x") for _ in range(2000) for c in channels])
    ChannelMembership.objects.filter(user=bob).update(last_read_at=timezone.now())
    Message.objects.bulk_create([Message(channel=c, author=alice, body="new") for c in channels])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE chat_message")
    listing = selectors.channel_read_state(channels=selectors.channel_list_visible(user=bob), user=bob)
    plan = listing.explain()
    index_conds = [line for line in plan.splitlines() if "Index Cond" in line and "created_at >" in line]
    assert index_conds, plan
    assert {c.unread_count for c in listing} == {1}

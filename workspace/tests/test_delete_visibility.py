"""A delete never widens who can see a row (docs/delete-policy.md).

Every ``SET NULL`` edge of the delete policy leaves a row behind whose
reference is gone. For each one, a check below deletes the parent by every
path (the service, ``Model.delete()``, a queryset delete, a raw SQL
``DELETE`` that only the database's ``ON DELETE SET NULL`` handles) and
asserts that the people who could not see the row before still cannot, and
that those the rule keeps can. ``test_every_set_null_edge_has_a_visibility_check``
fails when a new ``SET NULL`` FK is added without its check.
"""

from datetime import timedelta

import pytest
from django.db import connection, models
from django.utils import timezone

from chat.models import Channel
from chat.selectors import channel_list_visible
from chat.services import channel_create, channel_delete, membership_add
from companies.factories import UserFactory
from companies.services import user_erase
from meetings.models import Meeting
from meetings.selectors import meeting_list_visible
from meetings.services import meeting_create, meeting_update
from workspace.integrity.audit import audit, repair
from workspace.db.lineage import all_edges

pytestmark = pytest.mark.django_db


def _raw_delete(obj: models.Model) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(obj._meta.db_table)} WHERE id = %s", [obj.pk])


DELETE_PATHS = {
    "service": None,  # the app's own delete service, filled in per edge
    "instance": lambda obj: type(obj).objects.get(pk=obj.pk).delete(),
    "queryset": lambda obj: type(obj).objects.filter(pk=obj.pk).delete(),
    "raw_sql": _raw_delete,
}


def _visible_meetings(user) -> set[int]:
    return set(meeting_list_visible(user=user).values_list("pk", flat=True))


def _private_meeting_setup(company):
    organizer = UserFactory(company=company)
    participant = UserFactory(company=company)
    channel_member = UserFactory(company=company)
    outsider = UserFactory(company=company)
    channel = channel_create(company=company, name="board", created_by=organizer, is_private=True)
    membership_add(channel=channel, user=channel_member)
    start = timezone.now() + timedelta(days=1)
    meeting = meeting_create(
        organizer=organizer,
        title="Layoffs",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        channel=channel,
        participants=[participant],
    )
    return (
        meeting,
        channel,
        {
            "organizer": organizer,
            "participant": participant,
            "channel_member": channel_member,
            "outsider": outsider,
        },
    )


def check_meeting_channel(company, path: str) -> None:
    """``Meeting.channel``: a meeting announced in a private channel is visible
    to its organizer, participants and the channel's members; once the channel
    is deleted, to its organizer and participants only, never to the company."""
    meeting, channel, people = _private_meeting_setup(company)
    assert meeting.is_private
    before = {name: meeting.pk in _visible_meetings(user) for name, user in people.items()}
    assert before == {"organizer": True, "participant": True, "channel_member": True, "outsider": False}

    if path == "service":
        channel_delete(channel=channel)
    else:
        DELETE_PATHS[path](channel)

    meeting.refresh_from_db()
    assert meeting.channel_id is None  # the SET NULL happened
    after = {name: meeting.pk in _visible_meetings(user) for name, user in people.items()}
    assert after == {"organizer": True, "participant": True, "channel_member": False, "outsider": False}
    assert audit() == []


def check_channel_created_by(company, path: str) -> None:
    """``Channel.created_by``: a private channel whose creator is erased stays
    visible to its members only."""
    creator = UserFactory(company=company)
    member = UserFactory(company=company)
    outsider = UserFactory(company=company)
    channel = channel_create(company=company, name="hr", created_by=creator, is_private=True)
    membership_add(channel=channel, user=member)
    assert set(channel_list_visible(user=outsider)) == set()

    if path == "service":
        user_erase(user=creator)
    else:
        DELETE_PATHS[path](creator)

    channel.refresh_from_db()
    assert channel.created_by_id is None
    assert list(channel_list_visible(user=member)) == [channel]
    assert list(channel_list_visible(user=outsider)) == []


VISIBILITY_CHECKS = {
    "meetings.Meeting.channel": check_meeting_channel,
    "chat.Channel.created_by": check_channel_created_by,
}


def _project_set_null_edges() -> set[str]:
    project_apps = {"companies", "chat", "meetings"}
    return {
        edge.label
        for edge in all_edges()
        if edge.child._meta.app_label in project_apps and edge.field.remote_field.on_delete is models.SET_NULL
    }


def test_every_set_null_edge_has_a_visibility_check():
    assert _project_set_null_edges() == set(VISIBILITY_CHECKS)


@pytest.mark.parametrize("path", list(DELETE_PATHS))
@pytest.mark.parametrize("edge", sorted(VISIBILITY_CHECKS))
def test_a_delete_never_widens_visibility(edge, path, company):
    VISIBILITY_CHECKS[edge](company, path)


# --- how Meeting.is_private is kept ---------------------------------------------


def _meeting(company, **kwargs):
    organizer = UserFactory(company=company)
    start = timezone.now() + timedelta(days=1)
    return meeting_create(
        organizer=organizer, title="Sync", starts_at=start, ends_at=start + timedelta(hours=1), **kwargs
    )


def test_meeting_without_a_channel_is_company_visible(company):
    meeting = _meeting(company)
    assert not meeting.is_private
    assert meeting.pk in _visible_meetings(UserFactory(company=company))


def test_orm_create_derives_is_private_from_the_channel(company):
    organizer = UserFactory(company=company)
    channel = channel_create(company=company, name="secret", created_by=organizer, is_private=True)
    start = timezone.now()
    meeting = Meeting.objects.create(
        company=company,
        organizer=organizer,
        channel=channel,
        title="x",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    assert Meeting.objects.get(pk=meeting.pk).is_private


def test_moving_a_meeting_into_a_private_channel_restricts_it(company):
    meeting = _meeting(company)
    channel = channel_create(company=company, name="secret", created_by=meeting.organizer, is_private=True)
    meeting_update(meeting=meeting, channel=channel)
    assert Meeting.objects.get(pk=meeting.pk).is_private
    assert meeting.pk not in _visible_meetings(UserFactory(company=company))


def test_taking_a_private_meeting_out_of_its_channel_keeps_it_restricted(company):
    channel = channel_create(company=company, name="secret", created_by=UserFactory(company=company), is_private=True)
    meeting = _meeting(company, channel=channel)
    meeting_update(meeting=meeting, channel=None)
    assert Meeting.objects.get(pk=meeting.pk).is_private


def test_a_channel_turned_private_or_public_takes_its_meetings_along(company):
    from chat.services import channel_update

    channel = channel_create(company=company, name="general", created_by=UserFactory(company=company))
    meeting = _meeting(company, channel=channel)
    outsider = UserFactory(company=company)
    assert meeting.pk in _visible_meetings(outsider)
    channel_update(channel=channel, is_private=True)
    assert meeting.pk not in _visible_meetings(outsider)
    channel_update(channel=channel, is_private=False)
    assert meeting.pk in _visible_meetings(outsider)


def test_audit_finds_and_fixes_a_raw_privacy_change(company):
    channel = channel_create(company=company, name="general", created_by=UserFactory(company=company))
    meeting = _meeting(company, channel=channel)
    Channel.objects.filter(pk=channel.pk).update(is_private=True)  # no signal
    findings = audit()
    assert [(f.kind, f.count) for f in findings] == [("stale_meeting_is_private", 1)]
    repair()
    assert audit() == []
    assert Meeting.objects.get(pk=meeting.pk).is_private

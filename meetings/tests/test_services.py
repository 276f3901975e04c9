"""meetings/services.py: happy paths, bad input, and tenant consistency (a
reference to another company's person or channel is refused with a
ValidationError naming the field, and nothing is written)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chat.factories import ChannelFactory
from companies.factories import UserFactory
from meetings.factories import MeetingFactory
from meetings.models import Meeting, MeetingParticipant
from meetings.services import (
    meeting_create,
    meeting_delete,
    meeting_update,
    participant_add,
    participant_join,
    participant_leave,
    participant_remove,
    participant_rsvp,
    participant_update,
)
from workspace.db.writes import CONFLICT, NOT_FOUND, UNIQUE, Forbidden, error_codes
from workspace.testing import invalid

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0) + timedelta(days=1)
END = START + timedelta(hours=1)


@pytest.fixture
def organizer(company):
    return UserFactory(company=company, username="olga")


@pytest.fixture
def colleague(company):
    return UserFactory(company=company, username="carl")


@pytest.fixture
def stranger(other_company):
    return UserFactory(company=other_company, username="stranger")


@pytest.fixture
def meeting(organizer, colleague):
    return meeting_create(organizer=organizer, title="Planning", starts_at=START, ends_at=END, participants=[colleague])


def responses(meeting):
    return dict(meeting.participations.values_list("user__username", "response"))


# --- meetings ----------------------------------------------------------------------


def test_meeting_create_invites_participants_and_accepts_for_the_organizer(company, organizer, colleague):
    channel = ChannelFactory(company=company)
    meeting = meeting_create(
        organizer=organizer,
        title="  Planning ",
        starts_at=START,
        ends_at=END,
        channel=channel,
        participants=[colleague, colleague, organizer],
    )
    assert meeting.company == company
    assert meeting.title == "Planning"
    assert meeting.channel == channel
    assert responses(meeting) == {"olga": "accepted", "carl": "pending"}


def test_meeting_create_refuses_a_participant_of_another_company(organizer, colleague, stranger):
    with invalid("participants"):
        meeting_create(
            organizer=organizer, title="Planning", starts_at=START, ends_at=END, participants=[colleague, stranger]
        )
    assert not Meeting.objects.exists()
    assert not MeetingParticipant.objects.exists()


def test_meeting_create_refuses_a_channel_of_another_company(organizer, other_company):
    with invalid("channel"):
        meeting_create(
            organizer=organizer,
            title="Planning",
            starts_at=START,
            ends_at=END,
            channel=ChannelFactory(company=other_company),
        )
    assert not Meeting.objects.exists()


def test_meeting_create_refuses_an_organizer_without_company():
    root = UserFactory(company=None, is_superuser=True)
    with invalid("organizer"):
        meeting_create(organizer=root, title="Planning", starts_at=START, ends_at=END)


@pytest.mark.parametrize("ends_at", [START, START - timedelta(minutes=5)], ids=["equal", "before"])
def test_meeting_create_refuses_to_end_before_it_starts(organizer, ends_at):
    with pytest.raises(ValidationError, match="must end after it starts"):
        meeting_create(organizer=organizer, title="Planning", starts_at=START, ends_at=ends_at)
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("title", ["", "  ", "\n"])
def test_meeting_create_refuses_a_blank_title(organizer, title):
    with invalid("title"):
        meeting_create(organizer=organizer, title=title, starts_at=START, ends_at=END)


def test_meeting_update_changes_allowed_fields_only(meeting, company, other_company):
    channel = ChannelFactory(company=company)
    meeting_update(meeting=meeting, title="Retro", channel=channel, ends_at=END + timedelta(hours=1))
    meeting.refresh_from_db()
    assert (meeting.title, meeting.channel, meeting.ends_at) == ("Retro", channel, END + timedelta(hours=1))
    with invalid("channel"):
        meeting_update(meeting=meeting, channel=ChannelFactory(company=other_company))
    with invalid("organizer"):
        meeting_update(meeting=meeting, organizer=UserFactory(company=company))
    with pytest.raises(ValidationError, match="must end after it starts"):
        meeting_update(meeting=meeting, ends_at=meeting.starts_at)
    meeting.refresh_from_db()
    assert meeting.channel == channel and meeting.ends_at == END + timedelta(hours=1)


def test_meeting_delete_removes_the_participations(meeting):
    meeting_delete(meeting=meeting)
    assert not Meeting.objects.exists()
    assert not MeetingParticipant.objects.exists()


# --- participants --------------------------------------------------------------------


def test_participant_add_invites_once(meeting, company):
    dora = UserFactory(company=company, username="dora")
    participation = participant_add(meeting=meeting, user=dora)
    assert participation.response == MeetingParticipant.Response.PENDING
    with invalid("user"):
        participant_add(meeting=meeting, user=dora)


def test_participant_add_refuses_a_user_of_another_company(meeting, stranger):
    with invalid("user"):
        participant_add(meeting=meeting, user=stranger)
    assert not meeting.participations.filter(user=stranger).exists()


def test_participant_rsvp(meeting, colleague, company):
    participant_rsvp(meeting=meeting, user=colleague, response="tentative")
    assert responses(meeting)["carl"] == "tentative"
    with invalid("response"):
        participant_rsvp(meeting=meeting, user=colleague, response="maybe")
    with pytest.raises(Forbidden, match="Only participants"):  # not invited
        participant_rsvp(meeting=meeting, user=UserFactory(company=company), response="accepted")


def test_participant_join_and_leave(meeting, colleague):
    joined = participant_join(meeting=meeting, user=colleague, at=START)
    assert (joined.joined_at, joined.left_at) == (START, None)
    with invalid("left_at"):
        participant_leave(meeting=meeting, user=colleague, at=START - timedelta(seconds=1))
    left = participant_leave(meeting=meeting, user=colleague, at=START + timedelta(minutes=30))
    assert left.left_at == START + timedelta(minutes=30)
    # Joining again starts a new presence.
    rejoined = participant_join(meeting=meeting, user=colleague, at=START + timedelta(minutes=40))
    assert rejoined.left_at is None


def test_participant_leave_without_joining_is_refused(meeting, colleague):
    with invalid("user"):
        participant_leave(meeting=meeting, user=colleague)


def test_a_stranger_cannot_join(meeting, stranger):
    with pytest.raises(Forbidden, match="Only participants"):
        participant_join(meeting=meeting, user=stranger)


def test_factories_build_tenant_consistent_meetings():
    meeting = MeetingFactory()
    assert meeting.organizer.company_id == meeting.company_id


def test_participant_add_duplicate_is_coded_unique(meeting, colleague):
    with pytest.raises(ValidationError) as info:
        participant_add(meeting=meeting, user=colleague)
    assert error_codes(info.value) == {UNIQUE}


def test_participant_remove_takes_the_person_off(meeting, colleague, organizer):
    participant_remove(meeting=meeting, user=colleague, actor=organizer)
    assert responses(meeting) == {"olga": "accepted"}
    with pytest.raises(ValidationError) as info:  # not (any more) a participant
        participant_remove(meeting=meeting, user=colleague, actor=organizer)
    assert error_codes(info.value) == {NOT_FOUND}


def test_the_organizer_cannot_be_removed(meeting, organizer):
    with pytest.raises(ValidationError) as info:
        participant_remove(meeting=meeting, user=organizer, actor=organizer)
    assert error_codes(info.value) == {CONFLICT}
    assert meeting.participations.filter(user=organizer).exists()


def test_participant_update_validates_the_whole_row(meeting, colleague, organizer):
    participation = meeting.participations.get(user=colleague)
    participant_update(participation=participation, actor=organizer, response="declined", joined_at=START)
    participation.refresh_from_db()
    assert (participation.response, participation.joined_at) == ("declined", START)
    with pytest.raises(ValidationError, match="Leaving must not be before joining"):
        participant_update(participation=participation, actor=organizer, left_at=START - timedelta(minutes=1))
    with invalid("user"):
        participant_update(participation=participation, actor=organizer, user=organizer)
    participation.refresh_from_db()
    assert participation.left_at is None


# --- permissions: the organizer's rules, checked by the services (actor) ---------------


@pytest.fixture
def company_admin(company):
    from companies.models import User

    return UserFactory(company=company, role=User.Role.ADMIN)


def test_only_the_organizer_changes_or_cancels_a_meeting(meeting, colleague, company_admin, stranger):
    for actor in (colleague, company_admin, stranger):
        with pytest.raises(Forbidden, match="Only the organizer may change"):
            meeting_update(meeting=meeting, actor=actor, title="Hijacked")
        with pytest.raises(Forbidden, match="Only the organizer may change"):
            meeting_delete(meeting=meeting, actor=actor)
    meeting.refresh_from_db()
    assert meeting.title == "Planning"
    meeting_update(meeting=meeting, actor=meeting.organizer, title="Retro")
    meeting_delete(meeting=meeting, actor=meeting.organizer)
    assert not Meeting.objects.exists()


def test_only_the_organizer_adds_or_removes_participants(meeting, colleague, company_admin, company):
    dora = UserFactory(company=company, username="dora")
    for actor in (colleague, company_admin):
        with pytest.raises(Forbidden, match="Only the organizer may add or remove"):
            participant_add(meeting=meeting, user=dora, actor=actor)
        with pytest.raises(Forbidden, match="Only the organizer may add or remove"):
            participant_remove(meeting=meeting, user=colleague, actor=actor)
    assert responses(meeting) == {"olga": "accepted", "carl": "pending"}
    participant_add(meeting=meeting, user=dora, actor=meeting.organizer)
    assert responses(meeting)["dora"] == "pending"


def test_a_participation_is_changed_by_the_organizer_or_the_participant(meeting, colleague, company):
    participation = meeting.participations.get(user=colleague)
    with pytest.raises(Forbidden):
        participant_update(participation=participation, actor=UserFactory(company=company), response="accepted")
    participant_update(participation=participation, actor=colleague, response="tentative")
    assert responses(meeting)["carl"] == "tentative"


def test_a_platform_superuser_acts_as_the_platform(meeting):
    from companies.models import User

    root = User.objects.create_superuser("root2", "r@example.com", "pw")
    meeting_update(meeting=meeting, actor=root, title="Moderated")
    meeting.refresh_from_db()
    assert meeting.title == "Moderated"

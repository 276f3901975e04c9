"""Constraints of the meetings tables, enforced by the database itself: each
write goes through the ORM straight to the table (no service, no
full_clean), and the named constraint refuses it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from companies.factories import UserFactory
from meetings.factories import MeetingFactory, MeetingParticipantFactory
from meetings.models import Meeting, MeetingParticipant
from workspace.testing import refused_by

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) + timedelta(days=1)
MISSING = 2_000_000_000


def meeting_fields(organizer, **overrides):
    fields = {
        "company": organizer.company,
        "organizer": organizer,
        "title": "Planning",
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=1),
    }
    return {**fields, **overrides}


# --- Meeting -------------------------------------------------------------------


@pytest.mark.parametrize("length", [timedelta(0), -timedelta(minutes=30)], ids=["equal", "before"])
def test_meeting_must_end_after_it_starts(length):
    organizer = UserFactory()
    with refused_by("meetings_meeting_ends_after_start"):
        Meeting.objects.create(**meeting_fields(organizer, ends_at=T0 + length))


def test_meeting_end_cannot_be_moved_before_its_start():
    meeting = MeetingFactory()
    with refused_by("meetings_meeting_ends_after_start"):
        Meeting.objects.filter(pk=meeting.pk).update(ends_at=meeting.starts_at - timedelta(minutes=1))


@pytest.mark.parametrize("title", ["", "   ", "\n\t", "\u00a0\u3000"])
def test_meeting_title_is_not_blank(title):
    organizer = UserFactory()
    with refused_by("meetings_meeting_title_not_blank"):
        Meeting.objects.create(**meeting_fields(organizer, title=title))


def test_meeting_of_a_missing_organizer_or_in_a_missing_channel_is_refused():
    organizer = UserFactory()
    with refused_by("organizer_id"):
        fields = meeting_fields(organizer)
        del fields["organizer"]
        Meeting.objects.create(**fields, organizer_id=MISSING)
    with refused_by("channel_id"):
        Meeting.objects.create(**meeting_fields(organizer, channel_id=MISSING))


# --- MeetingParticipant ----------------------------------------------------------


def test_a_user_participates_in_a_meeting_once():
    participation = MeetingParticipantFactory()
    with refused_by(
        "meetings_meetingparticipant_unique_user",
        sqlite="meetings_meetingparticipant.meeting_id, meetings_meetingparticipant.user_id",
    ):
        MeetingParticipant.objects.create(meeting=participation.meeting, user=participation.user)


def test_leaving_before_joining_is_refused():
    participation = MeetingParticipantFactory()
    meeting = participation.meeting
    with refused_by("meetings_meetingparticipant_left_after_joined"):
        MeetingParticipant.objects.filter(pk=participation.pk).update(
            joined_at=meeting.starts_at, left_at=meeting.starts_at - timedelta(seconds=1)
        )
    # Leaving at the very moment of joining, or either one alone, is fine.
    for joined_at, left_at in [
        (meeting.starts_at, meeting.starts_at),
        (meeting.starts_at, None),
        (None, meeting.starts_at),
    ]:
        MeetingParticipant.objects.filter(pk=participation.pk).update(joined_at=joined_at, left_at=left_at)


def test_participant_response_is_one_of_the_choices():
    participation = MeetingParticipantFactory()
    with refused_by("meetings_meetingparticipant_response_valid"):
        MeetingParticipant.objects.filter(pk=participation.pk).update(response="maybe")


def test_participation_of_a_missing_user_in_a_missing_meeting_is_refused():
    meeting = MeetingFactory()
    with refused_by("user_id"):
        MeetingParticipant.objects.create(meeting=meeting, user_id=MISSING)
    with refused_by("meeting_id"):
        MeetingParticipant.objects.create(meeting_id=MISSING, company=meeting.company, user=meeting.organizer)

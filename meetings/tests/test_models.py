"""Model validation (``full_clean``: admin forms) refuses cross-tenant
references, naming the field."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chat.factories import ChannelFactory
from companies.factories import UserFactory
from meetings.factories import MeetingFactory
from meetings.models import Meeting, MeetingParticipant
from workspace.testing import invalid

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0) + timedelta(days=1)


def meeting(company, **fields):
    values = {
        "company": company,
        "organizer": UserFactory(company=company),
        "title": "Planning",
        "starts_at": START,
        "ends_at": START + timedelta(hours=1),
    }
    return Meeting(**{**values, **fields})


def test_meeting_organized_by_someone_of_another_company_is_invalid(company, other_company):
    with invalid("organizer"):
        meeting(company, organizer=UserFactory(company=other_company)).full_clean()
    meeting(company).full_clean()


def test_meeting_in_a_channel_of_another_company_is_invalid(company, other_company):
    with invalid("channel"):
        meeting(company, channel=ChannelFactory(company=other_company)).full_clean()
    meeting(company, channel=ChannelFactory(company=company)).full_clean()


def test_meeting_ending_before_it_starts_is_invalid(company):
    with pytest.raises(ValidationError, match="must end after it starts"):
        meeting(company, ends_at=START).full_clean()


def test_participant_of_another_company_is_invalid(other_company):
    existing = MeetingFactory()
    with invalid("user"):
        MeetingParticipant(meeting=existing, user=UserFactory(company=other_company)).full_clean()
    MeetingParticipant(meeting=existing, user=UserFactory(company=existing.company)).full_clean()


def test_leaving_before_joining_is_invalid():
    existing = MeetingFactory()
    with pytest.raises(ValidationError, match="Leaving must not be before joining"):
        MeetingParticipant(
            meeting=existing,
            user=existing.organizer,
            joined_at=existing.starts_at,
            left_at=existing.starts_at - timedelta(minutes=1),
        ).full_clean()

from datetime import timedelta

import factory
from django.utils import timezone

from companies.factories import CompanyFactory, UserFactory
from meetings.models import Meeting, MeetingParticipant


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    company = factory.SubFactory(CompanyFactory)
    organizer = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..company"))
    channel = None
    title = factory.Faker("catch_phrase")
    description = factory.Faker("paragraph")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))


class MeetingParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeetingParticipant

    meeting = factory.SubFactory(MeetingFactory)
    user = factory.SubFactory(UserFactory, company=factory.SelfAttribute("..meeting.company"))
    response = MeetingParticipant.Response.PENDING

"""User.last_active on every activity path (docs/lifecycle.md)."""

from datetime import timedelta

import pytest
from django.contrib.auth.signals import user_logged_in
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import services as chat_services
from chat.factories import ChannelFactory, MessageFactory
from companies import services as company_services
from companies.factories import UserFactory
from companies.models import User
from meetings import services as meeting_services
from meetings.factories import MeetingFactory, MeetingParticipantFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def last_active(user) -> object:
    return User.objects.values_list("last_active", flat=True).get(pk=user.pk)


def last_active_writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "companies_user" SET "last_active"')]


@pytest.fixture
def user():
    return UserFactory()


class TestChat:
    def test_new_user_has_none(self, user):
        assert last_active(user) is None

    def test_posting_sets_it_to_the_message_time(self, user):
        channel = ChannelFactory(company=user.company)
        chat_services.message_create(channel=channel, author=user, body="hi", created_at=at(5))
        assert last_active(user) == at(5)

    def test_posting_never_moves_it_backwards(self, user):
        channel = ChannelFactory(company=user.company)
        chat_services.message_create(channel=channel, author=user, body="new", created_at=at(9))
        chat_services.message_create(channel=channel, author=user, body="old", created_at=at(2))
        assert last_active(user) == at(9)

    def test_editing_sets_it_to_the_edit_time(self, user):
        message = MessageFactory(channel=ChannelFactory(company=user.company), author=user, created_at=at(1))
        before = timezone.now()
        edited = chat_services.message_update(message=message, body="changed")
        assert before <= edited.edited_at == last_active(user)

    def test_reacting_sets_it_for_the_reacting_user_only(self, user):
        message = MessageFactory(channel=ChannelFactory(company=user.company), created_at=at(1))
        reaction = chat_services.reaction_add(message=message, user=user, emoji="👍")
        assert last_active(user) == reaction.created_at
        assert last_active(message.author) == at(1)

    def test_bulk_import_touches_each_author_with_their_newest(self, user):
        from chat.models import Message

        channel = ChannelFactory(company=user.company)
        chat_services.message_bulk_create(
            messages=[Message(channel=channel, author=user, body=str(m), created_at=at(m)) for m in (3, 7, 5)]
        )
        assert last_active(user) == at(7)


class TestLoginAndRequests:
    def test_login_sets_it_to_now(self, user, client):
        before = timezone.now()
        client.force_login(user)
        assert before <= last_active(user) <= timezone.now()

    def test_login_signal_never_moves_it_backwards(self, user):
        future = timezone.now() + timedelta(hours=1)
        User.objects.filter(pk=user.pk).update(last_active=future)
        user_logged_in.send(sender=User, request=RequestFactory().get("/"), user=user)
        assert last_active(user) == future

    def test_requests_write_once_per_resolution(self, settings, client):
        settings.LAST_ACTIVE_RESOLUTION = 60
        staff = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(staff)
        stale = timezone.now() - timedelta(hours=2)
        User.objects.filter(pk=staff.pk).update(last_active=stale)
        with CaptureQueriesContext(connection) as ctx:
            for _ in range(100):
                assert client.get("/admin/").status_code == 200
        assert len(last_active_writes(ctx.captured_queries)) == 1
        assert last_active(staff) > stale

    def test_request_after_the_resolution_writes_again(self, settings, client):
        settings.LAST_ACTIVE_RESOLUTION = 60
        staff = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(staff)
        User.objects.filter(pk=staff.pk).update(last_active=timezone.now() - timedelta(seconds=61))
        with CaptureQueriesContext(connection) as ctx:
            client.get("/admin/")
        assert len(last_active_writes(ctx.captured_queries)) == 1

    def test_anonymous_requests_write_nothing(self, client):
        with CaptureQueriesContext(connection) as ctx:
            client.get("/admin/login/")
        assert last_active_writes(ctx.captured_queries) == []

    def test_throttle_is_a_conditional_update_across_processes(self, user):
        """A stale in-memory user (another process) cannot write inside the window."""
        now = timezone.now()
        fresh = now - timedelta(seconds=10)
        User.objects.filter(pk=user.pk).update(last_active=fresh)
        user.last_active = now - timedelta(hours=1)  # what another process still holds
        written = company_services.user_touch_throttled(user=user, now=now, resolution=timedelta(seconds=60))
        assert written is False
        assert last_active(user) == fresh


class TestMeetingsAndAttendance:
    def test_rsvp_join_and_leave(self, user):
        meeting = MeetingFactory(company=user.company)
        MeetingParticipantFactory(meeting=meeting, user=user)
        assert last_active(user) is None  # being invited is not the user's activity

        before = timezone.now()
        meeting_services.participant_rsvp(meeting=meeting, user=user, response="accepted")
        rsvp_time = last_active(user)
        assert before <= rsvp_time <= timezone.now()

        joined = meeting_services.participant_join(meeting=meeting, user=user, at=rsvp_time + timedelta(minutes=1))
        assert last_active(user) == joined.joined_at

        left = meeting_services.participant_leave(
            meeting=meeting, user=user, at=joined.joined_at + timedelta(minutes=30)
        )
        assert last_active(user) == left.left_at

    def test_meeting_creation_does_not_touch_invitees(self, user):
        invitee = UserFactory(company=user.company)
        meeting_services.meeting_create(
            organizer=user, title="Sync", starts_at=at(60), ends_at=at(90), participants=[invitee]
        )
        assert last_active(invitee) is None

    def test_check_in_and_out(self, user):
        attendance = company_services.attendance_check_in(user=user, at=at(0))
        assert last_active(user) == at(0)
        company_services.attendance_check_out(user=user, at=at(480))
        attendance.refresh_from_db()
        assert attendance.check_out == last_active(user) == at(480)

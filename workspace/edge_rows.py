"""Rows at the edges of what the database accepts, for the API's schema
conformance test (workspace/tests/test_api_schema.py) and the CI fuzzing data
(.ci/api_fuzz.sh, after seed_demo).

seed_demo fills every optional field; real data does not. These rows hold the
values the schema must also describe: empty optional texts (``email``,
``first_name``, ``last_name``, a channel ``topic``, a meeting
``description``), nulls (``last_active``, ``created_by``,
``last_message_at``, ``check_out``, ``joined_at``, ``last_read_at``, a
meeting's ``channel``), a stored e-mail that is not an address (only possible
outside the forms), an inactive person, people with no messages, and a
platform superuser (company null).

Idempotent: running it twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from chat.models import Channel
from chat.services import channel_create, membership_add
from companies.models import Attendance, Company, User
from companies.services import attendance_check_in, user_create
from meetings.models import Meeting
from meetings.services import meeting_create


@dataclass
class EdgeRows:
    blank: User  # every optional text empty, last_active null, no message
    odd_email: User  # a stored e-mail that is not an address
    inactive: User
    channel: Channel  # empty topic, no creator, no message
    meeting: Meeting  # empty description, no channel, pending participant
    attendance: Attendance  # open: check_out null


@transaction.atomic
def add_platform_superuser(*, username: str = "edge.platform", password: str | None = None) -> User:
    """A platform superuser: no company, no e-mail, no name."""
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    return user_create(company=None, username=username, password=password, is_staff=True, is_superuser=True)


@transaction.atomic
def add_edge_rows(company: Company, *, password: str | None = None) -> EdgeRows:
    """Add the edge rows to ``company`` (people are members, not admins)."""
    tag = company.slug[:40]

    def person(name: str, **fields) -> User:
        username = f"edge.{name}.{tag}"
        user = User.objects.filter(username=username).first()
        return user or user_create(company=company, username=username, password=password, **fields)

    blank = person("blank")
    odd_email = person("odd-email", first_name="Odd", last_name="Email")
    # The forms validate addresses; a write outside them does not.
    User.objects.filter(pk=odd_email.pk).update(email="not-an-address")
    inactive = person("inactive", email=f"edge.inactive.{tag}@example.com")
    User.objects.filter(pk=inactive.pk).update(is_active=False)

    channel = Channel.objects.filter(company=company, name="edge-empty").first()
    if channel is None:
        channel = channel_create(company=company, name="edge-empty", topic="", created_by=None)
        membership_add(channel=channel, user=blank)

    meeting = Meeting.objects.filter(company=company, title="Edge: no description").first()
    if meeting is None:
        starts_at = timezone.now().replace(microsecond=0) + timedelta(days=2)
        meeting = meeting_create(
            organizer=odd_email,
            title="Edge: no description",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            participants=[blank],
        )

    attendance = Attendance.objects.filter(user=odd_email, check_out__isnull=True).first()
    if attendance is None:
        attendance = attendance_check_in(user=odd_email)

    # Whatever the writes above counted as activity: this person never acted.
    User.objects.filter(pk=blank.pk).update(last_active=None)
    for user in (blank, odd_email, inactive):
        user.refresh_from_db()
    return EdgeRows(blank, odd_email, inactive, channel, meeting, attendance)

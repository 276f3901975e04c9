"""A populated tenant and row-for-row snapshots, shared by the cascade drill
(``workspace.integrity.drill``, production code) and the tests (through
``workspace.testing``).

- :func:`build_populated_tenant` builds one company with every kind of row the
  project has (people, an auth token, an admin log entry, group and permission
  links, public and private channels, memberships, messages with thread
  replies and reactions, meetings with participants, closed and open
  attendances), all within the tenant, so a test or the drill can delete or
  purge it and check that exactly the expected rows went away. Plain ORM, no
  test factories.
- :func:`snapshot_rows` / :func:`snapshot_tenant_rows` take a row-for-row
  picture of the whole database or of one tenant, for before/after
  comparisons with :func:`diff_snapshots`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt, AccessAttemptExpiration
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from knox.models import AuthToken

from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.models import Attendance, Company, User
from meetings.models import Meeting, MeetingParticipant
from workspace.db.lineage import tenant_lookup

_numbers = itertools.count(1)


def _free_slug() -> str:
    """``tenant-<n>``, the first one no company has (several per test)."""
    while True:
        slug = f"tenant-{next(_numbers)}"
        if not Company.objects.filter(slug=slug).exists():
            return slug


#: Derived fields maintained by receivers (docs/lifecycle.md). Delete-policy
#: checks ignore them (they may be recomputed by the cascade); the tenant
#: isolation checks do not.
LIFECYCLE_FIELDS: dict[str, set[str]] = {
    "companies.User": {"last_active"},
    "chat.Channel": {"last_message_at"},
}

Snapshot = dict[str, dict[Any, dict[str, Any]]]


@dataclass
class PopulatedTenant:
    company: Any
    admin: Any
    members: list = field(default_factory=list)
    channels: list = field(default_factory=list)
    memberships: list = field(default_factory=list)
    messages: list = field(default_factory=list)  # top-level messages
    replies: list = field(default_factory=list)
    reactions: list = field(default_factory=list)
    meetings: list = field(default_factory=list)
    participations: list = field(default_factory=list)
    attendances: list = field(default_factory=list)
    token: Any = None
    log_entry: Any = None

    @property
    def users(self) -> list:
        return [self.admin, *self.members]


def build_populated_tenant(
    *, slug: str | None = None, base_time: datetime | None = None, password: str | None = "password"
) -> PopulatedTenant:
    """One company with a few rows of every model, consistent within the
    tenant (every reference stays inside it), like a small real customer.

    Shape: 1 admin + 3 members; ``#general`` (public, every member) and a
    private channel (2 members) created by different people; in each channel
    three top-level messages by different authors, thread replies by others,
    reactions on messages and on replies; a meeting announced in ``#general``
    with every member and one outside any channel with two participants who
    joined/left; closed attendances on past days for everybody and one open
    attendance; an API token, an admin log entry, a group and a direct
    permission for the admin.

    Written with the ORM (``objects.create``, the receivers run as on any
    save), never the test factories: the cascade drill builds it in
    production. ``password`` is everybody's (``None``: unusable, no hashing).
    """

    base = base_time or timezone.now() - timedelta(days=30)
    slug = slug or _free_slug()
    company = Company.objects.create(slug=slug, name=slug.replace("-", " ").title())

    def person(name: str, **extra) -> User:
        user = User(
            company=company,
            username=f"{name}.{slug}",
            email=f"{name}.{slug}@example.com",
            first_name=name.title(),
            last_name=company.name,
            **extra,
        )
        user.set_password(password)  # None: unusable
        user.save()
        return user

    admin = person("admin", role=User.Role.ADMIN, is_staff=True)
    members = [person(f"member{i}") for i in range(1, 4)]
    tenant = PopulatedTenant(company=company, admin=admin, members=members)
    people = tenant.users

    general = Channel.objects.create(company=company, name="general", topic="Everybody", created_by=admin)
    private = Channel.objects.create(
        company=company, name="private", topic="A few", is_private=True, created_by=members[0]
    )
    tenant.channels = [general, private]
    channel_people = {general.pk: people, private.pk: [members[0], members[1]]}
    for channel in tenant.channels:
        for user in channel_people[channel.pk]:
            tenant.memberships.append(ChannelMembership.objects.create(channel=channel, user=user))

    minute = 0
    for channel in tenant.channels:
        authors = channel_people[channel.pk]
        for i in range(3):
            minute += 1
            author = authors[i % len(authors)]
            message = Message.objects.create(
                channel=channel,
                author=author,
                body=f"Message {i + 1} in #{channel.name}",
                created_at=base + timedelta(minutes=minute),
            )
            tenant.messages.append(message)
            if i < 2:  # two threads per channel, each answered by someone else
                minute += 1
                replier = authors[(i + 1) % len(authors)]
                reply = Message.objects.create(
                    channel=channel,
                    author=replier,
                    parent=message,
                    body=f"Reply to message {i + 1}",
                    created_at=base + timedelta(minutes=minute),
                )
                tenant.replies.append(reply)
                tenant.reactions.append(MessageReaction.objects.create(message=reply, user=author, emoji="👍"))
            for reactor, emoji in zip(authors, ["🎉", "👀"]):
                tenant.reactions.append(MessageReaction.objects.create(message=message, user=reactor, emoji=emoji))
    # ``last_message_at`` is what the receivers wrote, read back, never fixed
    # up here: a test on this tenant must notice a broken receiver.
    for channel in tenant.channels:
        channel.refresh_from_db(fields=["last_message_at"])

    standup = Meeting.objects.create(
        company=company,
        organizer=admin,
        channel=general,
        title="Stand-up",
        description="Daily stand-up.",
        starts_at=base + timedelta(days=1),
        ends_at=base + timedelta(days=1, minutes=15),
    )
    review = Meeting.objects.create(
        company=company,
        organizer=members[1],
        channel=None,
        title="Review",
        description="Sprint review.",
        starts_at=base + timedelta(days=2),
        ends_at=base + timedelta(days=2, hours=1),
    )
    tenant.meetings = [standup, review]
    for user in people:
        tenant.participations.append(
            MeetingParticipant.objects.create(
                meeting=standup,
                user=user,
                response=(
                    MeetingParticipant.Response.ACCEPTED if user == admin else MeetingParticipant.Response.PENDING
                ),
            )
        )
    for user in (members[1], members[2]):
        tenant.participations.append(
            MeetingParticipant.objects.create(
                meeting=review,
                user=user,
                response=MeetingParticipant.Response.ACCEPTED,
                joined_at=review.starts_at,
                left_at=review.ends_at,
            )
        )

    for day, user in enumerate(people):
        check_in = base + timedelta(days=day, hours=9)
        tenant.attendances.append(
            Attendance.objects.create(
                user=user, company=company, check_in=check_in, check_out=check_in + timedelta(hours=8)
            )
        )
    tenant.attendances.append(
        Attendance.objects.create(user=members[0], company=company, check_in=timezone.now(), check_out=None)
    )

    tenant.token, _ = AuthToken.objects.create(user=admin)
    tenant.log_entry = LogEntry.objects.create(
        user=admin,
        content_type=ContentType.objects.get_for_model(Channel),
        object_id=str(general.pk),
        object_repr=str(general),
        action_flag=ADDITION,
        change_message="[]",
    )
    content_type = ContentType.objects.get_for_model(Channel)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="view_channel", defaults={"name": "Can view channel"}
    )
    group, _ = Group.objects.get_or_create(name="workspace-testing-group")
    group.permissions.add(permission)
    admin.groups.add(group)
    admin.user_permissions.add(permission)
    # django-axes' database tables (unused: the login throttle counts in the
    # cache) have one FK; a row so that it is exercised too.
    attempt = AccessAttempt.objects.create(
        username=admin.username,
        ip_address="192.0.2.1",
        user_agent="workspace-testing",
        http_accept="*/*",
        path_info="/admin/login/",
        get_data="",
        post_data="",
        failures_since_start=1,
    )
    AccessAttemptExpiration.objects.create(access_attempt=attempt, expires_at=timezone.now())
    return tenant


# --- snapshots -------------------------------------------------------------


def snapshot_models() -> list[type[models.Model]]:
    """Every model that owns a table (auto-created M2M tables included)."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if not (model._meta.proxy or model._meta.swapped or not model._meta.managed)
    ]


def _rows(model, queryset, exclude_fields: set[str]) -> dict[Any, dict[str, Any]]:
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude_fields]
    pk = model._meta.pk.attname
    return {row[pk]: row for row in queryset.values(*names)}


def snapshot_rows(*, company=None, ignore_lifecycle: bool = False) -> Snapshot:
    """``{"app.Model": {pk: {column: value}}}`` for every table.

    With ``company``: only that tenant's rows (models with no path to a
    company are left out). ``ignore_lifecycle`` drops the derived fields of
    :data:`LIFECYCLE_FIELDS` from the picture.
    """
    snapshot: Snapshot = {}
    for model in snapshot_models():
        label = model._meta.label
        exclude = LIFECYCLE_FIELDS.get(label, set()) if ignore_lifecycle else set()
        queryset = model._base_manager.all()
        if company is not None:
            lookup = tenant_lookup(model)
            if lookup is None:
                continue
            queryset = queryset.filter(**{lookup: company.pk})
        snapshot[label] = _rows(model, queryset, exclude)
    return snapshot


def snapshot_tenant_rows(company, *, ignore_lifecycle: bool = False) -> Snapshot:
    """Every row owned by ``company``, row for row (see :func:`snapshot_rows`)."""
    return snapshot_rows(company=company, ignore_lifecycle=ignore_lifecycle)


def count_rows(snapshot: Snapshot) -> dict[str, int]:
    return {label: len(rows) for label, rows in snapshot.items()}


def diff_snapshots(before: Snapshot, after: Snapshot) -> list[str]:
    """Readable differences (missing, added, changed rows); empty when equal."""
    lines = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, {}), after.get(label, {})
        for pk in sorted(set(old) - set(new), key=str):
            lines.append(f"{label} pk={pk}: row disappeared")
        for pk in sorted(set(new) - set(old), key=str):
            lines.append(f"{label} pk={pk}: row appeared")
        for pk in sorted(set(old) & set(new), key=str):
            if old[pk] != new[pk]:
                changed = {k: (old[pk].get(k), new[pk].get(k)) for k in old[pk] if old[pk].get(k) != new[pk].get(k)}
                lines.append(f"{label} pk={pk}: changed {changed}")
    return lines

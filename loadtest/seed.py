"""Seed the load-test tenants through the services (the same write paths as
the API), and return what the virtual users and the checks need to know."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from knox.models import AuthToken

from chat.services import channel_create, message_create, reaction_add
from companies.models import User
from companies.services import attendance_check_in, attendance_check_out, company_create, user_create
from meetings.services import meeting_create

EMOJIS = ["👍", "🎉", "❤️", "😂", "👀"]
ADMIN_PASSWORD = "load-test-admin-password-1"


@dataclass
class SeededUser:
    id: int
    username: str
    role: str  # "admin" (deletes messages), "leaver", "chatter"
    token: str | None  # the admin logs in through the API instead
    channels: list[int] = field(default_factory=list)


@dataclass
class Tenant:
    index: int
    company_id: int
    slug: str
    users: list[SeededUser]
    channels: dict[int, dict]  # id -> {"name", "private", "members": [user ids]}
    messages: dict[int, int]  # id -> channel id
    parents: dict[int, int]  # reply id -> parent id
    reactions: set[tuple[int, int, str]]  # (message, user, emoji)
    meetings: list[int]
    rsvps: dict[tuple[int, int], str]  # (meeting, user) -> response
    attendances: dict[int, int]  # user id -> rows


def seed_tenant(index: int, *, users: int, messages_per_channel: int) -> Tenant:
    company = company_create(name=f"Load tenant {index}", slug=f"load-{index}")
    people: list[tuple[User, str]] = []
    admin = user_create(
        company=company,
        username=f"load{index}-admin",
        password=ADMIN_PASSWORD,
        role=User.Role.ADMIN,
    )
    people.append((admin, "admin"))
    for n in range(1, users):
        role = "leaver" if n == 1 else "chatter"
        people.append((user_create(company=company, username=f"load{index}-u{n}"), role))
    everyone = [user for user, _ in people]

    channels: dict[int, dict] = {}
    objects = {}
    for name in ("general", "random", "dev", "ops"):
        channel = channel_create(company=company, name=name, created_by=admin, members=everyone)
        channels[channel.pk] = {"name": name, "private": False, "members": [u.pk for u in everyone]}
        objects[channel.pk] = channel
    insiders = everyone[: max(2, len(everyone) // 2)]
    private = channel_create(company=company, name="private", created_by=admin, is_private=True, members=insiders)
    channels[private.pk] = {"name": "private", "private": True, "members": [u.pk for u in insiders]}
    objects[private.pk] = private

    message_ids: dict[int, int] = {}
    parents: dict[int, int] = {}
    reactions: set[tuple[int, int, str]] = set()
    for channel_id, info in channels.items():
        members = [u for u in everyone if u.pk in info["members"]]
        channel = objects[channel_id]
        roots = []
        for n in range(messages_per_channel):
            author = members[n % len(members)]
            parent = roots[n % len(roots)] if roots and n % 5 == 4 else None
            message = message_create(
                channel=channel, author=author, body=f"seed {index}/{info['name']}/{n}", parent=parent
            )
            message_ids[message.pk] = channel_id
            if parent is None:
                roots.append(message)
            else:
                parents[message.pk] = parent.pk
            if n % 3 == 0:
                reactor = members[(n + 1) % len(members)]
                emoji = EMOJIS[n % len(EMOJIS)]
                reaction_add(message=message, user=reactor, emoji=emoji)
                reactions.add((message.pk, reactor.pk, emoji))

    meetings, rsvps = [], {}
    tomorrow = timezone.now() + timedelta(days=1)
    for n in range(3):
        meeting = meeting_create(
            organizer=admin,
            title=f"Load meeting {index}/{n}",
            starts_at=tomorrow + timedelta(hours=n),
            ends_at=tomorrow + timedelta(hours=n, minutes=30),
            participants=everyone,
        )
        meetings.append(meeting.pk)
        for user in everyone:
            rsvps[(meeting.pk, user.pk)] = "accepted" if user.pk == admin.pk else "pending"

    yesterday = timezone.now() - timedelta(days=1)
    for user in everyone:
        attendance_check_in(user=user, at=yesterday)
        attendance_check_out(user=user, at=yesterday + timedelta(hours=8))

    seeded_users = []
    for user, role in people:
        token = None if role == "admin" else AuthToken.objects.create(user=user)[1]
        member_of = [cid for cid, info in channels.items() if user.pk in info["members"]]
        seeded_users.append(SeededUser(user.pk, user.username, role, token, member_of))
    return Tenant(
        index=index,
        company_id=company.pk,
        slug=company.slug,
        users=seeded_users,
        channels=channels,
        messages=message_ids,
        parents=parents,
        reactions=reactions,
        meetings=meetings,
        rsvps=rsvps,
        attendances={user.pk: 1 for user in everyone},
    )


def seed(*, tenants: int, users: int, messages_per_channel: int) -> list[Tenant]:
    return [seed_tenant(index, users=users, messages_per_channel=messages_per_channel) for index in range(tenants)]

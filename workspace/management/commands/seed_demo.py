"""``manage.py seed_demo``: demo companies to explore in the admin and the API.

Attribute values (people's names, message bodies) come from Faker, seeded
per company (the test factories are never imported: this is production
code, docs/architecture.md); every row is written by the services, so the
lifecycle fields and tenant rules hold exactly as in production. Idempotent:
rows are found by their natural keys (company slug, username, channel name,
meeting title) and the message count is topped up to the target, so running
it twice changes nothing and a larger ``--messages`` adds only the
difference. See docs/integrity.md.
"""

from __future__ import annotations

import random
import re
import unicodedata
import zlib
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker
from knox.models import AuthToken
from tqdm import tqdm

from chat.models import Channel, Message
from chat.services import channel_create, message_bulk_create, reaction_add
from companies.models import Attendance, Company, User
from companies.services import attendance_check_in, attendance_check_out, company_create, user_create
from meetings.models import Meeting, MeetingParticipant
from meetings.services import meeting_create, participant_join, participant_leave, participant_rsvp

DEMO_COMPANIES = [
    ("Acme Robotics", "acme"),
    ("Globex Logistics", "globex"),
    ("Initech Software", "initech"),
    ("Umbrella Health", "umbrella"),
    ("Stark Studios", "stark"),
    ("Wayne Foundation", "wayne"),
]
CHANNELS = [
    # (name, is_private, topic)
    ("general", False, "Company-wide announcements and chatter"),
    ("random", False, "Anything goes"),
    ("engineering", False, "Builds, deploys and code reviews"),
    ("design", False, "Mock-ups and feedback"),
    ("sales", False, "Leads, deals and customer news"),
    ("support", False, "Customer tickets that need a hand"),
    ("leadership", True, "Private: planning and hiring"),
]
MEETINGS = ["Weekly sync", "Sprint planning", "Design review", "All hands", "Customer call"]
EMOJIS = ["👍", "🎉", "❤️", "😂", "👀", "🚀"]
DEMO_PASSWORD = "password"
#: Group of the demo company admins (is_staff): every permission on the
#: project's own models, so they can browse the admin — which shows them
#: their own company only (docs/architecture.md, "Admin tenant scoping").
STAFF_GROUP = "Company staff (demo)"
STAFF_APPS = ("companies", "chat", "meetings")
BATCH = 500


def _ascii_slug(value: str) -> str:
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", value.lower()) or "user"


class Command(BaseCommand):
    help = "Fill demo companies (people, channels, messages, meetings, attendance); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=int, default=2, help="number of companies (default 2)")
        parser.add_argument("--users", type=int, default=8, help="people per company (default 8)")
        parser.add_argument(
            "--messages", type=int, default=300, help="messages per company, replies included (default 300)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--force",
            action="store_true",
            help=f"run with DEBUG off too (every demo person gets the password {DEMO_PASSWORD!r})",
        )
        parser.add_argument(
            "--admin-password",
            default=None,
            help="password of the platform superuser 'admin' (default 'admin', only with DEBUG on)",
        )

    def handle(self, *args, companies, users, messages, seed, no_progress, admin_password, force, **options):
        if not settings.DEBUG and not force:
            # Every demo person logs in with the same known password: never
            # on a production database by accident.
            raise CommandError(
                f"Refusing to seed demo data with DEBUG off (DJANGO_DEBUG=0): every demo person "
                f"gets the password {DEMO_PASSWORD!r}. Pass --force for a disposable database "
                "(CI, load tests)."
            )
        if companies < 1 or users < 2 or messages < 0:
            raise CommandError("Need --companies >= 1, --users >= 2 and --messages >= 0.")
        if admin_password is None:
            if not settings.DEBUG:
                raise CommandError("Refusing to create admin/admin with DEBUG off: pass --admin-password.")
            admin_password = "admin"

        total = companies * messages
        progress = tqdm(
            total=total,
            desc="seed_demo",
            unit="msg",
            disable=True if no_progress else None,  # None: only on a terminal
            file=self.stderr._out,
        )
        summary = []
        try:
            for index in range(companies):
                name, slug = (
                    DEMO_COMPANIES[index]
                    if index < len(DEMO_COMPANIES)
                    else (f"Demo Company {index + 1}", f"demo-{index + 1}")
                )
                summary.append(self._seed_company(name, slug, users, messages, seed, progress))
        finally:
            progress.close()

        admin = self._superuser(admin_password)
        token = self._token(summary[0]["admin"])
        self._print_summary(summary, admin, admin_password, token)

    # --- one company --------------------------------------------------------

    @transaction.atomic
    def _seed_company(self, name, slug, n_users, n_messages, seed, progress):
        fake = Faker("en_US")
        fake.seed_instance(f"{seed}:{slug}")
        rng = random.Random(zlib.crc32(f"{seed}:{slug}".encode()))

        company = Company.objects.filter(slug=slug).first() or company_create(name=name, slug=slug)
        people = self._people(company, n_users, fake)
        channels = self._channels(company, people, rng)
        self._messages(company, channels, people, n_messages, rng, fake, progress)
        self._meetings(company, channels, people, rng)
        self._attendance(people)
        people[0].groups.add(self._staff_group())
        return {"company": company, "admin": people[0], "people": people, "channels": channels}

    def _staff_group(self):
        group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
        group.permissions.set(Permission.objects.filter(content_type__app_label__in=STAFF_APPS))
        return group

    def _people(self, company, n_users, fake):
        people, taken, created = [], set(), []
        for j in range(n_users):
            first_name, last_name = fake.first_name(), fake.last_name()
            base = f"{_ascii_slug(first_name)}.{_ascii_slug(last_name)}.{company.slug}"
            username = base if base not in taken else f"{base}{j}"
            taken.add(username)
            user = User.objects.filter(username=username).first()
            if user is None:
                user = user_create(
                    company=company,
                    username=username,
                    password=None,  # set below, hashed once for everybody
                    email=f"{username}@example.com",
                    first_name=first_name,
                    last_name=last_name,
                    role=User.Role.ADMIN if j == 0 else User.Role.MEMBER,
                    # The company admin may browse the admin site too.
                    is_staff=j == 0,
                )
                created.append(user.pk)
            people.append(user)
        if created:
            # PBKDF2 costs ~0.5 s a hash: one hash shared by the demo people.
            User.objects.filter(pk__in=created).update(password=make_password(DEMO_PASSWORD))
        return people

    def _channels(self, company, people, rng):
        channels = []
        for name, is_private, topic in CHANNELS:
            channel = Channel.objects.filter(company=company, name=name).first()
            if channel is None:
                if is_private or name not in ("general", "random"):
                    members = rng.sample(people, k=max(2, len(people) // 2))
                else:
                    members = people
                channel = channel_create(
                    company=company,
                    name=name,
                    topic=topic,
                    is_private=is_private,
                    created_by=members[0],
                    members=members,
                )
            channels.append(channel)
        return channels

    def _messages(self, company, channels, people, target, rng, fake, progress):
        existing = Message.objects.filter(channel__company=company).count()
        progress.update(min(existing, target))
        if existing >= target:
            return
        members = {c.pk: list(c.members.all()) for c in channels}
        # Spread over the last 30 days, oldest first; a top-up continues after
        # the newest existing message so time keeps moving forward.
        newest = Message.objects.filter(channel__company=company).order_by("-created_at").first()
        now = timezone.now()
        start = max(now - timedelta(days=30), newest.created_at if newest else now - timedelta(days=30))
        step = (now - start) / (target - existing + 1)
        recent: dict[int, list[Message]] = {c.pk: [] for c in channels}
        if newest is not None:
            for message in Message.objects.filter(channel__company=company, parent__isnull=True).order_by(
                "-created_at"
            )[:50]:
                recent.setdefault(message.channel_id, []).append(message)

        k = 0
        while existing + k < target:
            # Replies need their parent's id: a few batches even for small
            # targets, so threads appear.
            size = min(BATCH, target - existing - k, max(10, (target - existing) // 4))
            batch = []
            for i in range(size):
                channel = rng.choice(channels)
                author = rng.choice(members[channel.pk])
                parents = recent.get(channel.pk) or []
                parent = rng.choice(parents[-10:]) if parents and rng.random() < 0.25 else None
                batch.append(
                    Message(
                        channel=channel,
                        author=author,
                        parent=parent,
                        body=fake.sentence(),
                        created_at=start + step * (k + i + 1),
                    )
                )
            created = message_bulk_create(messages=batch)
            for message in created:
                if message.parent_id is None:
                    recent.setdefault(message.channel_id, []).append(message)
                if rng.random() < 0.15:
                    reactor = rng.choice(members[message.channel_id])
                    emoji = rng.choice(EMOJIS)
                    if not message.reactions.filter(user=reactor, emoji=emoji).exists():
                        reaction_add(message=message, user=reactor, emoji=emoji)
            k += size
            progress.update(size)

    def _meetings(self, company, channels, people, rng):
        today = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
        for offset, title in enumerate(MEETINGS):
            if Meeting.objects.filter(company=company, title=title).exists():
                continue
            starts_at = today + timedelta(days=offset * 2 - 4)  # some past, some upcoming
            organizer = people[offset % len(people)]
            invited = rng.sample(people, k=min(len(people), 4))
            meeting = meeting_create(
                organizer=organizer,
                title=title,
                description=f"{title} of {company.name}.",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=45),
                channel=channels[0] if offset % 2 == 0 else None,
                participants=invited,
            )
            for user in invited:
                if user.pk == organizer.pk:
                    continue
                response = rng.choice(
                    [
                        MeetingParticipant.Response.ACCEPTED,
                        MeetingParticipant.Response.DECLINED,
                        MeetingParticipant.Response.TENTATIVE,
                    ]
                )
                participant_rsvp(meeting=meeting, user=user, response=response)
            if starts_at < timezone.now():
                participant_join(meeting=meeting, user=organizer, at=starts_at)
                participant_leave(meeting=meeting, user=organizer, at=starts_at + timedelta(minutes=45))

    def _attendance(self, people):
        today = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
        for user in people:
            if Attendance.objects.filter(user=user).exists():
                continue
            for days_ago in range(5, 0, -1):
                check_in: datetime = today - timedelta(days=days_ago)
                attendance_check_in(user=user, at=check_in)
                attendance_check_out(user=user, at=check_in + timedelta(hours=8))

    # --- login ----------------------------------------------------------------

    def _superuser(self, password):
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            admin = user_create(company=None, username="admin", password=password, is_staff=True, is_superuser=True)
        return admin

    def _token(self, user):
        """A new API token of ``user`` for the summary. Tokens are stored
        hashed, so an earlier one cannot be shown again: each run makes one
        (the data stays as it was); the user's expired ones are dropped."""
        AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        row, key = AuthToken.objects.create(user=user)
        return SimpleNamespace(user=user, key=key, expiry=row.expiry)

    def _print_summary(self, summary, admin, password, token):
        out = self.stdout
        out.write(self.style.SUCCESS("Demo data ready."))
        for entry in summary:
            company = entry["company"]
            out.write(
                f"  {company.name} ({company.slug}): {len(entry['people'])} people, "
                f"{len(entry['channels'])} channels, "
                f"{Message.objects.filter(channel__company=company).count()} messages"
            )
        out.write("")
        out.write("Admin (platform superuser, development only):")
        shown = password if admin.check_password(password) else "(unchanged: the account existed)"
        out.write(f"  http://127.0.0.1:8000/admin/  login: {admin.username} / password: {shown}")
        out.write(f"Demo people log in with password '{DEMO_PASSWORD}'.")
        out.write(f"API token of {token.user.username} ({token.user.company.name} admin):")
        out.write(f"  {token.key}")
        out.write(f"  curl -H 'Authorization: Token {token.key}' http://127.0.0.1:8000/api/me/")
        out.write(f"  (valid until {token.expiry:%Y-%m-%d %H:%M} UTC; a new one at each run)")

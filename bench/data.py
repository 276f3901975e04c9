"""Set-based data generation: every table is filled by one
``INSERT ... SELECT ... FROM generate_series`` (no Python loop, no ORM), with
explicit, deterministic ids and timestamps, so that every rebuild produces the
same rows and each measured path starts from identical data.

Layout of a tenant (ids are offset so the two tenants never overlap):

- users 1..U; user 1 is the *erasure target*, user 2 a company admin;
- channels 1..C, every user a member of every channel;
- messages 1..M: the first ``erase_messages`` are the target's, spread over
  channels 1..erase_channels; the target's last message in each of those
  channels is the newest of the channel, so erasing the target must move
  ``last_message_at`` back. Every 10th other message of a channel is a thread
  reply (in channels 1..erase_channels a reply to one of the target's
  messages, so the erasure cascades into other people's replies);
- reactions spread over the messages (one per user, message and emoji);
- meetings (three in four announced in a channel) with participants, and
  closed, non-overlapping attendances.

Lifecycle fields are set to their true values: ``Channel.last_message_at`` =
newest message, ``User.last_active`` = latest of the user's messages,
reactions and check-outs (``TRUE_LAST_ACTIVE_SQL``).
"""

from dataclasses import dataclass

from django.db import connection

from bench.sizes import RunSize, TenantSize

BASE = "TIMESTAMPTZ '2024-01-01 00:00:00+00'"

TENANT_A = 1
TENANT_B = 2

#: The true last activity of each user of a company, from the data.
TRUE_LAST_ACTIVE_SQL = """
    SELECT u.id, GREATEST(
        (SELECT max(m.created_at) FROM chat_message m WHERE m.author_id = u.id),
        (SELECT max(r.created_at) FROM chat_messagereaction r WHERE r.user_id = u.id),
        (SELECT max(a.check_out) FROM companies_attendance a WHERE a.user_id = u.id)
    )
    FROM companies_user u WHERE u.company_id = %s
"""


@dataclass(frozen=True)
class Offsets:
    user: int = 0
    channel: int = 0
    message: int = 0
    meeting: int = 0

    def after(self, size: TenantSize) -> "Offsets":
        return Offsets(
            user=self.user + size.users,
            channel=self.channel + size.channels,
            message=self.message + size.messages,
            meeting=self.meeting + size.meetings,
        )


@dataclass(frozen=True)
class Tenant:
    company_id: int
    size: TenantSize
    offsets: Offsets

    def user_id(self, n: int) -> int:
        return self.offsets.user + n

    def channel_id(self, n: int) -> int:
        return self.offsets.channel + n

    @property
    def erase_target_id(self) -> int:
        return self.user_id(1)

    @property
    def admin_id(self) -> int:
        return self.user_id(2)

    def busiest_channel_id(self) -> int:
        # channels 1..erase_channels hold the target's messages on top of their share
        return self.channel_id(1)


TABLES_WITH_IDS = [
    "companies_company",
    "companies_user",
    "companies_attendance",
    "chat_channel",
    "chat_channelmembership",
    "chat_message",
    "chat_messagereaction",
    "meetings_meeting",
    "meetings_meetingparticipant",
]


def _tenant_sql(company_id: int, slug: str, s: TenantSize, o: Offsets) -> list[str]:
    U, C, M, E, EC = s.users, s.channels, s.messages, s.erase_messages, s.erase_channels
    R, G, P, A = s.reactions, s.meetings, s.participants, s.attendance
    u0, c0, m0, g0 = o.user, o.channel, o.message, o.meeting
    per_channel = E // EC
    return [
        f"""INSERT INTO companies_company (id, name, slug, created_at)
            VALUES ({company_id}, 'Bench {slug}', 'bench-{slug}', {BASE})""",
        f"""INSERT INTO companies_user (id, password, last_login, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, company_id, role, last_active)
            SELECT {u0} + n, '!bench', NULL, false, 'bench-{slug}-' || n, 'User', n::text,
                   'bench-{slug}-' || n || '@example.com', false, true, {BASE}, {company_id},
                   CASE WHEN n = 2 THEN 'admin' ELSE 'member' END, NULL
            FROM generate_series(1, {U}) n""",
        f"""INSERT INTO chat_channel (id, company_id, name, topic, is_private, created_by_id,
                created_at, last_message_at)
            SELECT {c0} + n, {company_id}, 'channel-' || n, 'Topic of channel ' || n, false,
                   {u0} + ((n - 1) % {U}) + 1, {BASE}, NULL
            FROM generate_series(1, {C}) n""",
        f"""INSERT INTO chat_channelmembership (company_id, channel_id, user_id, joined_at, last_read_at)
            SELECT {company_id}, {c0} + c, {u0} + u, {BASE}, NULL
            FROM generate_series(1, {C}) c, generate_series(1, {U}) u""",
        f"""INSERT INTO chat_message (id, company_id, channel_id, author_id, parent_id, body, created_at, edited_at)
            SELECT {m0} + i, {company_id},
                   {c0} + CASE WHEN i <= {E} THEN (i - 1) % {EC} ELSE (i - 1) % {C} END + 1,
                   {u0} + CASE WHEN i <= {E} THEN 1 ELSE 2 + (i % {U - 1}) END,
                   CASE
                     WHEN i <= {E} OR ((i - 1) / {C}) % 10 <> 9 THEN NULL
                     WHEN (i - 1) % {C} < {EC}
                       THEN {m0} + ((i - 1) % {C}) + 1 + {EC} * (((i - 1) / {C}) % {per_channel})
                     WHEN i - {C} > {E} THEN {m0} + i - {C}
                   END,
                   'Message ' || i || ': the quick brown fox jumps over the lazy dog, twice.',
                   {BASE} + make_interval(secs => CASE
                       WHEN i <= {E} AND i > {E - EC} THEN {M} + i
                       ELSE (i::bigint * 7919) % {M} END),
                   NULL
            FROM generate_series(1, {M}) i""",
        f"""INSERT INTO chat_messagereaction (company_id, message_id, user_id, emoji, created_at)
            SELECT {company_id}, {m0} + ((k - 1) % {M}) + 1,
                   {u0} + (((k - 1) % {M} + 1 + (k - 1) / {M}) % {U}) + 1,
                   (ARRAY['👍', '🎉', '❤️', '😂', '👀'])[((k - 1) / {M}) % 5 + 1],
                   {BASE} + make_interval(secs => (k::bigint * 104729) % {M} + 30)
            FROM generate_series(1, {R}) k""",
        f"""INSERT INTO meetings_meeting (id, company_id, organizer_id, channel_id, title,
                description, starts_at, ends_at, created_at)
            SELECT {g0} + g, {company_id}, {u0} + (g % {U}) + 1,
                   CASE WHEN g % 4 = 0 THEN NULL ELSE {c0} + (g % {C}) + 1 END,
                   'Meeting ' || g, '', {BASE} + make_interval(hours => g),
                   {BASE} + make_interval(hours => g, mins => 30), {BASE}
            FROM generate_series(1, {G}) g""",
        f"""INSERT INTO meetings_meetingparticipant (company_id, meeting_id, user_id, response, joined_at, left_at)
            SELECT {company_id}, {g0} + ((p - 1) % {G}) + 1,
                   {u0} + ((((p - 1) % {G}) + 1 + (p - 1) / {G}) % {U}) + 1,
                   (ARRAY['pending', 'accepted', 'declined', 'tentative'])[((p - 1) / {G}) % 4 + 1],
                   NULL, NULL
            FROM generate_series(1, {P}) p""",
        f"""INSERT INTO companies_attendance (company_id, user_id, check_in, check_out)
            SELECT {company_id}, {u0} + ((a - 1) % {U}) + 1,
                   {BASE} + make_interval(days => (a - 1) / {U}),
                   {BASE} + make_interval(days => (a - 1) / {U}, hours => 8)
            FROM generate_series(1, {A}) a""",
        f"""UPDATE chat_channel c SET last_message_at = s.newest
            FROM (SELECT channel_id, max(created_at) AS newest FROM chat_message
                  WHERE channel_id BETWEEN {c0 + 1} AND {c0 + C} GROUP BY channel_id) s
            WHERE c.id = s.channel_id""",
        f"""UPDATE companies_user u SET last_active = t.at
            FROM ({TRUE_LAST_ACTIVE_SQL % company_id}) AS t (id, at) WHERE u.id = t.id""",
    ]


def build(run: RunSize, tenant_size: TenantSize | None = None) -> tuple[Tenant, Tenant]:
    """Wipe the bench database and fill tenant A (``tenant_size``, default
    ``run.tenant``) and tenant B (``run.tenant`` scaled by ``run.other_scale``).
    Returns the two tenants."""
    size_a = tenant_size or run.tenant
    size_b = run.tenant.scaled(run.other_scale)
    a = Tenant(TENANT_A, size_a, Offsets())
    b = Tenant(TENANT_B, size_b, a.offsets.after(size_a))
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")  # generation only
        cursor.execute("TRUNCATE companies_company, django_session RESTART IDENTITY CASCADE")
        for tenant, slug in ((a, "a"), (b, "b")):
            for sql in _tenant_sql(tenant.company_id, slug, tenant.size, tenant.offsets):
                cursor.execute(sql)
        for table in TABLES_WITH_IDS:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
            )
        cursor.execute("SET synchronous_commit = on")
        # Same physical starting point for every path: fresh statistics, a
        # clean visibility map, dirty pages written out.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    return a, b

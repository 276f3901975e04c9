"""After the run: the database against the journal of acknowledged writes.

A write the API acknowledged (201/200/204) must be in the database unless it
was deliberately undone (a message deleted, or removed with its parent or its
tenant); nothing the API refused or never saw may appear, except where the
client got no clear answer (a transport error or a 5xx, which fails the run
anyway), and those are excluded from the comparison and counted.
"""

import io
from dataclasses import dataclass

from django.core.management import call_command, get_commands
from django.db.models import Max
from knox.models import AuthToken

from chat.models import Channel, ChannelMembership, Message, MessageReaction
from companies.models import Attendance, Company, User
from loadtest.client import TRANSPORT_ERROR, Context
from loadtest.seed import Tenant
from meetings.models import Meeting, MeetingParticipant


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _removed_with_parents(deleted: set[int], parents: dict[int, int]) -> set[int]:
    """Deleted messages and, transitively, their replies (CASCADE)."""
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    removed, stack = set(), list(deleted)
    while stack:
        message = stack.pop()
        if message in removed:
            continue
        removed.add(message)
        stack.extend(children.get(message, ()))
    return removed


def _sample(ids, n: int = 10) -> str:
    ids = sorted(ids)
    return ", ".join(map(str, ids[:n])) + (" ..." if len(ids) > n else "")


def check_status_codes(ctx: Context) -> list[Check]:
    server_errors = sum(
        count for statuses in ctx.stats.statuses.values() for status, count in statuses.items() if status >= 500
    )
    transport = sum(statuses.get(TRANSPORT_ERROR, 0) for statuses in ctx.stats.statuses.values())
    unexpected = sum(ctx.unexpected.values())
    return [
        Check("no 5xx response", server_errors == 0, f"{server_errors} 5xx"),
        Check("no transport error (every request answered)", transport == 0, f"{transport} errors"),
        Check(
            "no 401 outside the purged tenant",
            unexpected == 0,
            ", ".join(f"{k}: {v}" for k, v in ctx.unexpected.items()) or "none",
        ),
    ]


def check_messages(ctx: Context, survivors: list[Tenant]) -> list[Check]:
    journal = ctx.journal
    parents = {}
    for tenant in ctx.tenants:
        parents.update(tenant.parents)
    parents.update({mid: info["parent"] for mid, info in journal.messages_created.items() if info["parent"]})
    removed = _removed_with_parents(journal.messages_deleted, parents)
    unclear_deletes = _removed_with_parents(journal.deletes_unclear, parents)

    lost, phantom, undeleted, created_total = set(), set(), set(), 0
    for tenant in survivors:
        created = {mid for mid, info in journal.messages_created.items() if info["tenant"] == tenant.index}
        created_total += len(created)
        expected = (set(tenant.messages) | created) - removed
        actual = set(Message.objects.filter(channel__company_id=tenant.company_id).values_list("pk", flat=True))
        lost |= (expected - actual) - unclear_deletes
        undeleted |= actual & removed
        phantom |= actual - expected - removed
    results = [
        Check(
            "no lost write: every message answered 201 exists unless deleted",
            not lost,
            f"{created_total} acknowledged in surviving tenants, {len(journal.messages_deleted)} deleted "
            f"(204), {len(removed) - len(journal.messages_deleted)} removed with their parent"
            + (f"; LOST: {_sample(lost)}" if lost else ""),
        ),
        Check(
            "no deleted message survives (204 means gone, replies included)",
            not undeleted,
            f"{len(undeleted)} survived" + (f": {_sample(undeleted)}" if undeleted else ""),
        ),
        Check(
            "no unacknowledged message appears",
            len(phantom) <= journal.messages_unclear,
            f"{len(phantom)} unacknowledged rows, {journal.messages_unclear} posts without a clear answer",
        ),
    ]
    if created_total == 0:
        results.append(Check("the load wrote messages", False, "no message was created: is the API there?"))
    return results


def check_reactions(ctx: Context, survivors: list[Tenant]) -> list[Check]:
    journal = ctx.journal
    expected, actual = set(), set()
    for tenant in survivors:
        added = {key for key, index in journal.reactions_added.items() if index == tenant.index}
        expected |= (tenant.reactions | added) - journal.reactions_removed
        actual |= set(
            MessageReaction.objects.filter(message__channel__company_id=tenant.company_id).values_list(
                "message_id", "user_id", "emoji"
            )
        )
    present = set(Message.objects.filter(pk__in={m for m, _, _ in expected}).values_list("pk", flat=True))
    expected = {key for key in expected if key[0] in present} - journal.reactions_unclear
    actual -= journal.reactions_unclear
    missing, extra = expected - actual, actual - expected
    return [
        Check(
            "reactions: the database holds exactly the acknowledged ones",
            not missing and not extra,
            f"{len(journal.reactions_added)} added (201), {len(journal.reactions_removed)} removed (204); "
            f"missing {len(missing)}, unexpected {len(extra)}",
        )
    ]


def check_rsvps_attendance_memberships(ctx: Context, survivors: list[Tenant]) -> list[Check]:
    journal = ctx.journal
    wrong_rsvp = []
    for tenant in survivors:
        rows = dict(
            (((meeting, user), response))
            for meeting, user, response in MeetingParticipant.objects.filter(
                meeting__company_id=tenant.company_id
            ).values_list("meeting_id", "user_id", "response")
        )
        for key, seeded in tenant.rsvps.items():
            if key in journal.rsvps_unclear:
                continue
            if rows.get(key) != journal.rsvps.get(key, seeded):
                wrong_rsvp.append(key)

    wrong_attendance = []
    for tenant in survivors:
        for user in tenant.users:
            if user.id in journal.attendance_unclear:
                continue
            rows = Attendance.objects.filter(user_id=user.id)
            expected_rows = tenant.attendances[user.id] + journal.check_ins.get(user.id, 0)
            is_open = rows.filter(check_out__isnull=True).exists()
            if rows.count() != expected_rows or is_open != journal.checked_in.get(user.id, False):
                wrong_attendance.append(user.id)

    wrong_membership = []
    for (channel, user), member in journal.memberships.items():
        if (channel, user) in journal.memberships_unclear:
            continue
        exists = ChannelMembership.objects.filter(channel_id=channel, user_id=user).exists()
        tenant_alive = Channel.objects.filter(pk=channel).exists()
        if tenant_alive and exists != member:
            wrong_membership.append((channel, user))
    return [
        Check(
            "RSVPs: each participant's response is the last one acknowledged",
            not wrong_rsvp,
            f"{len(journal.rsvps)} acknowledged; wrong: {wrong_rsvp[:5]}",
        ),
        Check(
            "attendance: one row per acknowledged check-in, open iff the last answer was a check-in",
            not wrong_attendance,
            f"{sum(journal.check_ins.values())} check-ins; wrong users: {wrong_attendance[:5]}",
        ),
        Check(
            "memberships: leaving/rejoining is what was acknowledged",
            not wrong_membership,
            f"{len(journal.memberships)} channel/user pairs toggled; wrong: {wrong_membership[:5]}",
        ),
    ]


def check_last_message_at() -> list[Check]:
    stale = [
        (channel.pk, channel.last_message_at, channel.newest)
        for channel in Channel.objects.annotate(newest=Max("messages__created_at"))
        if channel.last_message_at != channel.newest
    ]
    return [
        Check(
            "every channel's last_message_at equals its newest message",
            not stale,
            f"{Channel.objects.count()} channels; stale: {stale[:3]}",
        )
    ]


def check_purge(purged: Tenant, created_in_purged: set[int]) -> list[Check]:
    users = [u.id for u in purged.users]
    channels = list(purged.channels)
    messages = set(purged.messages) | created_in_purged
    leftovers = {
        "company": Company.objects.filter(pk=purged.company_id).count(),
        "users": User.objects.filter(pk__in=users).count() + User.objects.filter(company_id=purged.company_id).count(),
        "tokens": AuthToken.objects.filter(user_id__in=users).count(),
        "attendances": Attendance.objects.filter(company_id=purged.company_id).count()
        + Attendance.objects.filter(user_id__in=users).count(),
        "channels": Channel.objects.filter(pk__in=channels).count()
        + Channel.objects.filter(company_id=purged.company_id).count(),
        "memberships": ChannelMembership.objects.filter(channel_id__in=channels).count()
        + ChannelMembership.objects.filter(user_id__in=users).count(),
        "messages": Message.objects.filter(pk__in=messages).count()
        + Message.objects.filter(channel_id__in=channels).count()
        + Message.objects.filter(author_id__in=users).count(),
        "reactions": MessageReaction.objects.filter(message_id__in=messages).count()
        + MessageReaction.objects.filter(user_id__in=users).count(),
        "meetings": Meeting.objects.filter(pk__in=purged.meetings).count()
        + Meeting.objects.filter(company_id=purged.company_id).count(),
        "participants": MeetingParticipant.objects.filter(meeting_id__in=purged.meetings).count()
        + MeetingParticipant.objects.filter(user_id__in=users).count(),
    }
    rows = sum(leftovers.values())
    return [
        Check(
            f"purged tenant {purged.slug} has zero rows",
            rows == 0,
            f"{len(messages)} messages, {len(users)} users, {len(channels)} channels purged"
            + ("; LEFT: " + ", ".join(f"{k}={v}" for k, v in leftovers.items() if v) if rows else ""),
        )
    ]


def check_survivors_intact(survivors: list[Tenant]) -> list[Check]:
    broken = []
    for tenant in survivors:
        counts = (
            Company.objects.filter(pk=tenant.company_id).count(),
            User.objects.filter(company_id=tenant.company_id).count(),
            Channel.objects.filter(company_id=tenant.company_id).count(),
            Meeting.objects.filter(company_id=tenant.company_id).count(),
            MeetingParticipant.objects.filter(meeting__company_id=tenant.company_id).count(),
        )
        expected = (1, len(tenant.users), len(tenant.channels), len(tenant.meetings), len(tenant.rsvps))
        if counts != expected:
            broken.append(f"{tenant.slug}: {counts} != {expected}")
    return [
        Check(
            "other tenants intact (company, users, channels, meetings, participants)",
            not broken,
            f"{len(survivors)} tenants" + (f"; {broken}" if broken else ""),
        )
    ]


def check_integrity_audit() -> list[Check]:
    if "integrity_audit" not in get_commands():
        return [Check("manage.py integrity_audit clean", False, "integrity_audit is not available")]
    out = io.StringIO()
    try:
        call_command("integrity_audit", stdout=out, stderr=out)
        ok = True
    except SystemExit as exit_:
        ok = exit_.code in (0, None)
    lines = out.getvalue().strip().splitlines()
    return [Check("manage.py integrity_audit clean", ok, lines[0] if ok and lines else "\n" + out.getvalue())]


def verify(ctx: Context, purged_index: int | None) -> list[Check]:
    survivors = [t for t in ctx.tenants if t.index != purged_index]
    checks = check_status_codes(ctx)
    checks += check_messages(ctx, survivors)
    checks += check_reactions(ctx, survivors)
    checks += check_rsvps_attendance_memberships(ctx, survivors)
    checks += check_last_message_at()
    if purged_index is not None:
        purged = ctx.tenants[purged_index]
        created = {mid for mid, info in ctx.journal.messages_created.items() if info["tenant"] == purged_index}
        checks += check_purge(purged, created)
    checks += check_survivors_intact(survivors)
    checks += check_integrity_audit()
    return checks

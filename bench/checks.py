"""Correctness checks run after every measured path. A failure here (and only
here) makes the benchmark exit non-zero."""

from django.db import connection

from bench.data import TRUE_LAST_ACTIVE_SQL
from workspace.db.derived import registered
from workspace.db.introspection import orphan_counts

#: rows of a tenant, per table
TENANT_COUNTS_SQL = {
    "users": "SELECT count(*) FROM companies_user WHERE company_id = %s",
    "channels": "SELECT count(*) FROM chat_channel WHERE company_id = %s",
    "memberships": """SELECT count(*) FROM chat_channelmembership x
                      JOIN chat_channel c ON c.id = x.channel_id WHERE c.company_id = %s""",
    "messages": """SELECT count(*) FROM chat_message x
                   JOIN chat_channel c ON c.id = x.channel_id WHERE c.company_id = %s""",
    "reactions": """SELECT count(*) FROM chat_messagereaction x JOIN chat_message m ON m.id = x.message_id
                    JOIN chat_channel c ON c.id = m.channel_id WHERE c.company_id = %s""",
    "meetings": "SELECT count(*) FROM meetings_meeting WHERE company_id = %s",
    "participants": """SELECT count(*) FROM meetings_meetingparticipant x
                       JOIN meetings_meeting g ON g.id = x.meeting_id WHERE g.company_id = %s""",
    "attendance": "SELECT count(*) FROM companies_attendance WHERE company_id = %s",
}


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def tenant_snapshot(company_id: int) -> dict:
    """Row counts and every lifecycle value of one tenant."""
    return {
        "counts": {name: _rows(sql, [company_id])[0][0] for name, sql in TENANT_COUNTS_SQL.items()},
        "last_message_at": dict(
            _rows("SELECT id, last_message_at FROM chat_channel WHERE company_id = %s", [company_id])
        ),
        "last_active": dict(_rows("SELECT id, last_active FROM companies_user WHERE company_id = %s", [company_id])),
    }


def orphans() -> dict[str, int]:
    """Rows whose foreign key points at a missing row, per FK: the integrity
    core's count (workspace.db.introspection), the one the audit and the
    tests use."""
    return orphan_counts()


def stale_derived(company_id: int) -> dict[str, list[int]]:
    """Rows of the tenant whose derived field is wrong, per check the apps
    registered (``last_message_at``, ``last_active``, a meeting's
    ``is_private``): the audit's checks (workspace.db.derived)."""
    found = {}
    for derived in registered():
        pks = sorted(derived.stale(company_id).values_list("pk", flat=True))
        if pks:
            found[derived.kind] = pks
    return found


def wrong_last_active(company_id: int) -> list[int]:
    """Users whose last_active is not their true latest activity in the data
    (only meaningful for a tenant the measured path did not write to)."""
    stored = dict(_rows("SELECT id, last_active FROM companies_user WHERE company_id = %s", [company_id]))
    true = dict(_rows(TRUE_LAST_ACTIVE_SQL, [company_id]))
    return sorted(pk for pk in stored if stored[pk] != true.get(pk))


class Verdict:
    """Collects the problems found after one measured path."""

    def __init__(self):
        self.problems: list[str] = []

    def expect(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)

    def no_orphans(self) -> None:
        found = orphans()
        self.expect(not found, f"orphans left: {found}")

    def other_tenant_intact(self, company_id: int, before: dict) -> None:
        after = tenant_snapshot(company_id)
        self.expect(
            after["counts"] == before["counts"], f"other tenant rows changed: {before['counts']} -> {after['counts']}"
        )
        self.expect(
            after["last_message_at"] == before["last_message_at"],
            "other tenant's Channel.last_message_at changed",
        )
        self.expect(after["last_active"] == before["last_active"], "other tenant's User.last_active changed")
        stale = stale_derived(company_id)
        self.expect(not stale, f"other tenant has stale derived fields: {stale}")
        wrong = wrong_last_active(company_id)
        self.expect(not wrong, f"other tenant's users {wrong} have a wrong last_active")

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return "ok" if self.ok else "FAILED: " + "; ".join(self.problems)

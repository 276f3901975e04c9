"""Retention at scale (PostgreSQL): ``python -m bench.retention``.

One tenant with 50 channels: 500,000 messages older than the retention
(some thread replies, reactions on them), plus newer messages in 40 of the
channels (10 channels hold old messages only, so their ``last_message_at``
must end null) and newer replies under old parents (they go with them). A
bystander tenant has the same old messages and no retention. The run:

1. the preview (``retention_preview``) counts what will go, timed;
2. ``retention_apply`` deletes it in batches, while an observer thread (its
   own connection) checks, again and again, in one statement each, that every
   channel's ``last_message_at`` equals its newest remaining message: the
   moments it samples are whatever the batches have committed;
3. afterwards: nothing expired left, every channel exact, the bystander
   untouched, the rows deleted per table equal the preview and the receipts
   (summed over the run's batches), no orphan.

Prints the figures (total time, batches, longest and median batch, preview
time) and exits 1 on any correctness failure. The database is wiped (the
bench's own: ``DATABASE_URL``, default ``bench.env.DEFAULT_URL``; refused
when it holds data the bench did not create). Options: ``--messages``
(500000), ``--channels`` (50), ``--batch-size`` (1000).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import timedelta

from bench import env as bench_env

BASE = "TIMESTAMPTZ '2024-01-01 00:00:00+00'"
DAYS = 30
COMPANY, BYSTANDER = 1, 2

CHECK_SQL = """
    SELECT count(*) FROM chat_channel c
    WHERE c.company_id = %s AND c.last_message_at IS DISTINCT FROM
          (SELECT max(m.created_at) FROM chat_message m WHERE m.channel_id = c.id)
"""


def build(*, messages: int, channels: int, now_sql: str) -> dict:
    """Fill the two tenants set-based (INSERT ... SELECT generate_series)."""
    from django.db import connection

    old, recent, users = messages, messages // 10, 20
    recent_channels = channels - channels // 5  # the others end empty
    sql = []
    for company, slug, with_recent in ((COMPANY, "retained", True), (BYSTANDER, "bystander", False)):
        u0, c0, m0 = company * 10_000, company * 10_000, company * 10_000_000
        sql += [
            f"INSERT INTO companies_company (id, name, slug, created_at, message_retention_days) "
            f"VALUES ({company}, 'Bench {slug}', 'bench-{slug}', {BASE}, {DAYS if with_recent else 'NULL'})",
            f"""INSERT INTO companies_user (id, password, is_superuser, username, first_name, last_name, email,
                    is_staff, is_active, date_joined, company_id, role)
                SELECT {u0} + n, '!bench', false, 'bench-{slug}-' || n, '', '', '', false, true, {BASE},
                       {company}, 'member' FROM generate_series(1, {users}) n""",
            f"""INSERT INTO chat_channel (id, company_id, name, topic, is_private, created_at)
                SELECT {c0} + n, {company}, 'channel-' || n, '', false, {BASE}
                FROM generate_series(1, {channels}) n""",
            # Old messages: 90 days old and more; in each channel every 10th
            # a thread reply to the message just before it in the channel.
            f"""INSERT INTO chat_message (id, company_id, channel_id, author_id, parent_id, body, created_at)
                SELECT {m0} + i, {company}, {c0} + (i - 1) % {channels} + 1, {u0} + (i % {users}) + 1,
                       CASE WHEN ((i - 1) / {channels}) % 10 = 9 THEN {m0} + i - {channels} END,
                       'old message ' || i,
                       {now_sql} - make_interval(days => 90, secs => {old} - i)
                FROM generate_series(1, {old}) i""",
            f"""INSERT INTO chat_messagereaction (company_id, message_id, user_id, emoji, created_at)
                SELECT {company}, {m0} + i * 5, {u0} + (i % {users}) + 1, '👍', {now_sql} - make_interval(days => 80)
                FROM generate_series(1, {old // 5}) i""",
        ]
        if with_recent:
            sql += [
                # Recent messages in the first channels; every 50th a reply to
                # the first (old, root) message of its channel: it goes with it.
                f"""INSERT INTO chat_message (id, company_id, channel_id, author_id, parent_id, body, created_at)
                    SELECT {m0} + {old} + i, {company}, {c0} + (i - 1) % {recent_channels} + 1, {u0} + (i % {users}) + 1,
                           CASE WHEN i % 50 = 0 THEN {m0} + (i - 1) % {recent_channels} + 1 END,
                           'recent message ' || i,
                           {now_sql} - make_interval(days => 10, secs => i)
                    FROM generate_series(1, {recent}) i""",
            ]
        sql.append(
            f"""UPDATE chat_channel c SET last_message_at = s.newest
                FROM (SELECT channel_id, max(created_at) AS newest FROM chat_message GROUP BY channel_id) s
                WHERE c.id = s.channel_id AND c.company_id = {company}"""
        )
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("TRUNCATE companies_company, companies_deletionreceipt, django_session RESTART IDENTITY CASCADE")
        for statement in sql:
            cursor.execute(statement)
        for table in ("companies_company", "companies_user", "chat_channel", "chat_message", "chat_messagereaction"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
            )
        cursor.execute("SET synchronous_commit = on")
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    return {"old": old, "recent": recent, "channels": channels, "recent_channels": recent_channels}


class Observer(threading.Thread):
    """Checks every channel's last_message_at from another connection, in a
    loop, until stopped: each check is one statement (one snapshot)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.samples, self.wrong, self.errors = 0, 0, []

    def run(self):
        from django.db import connection

        try:
            while not self.stop.is_set():
                with connection.cursor() as cursor:
                    cursor.execute(CHECK_SQL, [COMPANY])
                    self.wrong += cursor.fetchone()[0]
                self.samples += 1
                self.stop.wait(0.2)
        except Exception as exc:  # reported by the main thread
            self.errors.append(exc)
        finally:
            connection.close()


def table_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        counts = {}
        for table in ("chat_message", "chat_messagereaction"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retention", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)
    url = bench_env.database_url()
    bench_env.require_postgres(url)
    os.environ.update(bench_env.process_env(url))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from chat.selectors import retention_preview
    from chat.services import retention_apply
    from companies.models import Company, DeletionReceipt
    from workspace.db.introspection import orphan_counts

    call_command("migrate", verbosity=0, interactive=False)
    bench_env.claim_database()
    now = timezone.now()
    started = time.perf_counter()
    shape = build(messages=args.messages, channels=args.channels, now_sql=f"TIMESTAMPTZ '{now.isoformat()}'")
    print(f"bench.retention: built {shape} in {time.perf_counter() - started:.0f} s")
    company = Company.objects.get(pk=COMPANY)
    failures = []

    before = table_counts()
    t0 = time.perf_counter()
    preview = retention_preview(company=company, now=now)
    preview_counts = preview.counts()
    preview_seconds = time.perf_counter() - t0
    print(f"bench.retention: preview {preview_counts} in {preview_seconds * 1000:.0f} ms")

    durations, inside = [], []

    def on_batch(batch):
        durations.append(batch.seconds)
        if batch.number % 50 == 1:  # from inside the loop too, right after a commit
            with connection.cursor() as cursor:
                cursor.execute(CHECK_SQL, [COMPANY])
                inside.append(cursor.fetchone()[0])

    observer = Observer()
    observer.start()
    t0 = time.perf_counter()
    try:
        result = retention_apply(company=company, batch_size=args.batch_size, now=now, on_batch=on_batch)
    finally:
        observer.stop.set()
        observer.join()
    total = time.perf_counter() - t0
    after = table_counts()
    deleted = {table: before[table] - after[table] for table in before}

    receipts = {}
    for receipt in DeletionReceipt.objects.filter(run=result.run):
        for table, count in receipt.counts.items():
            receipts[table] = receipts.get(table, 0) + count
    with connection.cursor() as cursor:
        cursor.execute(CHECK_SQL, [COMPANY])
        wrong_after = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM chat_message m JOIN chat_channel c ON c.id = m.channel_id "
            "WHERE c.company_id = %s AND m.created_at < %s",
            [COMPANY, now - timedelta(days=DAYS)],
        )
        expired_left = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM chat_message m JOIN chat_channel c ON c.id = m.channel_id WHERE c.company_id = %s",
            [BYSTANDER],
        )
        bystander_left = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM chat_channel WHERE company_id = %s AND last_message_at IS NULL", [COMPANY])
        emptied = cursor.fetchone()[0]

    checks = [
        ("preview counts == rows deleted", preview_counts == deleted, f"{preview_counts} vs {deleted}"),
        ("receipts (summed over the run) == rows deleted", receipts == deleted, f"{receipts} vs {deleted}"),
        ("no expired message left", expired_left == 0, expired_left),
        ("every channel's last_message_at exact afterwards", wrong_after == 0, wrong_after),
        (
            f"exact at every observer sample ({observer.samples} samples)",
            observer.wrong == 0 and not observer.errors and observer.samples > 0,
            (observer.wrong, observer.errors),
        ),
        (f"exact right after sampled commits ({len(inside)} batches)", not any(inside), inside),
        (
            "channels with only old messages end with last_message_at null",
            emptied == shape["channels"] - shape["recent_channels"],
            emptied,
        ),
        ("bystander (no retention) untouched", bystander_left == shape["old"], bystander_left),
        ("no orphan", orphan_counts() == {}, orphan_counts()),
    ]
    for name, ok, detail in checks:
        if not ok:
            failures.append(f"{name}: {detail}")

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    lines = [
        f"PostgreSQL {version}; load {os.getloadavg()[0]:.2f}; command: python -m bench.retention "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        f"Deleted: {deleted} ({shape['old']} expired messages over {shape['channels']} channels, "
        f"with newer replies under expired parents and their reactions).",
        f"Preview (one COUNT per table): {preview_seconds * 1000:.0f} ms.",
        f"Retention run: {total:.1f} s, {result.batches} batches of {args.batch_size} expired messages; "
        f"batch duration median {statistics.median(durations) * 1000:.0f} ms, "
        f"p99 {sorted(durations)[int(len(durations) * 0.99) - 1] * 1000:.0f} ms, "
        f"max {max(durations) * 1000:.0f} ms; {sum(deleted.values()) / total:,.0f} rows/s.",
        *[f"- [{'ok' if ok else 'FAIL'}] {name}" for name, ok, _ in checks],
    ]
    print("\n" + "\n".join(lines))
    if failures:
        print("\nCORRECTNESS FAILURES:\n" + "\n".join(f"- {f}" for f in failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the composite tenant keys cost (docs/PERFORMANCE.md, "Tenant keys"):

    python -m bench.tenant_keys [--rounds 5] [--posts 500] [--smoke]

A/B on the same data and the same PostgreSQL, in one run: schema A is the
project's (``(company_id, x_id) -> parent (company_id, id)`` composite keys);
schema B swaps every composite key for the single-column foreign key it
replaced (``x_id -> parent (id)``, same ON DELETE), as before the tenant key.
Measured per schema, rounds interleaved A, B, A, B... so drift on a shared
machine hits both alike:

- insert: the raw statements of one message post (INSERT + the two
  forward-only lifecycle UPDATEs), one transaction per message;
- purge: the raw ``DELETE FROM companies_company`` of a freshly built tenant
  (the database's cascades do the work).

The schema is restored to A at the end (also after a failure). Uses the bench
database (bench/env.py), which it wipes and refills.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _setup() -> None:
    from bench import env as bench_env

    url = bench_env.database_url()
    bench_env.require_postgres(url)
    os.environ.update(bench_env.process_env(url))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    bench_env.claim_database()


def _tenant_keys():
    from workspace.db.lineage import all_edges

    return [edge for edge in all_edges() if edge.tenant_key is not None]


def _swap(to_single: bool) -> None:
    """Schema B (``to_single``) or back to A, in one transaction."""
    from django.db import connection, transaction

    qn = connection.ops.quote_name
    with transaction.atomic(), connection.schema_editor(atomic=False) as editor:
        for edge in _tenant_keys():
            table, key = qn(edge.table), edge.tenant_key
            single = qn(f"{key.name}_single")
            # Idempotent: either schema can be asked for from either one.
            editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {qn(key.name)}")
            editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {single}")
            if to_single:
                action = edge.db_action
                editor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {single} FOREIGN KEY ({qn(edge.column)}) "
                    f"REFERENCES {qn(edge.parent_table)} ({qn(edge.parent_column)})"
                    f"{'' if action == 'NO ACTION' else ' ON DELETE ' + action} DEFERRABLE INITIALLY DEFERRED"
                )
            else:
                editor.execute(key.create_sql(edge.child, editor))


def _insert_round(channel_id: int, author_id: int, company_id: int, posts: int) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    started = time.perf_counter()
    for i in range(posts):
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO chat_message (company_id, channel_id, author_id, parent_id, body, created_at,"
                " edited_at) VALUES (%s, %s, %s, NULL, %s, %s, NULL)",
                [company_id, channel_id, author_id, f"ab post {i}", now],
            )
            cursor.execute(
                "UPDATE chat_channel SET last_message_at = GREATEST(COALESCE(last_message_at, %s), %s) WHERE id = %s",
                [now, now, channel_id],
            )
            cursor.execute(
                "UPDATE companies_user SET last_active = %s WHERE id = %s AND (last_active IS NULL OR last_active < %s)",
                [now, author_id, now],
            )
    return (time.perf_counter() - started) / posts * 1000  # ms per message


def _purge_round(size) -> float:
    from django.db import connection

    from bench.data import build

    a, _b = build(size)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM companies_company WHERE id = %s", [a.company_id])
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tenant_keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--posts", type=int, default=500, help="messages per insert round")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes")
    args = parser.parse_args(argv)
    _setup()
    from dataclasses import replace

    from django.db import connection

    from bench.sizes import DEFAULT, SMOKE

    size = SMOKE if args.smoke else replace(DEFAULT, other_scale=0.01)
    inserts = {"A": [], "B": []}
    purges = {"A": [], "B": []}
    try:
        for _round in range(args.rounds):
            for schema in ("A", "B"):
                _swap(to_single=schema == "B")
                purges[schema].append(_purge_round(size))
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT c.id, c.company_id, u.id FROM chat_channel c JOIN companies_user u "
                        "ON u.company_id = c.company_id ORDER BY c.id, u.id LIMIT 1"
                    )
                    channel_id, company_id, author_id = cursor.fetchone()
                inserts[schema].append(_insert_round(channel_id, author_id, company_id, args.posts))
    finally:
        _swap(to_single=False)
        from workspace.db.introspection import fk_action_drift

        drift = fk_action_drift()
    if drift:
        print("bench.tenant_keys: the schema was not restored:", *drift, sep="\n  ", file=sys.stderr)
        return 1
    med = {k: statistics.median(v) for k, v in inserts.items()}
    pmed = {k: statistics.median(v) for k, v in purges.items()}
    t = size.tenant
    print(f"tenant keys A/B, {args.rounds} interleaved rounds, medians (PostgreSQL {connection.pg_version // 10000})")
    print("| measure | A: composite tenant keys | B: single-column keys | A / B |")
    print("|---|---|---|---|")
    print(
        f"| post one message (raw INSERT + 2 UPDATEs, {args.posts}/round) | {med['A']:.3f} ms | {med['B']:.3f} ms "
        f"| {med['A'] / med['B']:.2f}x |"
    )
    print(
        f"| raw purge of a tenant ({t.messages:,} messages, {t.reactions:,} reactions) | {pmed['A']:.2f} s "
        f"| {pmed['B']:.2f} s | {pmed['A'] / pmed['B']:.2f}x |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

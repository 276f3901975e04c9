"""Online purge of a large tenant while another tenant's API traffic runs
(docs/PERFORMANCE.md "Online tenant purge"). PostgreSQL only.

    python -m bench.online_purge --messages 1000000

1. Builds tenant A (``--messages`` messages, half as many reactions, ...) and
   a small tenant B with the bench's set-based generator (bench/data.py), in
   the bench database (DATABASE_URL, default workspace_bench; wiped).
2. Baseline: B's API traffic (``--clients`` threads, each in a loop: list a
   page of a channel's messages, post a message) for ``--baseline`` seconds.
3. Deactivates A (no delay) and purges it online in a separate process
   (``manage.py company_purge a --online``) while the same traffic runs; at 5
   random moments it checks the whole database for orphans (every FK of
   pg_constraint).
4. Rebuilds the same data and times the one-statement purge
   (``company_purge``) for comparison.

Reports B's p50/p99 without and during the purge (also excluding the requests
that overlapped an orphan check, which scans whole tables), the purge's
batches and longest batch transaction (``CompanyPurge.max_batch_ms``),
orphans found, and both total times. Exit status 1 when an orphan was found
or B's rows changed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import replace

from bench.env import claim_database, database_url, process_env, require_postgres


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Traffic:
    """B's API traffic from ``clients`` threads (in-process WSGI client, one
    database connection per thread). Records (start, end) of every request."""

    def __init__(self, *, user, channel_ids: list[int], clients: int):
        self.user, self.channel_ids, self.clients = user, channel_ids, clients
        self.samples: list[tuple[float, float, int]] = []
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _loop(self, n: int) -> None:
        from django.db import connection
        from knox.models import AuthToken
        from rest_framework.test import APIClient

        client = APIClient()
        _, key = AuthToken.objects.create(user=self.user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        rng = random.Random(n)
        i = 0
        try:
            while not self._stop.is_set():
                channel = rng.choice(self.channel_ids)
                for call in (
                    lambda: client.get(f"/api/channels/{channel}/messages/"),
                    lambda: client.post(
                        f"/api/channels/{channel}/messages/", {"body": f"bench {n}-{i}"}, format="json"
                    ),
                ):
                    start = time.perf_counter()
                    response = call()
                    end = time.perf_counter()
                    with self._lock:
                        self.samples.append((start, end, response.status_code))
                        if response.status_code >= 400:
                            self.errors += 1
                i += 1
        finally:
            connection.close()

    def __enter__(self):
        self.threads = [threading.Thread(target=self._loop, args=(n,)) for n in range(self.clients)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self.threads:
            t.join()

    def latencies_ms(self, *, exclude: list[tuple[float, float]] = ()) -> list[float]:
        def overlaps(s, e):
            return any(s < we and e > ws for ws, we in exclude)

        return [(e - s) * 1000 for s, e, _ in self.samples if not overlaps(s, e)]


def setup(args) -> None:
    url = database_url()
    require_postgres(url)
    os.environ.update(process_env(url))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    claim_database()


def build(args):
    from bench.data import build as build_data
    from bench.sizes import DEFAULT, TenantSize

    size = TenantSize(
        users=args.users,
        channels=args.channels,
        messages=args.messages,
        reactions=args.messages // 2,
        meetings=max(1, args.messages // 500),
        participants=max(1, args.messages // 100),
        attendance=max(1, args.messages // 50),
        erase_messages=max(args.channels, args.messages // 100),
        erase_channels=min(args.channels, 20),
    )
    run = replace(DEFAULT, tenant=size, other_scale=args.other_scale)
    tenants = build_data(run)
    # Records that outlive the tenants (no FK, so the generator's TRUNCATE
    # ... CASCADE leaves them): start from none.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE companies_companypurge, django_tasks_database_dbtaskresult")
    return tenants


def other_tenant_objects(b):
    from chat.models import Channel
    from companies.models import User

    user = User.objects.get(pk=b.admin_id)
    channel_ids = list(Channel.objects.filter(company_id=b.company_id).values_list("pk", flat=True))
    return user, channel_ids


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.online_purge", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--other-scale", type=float, default=0.01, help="size of tenant B relative to A")
    parser.add_argument("--clients", type=int, default=2, help="threads of B's API traffic")
    parser.add_argument("--baseline", type=float, default=30.0, help="seconds of traffic without the purge")
    parser.add_argument("--batch-size", type=int, default=None, help="COMPANY_PURGE_BATCH_SIZE")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)

    setup(args)
    from bench.checks import orphans, tenant_snapshot
    from companies.models import Company, CompanyPurge
    from companies.services import company_deactivate, company_purge

    t0 = time.perf_counter()
    a, b = build(args)
    print(f"built tenant A ({args.messages:,} messages) and B in {time.perf_counter() - t0:.0f} s", flush=True)
    b_before = tenant_snapshot(b.company_id)["counts"]
    user, channel_ids = other_tenant_objects(b)

    with Traffic(user=user, channel_ids=channel_ids, clients=args.clients) as warmup:
        time.sleep(3)  # warm-up (connections, caches), not measured
    with Traffic(user=user, channel_ids=channel_ids, clients=args.clients) as baseline:
        time.sleep(args.baseline)
    base = baseline.latencies_ms()
    print(f"baseline: {len(base)} requests, p50 {percentile(base, 50):.1f} ms, p99 {percentile(base, 99):.1f} ms")

    company = Company.objects.get(pk=a.company_id)
    company_deactivate(company=company, actor=None, deletion_delay_days=0)
    env = dict(os.environ, COMPANY_PURGE_ONLINE_THRESHOLD="0")
    if args.batch_size:
        env["COMPANY_PURGE_BATCH_SIZE"] = str(args.batch_size)
    checks: list[tuple[float, float]] = []
    found: list[dict] = []
    with Traffic(user=user, channel_ids=channel_ids, clients=args.clients) as during:
        started = time.perf_counter()
        purge_proc = subprocess.Popen(
            [sys.executable, "manage.py", "company_purge", company.slug, "--online", "--no-progress"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Five checks at random moments of the purge: when its progress
        # passes each of five random percentages.
        targets = sorted(random.uniform(1, 95) for _ in range(5))
        while purge_proc.poll() is None and targets:
            time.sleep(0.2)
            record = CompanyPurge.objects.filter(company_id=a.company_id).first()
            pct = record.deleted_rows * 100 / record.total_rows if record and record.total_rows else 0
            if pct < targets[0] or purge_proc.poll() is not None:
                continue
            targets.pop(0)
            s = time.perf_counter()
            found.append(orphans())
            checks.append((s, time.perf_counter()))
            print(f"  orphan check {len(checks)} at {pct:.0f}%: {found[-1] or 'none'}", flush=True)
        output, _ = purge_proc.communicate()
        online_seconds = time.perf_counter() - started
    if purge_proc.returncode:
        print(output)
        return 1
    purge = CompanyPurge.objects.get(company_id=a.company_id)
    dur_all = during.latencies_ms()
    dur_clean = during.latencies_ms(exclude=checks)
    found.append(orphans())
    b_after = tenant_snapshot(b.company_id)["counts"]
    posted = sum(1 for traffic in (warmup, baseline, during) for _, _, code in traffic.samples if code == 201)

    # The one-statement purge of the same data.
    a2, _ = build(args)
    s = time.perf_counter()
    company_purge(company=Company.objects.get(pk=a2.company_id))
    single_seconds = time.perf_counter() - s

    results = {
        "messages": args.messages,
        "tenant_rows": purge.total_rows,
        "batch_size": int(env.get("COMPANY_PURGE_BATCH_SIZE") or 2000),
        "clients": args.clients,
        "baseline": {"requests": len(base), "p50_ms": percentile(base, 50), "p99_ms": percentile(base, 99)},
        "during": {
            "requests": len(dur_all),
            "p50_ms": percentile(dur_all, 50),
            "p99_ms": percentile(dur_all, 99),
            "p99_ms_outside_orphan_checks": percentile(dur_clean, 99),
            "errors": during.errors,
        },
        "p99_ratio": percentile(dur_all, 99) / percentile(base, 99),
        "p99_ratio_outside_orphan_checks": percentile(dur_clean, 99) / percentile(base, 99),
        "online_purge_seconds": online_seconds,
        "batches": purge.batches,
        "max_batch_ms": purge.max_batch_ms,
        "orphan_checks": len(checks),
        "orphans_found": [f for f in found if f],
        "one_statement_purge_seconds": single_seconds,
        "other_tenant_rows_changed": {
            k: (b_before[k], b_after[k]) for k in b_before if k != "messages" and b_before[k] != b_after[k]
        },
        "other_tenant_messages_posted": posted,
        "other_tenant_messages": (b_before["messages"], b_after["messages"]),
    }
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    ok = (
        not results["orphans_found"]
        and not results["other_tenant_rows_changed"]
        and b_after["messages"] == b_before["messages"] + posted
    )
    print(
        f"median traffic latency during purge {statistics.median(dur_all):.1f} ms; verdict: {'ok' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

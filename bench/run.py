"""``python -m bench [options]``: build the data, measure every scenario
(the project's path and the raw-SQL limit on identical data), check the data
is still right after each path, print the table.

Exit status: 0 when every path left the data correct (timing targets missed
or not), 1 when a path left it wrong or crashed, 2 when the bench cannot run
(no PostgreSQL, a database it must not wipe, bad options).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from bench import env as bench_env
from bench.sizes import DEFAULT, SMOKE, RunSize, TenantSize

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("purge", "erase", "post", "list", "channel", "meetings", "channels")


# --- options -----------------------------------------------------------------


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, RunSize]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI: proves the bench works)")
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help=f"comma-separated scenarios ({', '.join(SCENARIOS)})"
    )
    parser.add_argument(
        "--output", default=str(ROOT / "bench" / "results"), help="directory for latest.md / latest.json"
    )
    sizes = parser.add_argument_group("tenant size (defaults: the preset)")
    for f in fields(TenantSize):
        sizes.add_argument(f"--{f.name.replace('_', '-')}", type=int, dest=f.name)
    run = parser.add_argument_group("run")
    for f in fields(RunSize):
        if f.name != "tenant":
            run.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), dest=f.name)
    args = parser.parse_args(argv)
    preset = SMOKE if args.smoke else DEFAULT
    tenant = replace(
        preset.tenant,
        **{f.name: getattr(args, f.name) for f in fields(TenantSize) if getattr(args, f.name) is not None},
    )
    size = replace(
        preset,
        tenant=tenant,
        **{f.name: getattr(args, f.name) for f in fields(RunSize) if f.name != "tenant" and getattr(args, f.name) is not None},
    )
    errors = tenant.validate() + tenant.scaled(size.other_scale).validate()
    errors += tenant.scaled(size.purge_small_scale).validate()
    if min(size.posts, size.writers, size.posts_per_writer, size.pages) < 1:
        errors.append("--posts, --writers, --posts-per-writer and --pages must be at least 1")
    unknown = set(args.only.split(",")) - set(SCENARIOS)
    if unknown:
        errors.append(f"unknown scenario(s) {sorted(unknown)}; choose from {SCENARIOS}")
    if errors:
        parser.error("; ".join(dict.fromkeys(errors)))
    return args, size


# --- results -----------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    path: str
    time: str = ""
    queries: str = ""
    rss: str = ""
    ratio: str = ""
    check: str = ""
    data: dict = field(default_factory=dict)


class Report:
    def __init__(self):
        self.rows: list[Row] = []
        self.targets: list[str] = []
        self.failures: list[str] = []

    def add(self, row: Row, problems: list[str]) -> Row:
        row.check = "ok" if not problems else "FAILED"
        if problems:
            self.failures.append(f"{row.scenario} / {row.path}: " + "; ".join(problems))
        self.rows.append(row)
        print(f"  {row.path:<34} {row.time:>18} {row.queries:>16} {row.rss:>9} {row.ratio:>7}  {row.check}", flush=True)
        for problem in problems:
            print(f"    !! {problem}", flush=True)
        return row

    def target(self, text: str, met: bool | None) -> None:
        verdict = {True: "met", False: "MISSED", None: "n/a"}[met]
        self.targets.append(f"- {text}: **{verdict}**")

    def table(self) -> str:
        head = ["scenario", "path", "wall time", "queries", "peak RSS growth", "time vs raw", "check"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in self.rows:
            lines.append(f"| {r.scenario} | {r.path} | {r.time} | {r.queries} | {r.rss} | {r.ratio} | {r.check} |")
        return "\n".join(lines)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 10 else f"{seconds:.1f} s"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def fmt_mb(mb: float) -> str:
    return f"{mb:.1f} MB"


def ratio(value: float, limit: float) -> float:
    return value / limit if limit > 0 else float("inf")


# --- running one path ----------------------------------------------------------


class PathCrashed(Exception):
    pass


def run_path(path: str, **args) -> dict:
    """Run one measured path in a fresh Python process (bench/worker.py)."""
    from bench.worker import RESULT_PREFIX

    spec = json.dumps({"path": path, "args": args})
    proc = subprocess.run(
        [sys.executable, "-m", "bench.worker", spec],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=4 * 3600,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX) and proc.returncode == 0:
            return json.loads(line[len(RESULT_PREFIX):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
    raise PathCrashed(f"{path} exited {proc.returncode}:\n      " + "\n      ".join(tail))


@dataclass
class Candidate:
    """One measured path of a scenario. ``prepare()`` rebuilds the data and
    returns ``(args, verify)``; ``verify(result)`` returns the problems it
    finds in the data after the run."""

    key: str
    label: str
    path: str
    prepare: Callable[[], tuple[dict, Callable[[dict], list[str]]]]


def measure(
    report: Report,
    scenario: str,
    candidates: list[Candidate],
    describe: Callable[[Row, dict, dict], None],
    repeat: int = 1,
) -> dict[str, dict]:
    """Run the candidates ``repeat`` rounds, interleaved (limit, project,
    limit, project, ...) so that a change in machine load hits them alike.
    Each candidate's row shows its median run by wall time, with the largest
    memory growth of its runs; ``describe(row, result, all_results)`` fills
    the row (the limit is the first candidate)."""
    runs: dict[str, list[dict]] = {c.key: [] for c in candidates}
    problems: dict[str, list[str]] = {c.key: [] for c in candidates}
    crashed: dict[str, str] = {}
    for round_ in range(repeat):
        for c in candidates:
            if c.key in crashed:
                continue
            args, verify = c.prepare()
            try:
                result = run_path(c.path, **args)
            except PathCrashed as exc:
                crashed[c.key] = str(exc)
                continue
            problems[c.key] += [p for p in verify(result) if p not in problems[c.key]]
            runs[c.key].append(result)
            if repeat > 1:
                print(f"    run {round_ + 1}/{repeat}  {c.label:<40} {result['wall_s']:.3f} s", flush=True)
    results: dict[str, dict] = {}
    for c in candidates:
        if runs[c.key]:
            median = dict(sorted(runs[c.key], key=lambda r: r["wall_s"])[len(runs[c.key]) // 2])
            median["rss_growth_mb"] = max(r["rss_growth_mb"] for r in runs[c.key])
            median["runs_wall_s"] = [r["wall_s"] for r in runs[c.key]]
            results[c.key] = median
    for c in candidates:
        if c.key in crashed:
            report.add(Row(scenario, c.label, check="FAILED"), [crashed[c.key]])
            continue
        row = Row(scenario, c.label, data=results[c.key])
        describe(row, results[c.key], results)
        report.add(row, problems[c.key])
    return results


# --- scenarios -----------------------------------------------------------------


def one_shot(limit_key: str):
    """``describe`` for one-shot paths: seconds, queries, memory, ratio to the limit."""

    def describe(row: Row, result: dict, results: dict) -> None:
        row.time = fmt_s(result["wall_s"])
        row.queries = str(result["queries"])
        row.rss = fmt_mb(result["rss_growth_mb"])
        limit = results.get(limit_key)
        row.ratio = f"{ratio(result['wall_s'], limit['wall_s']):.2f}x" if limit else ""

    return describe


def scenario_purge(report: Report, run: RunSize) -> None:
    from bench.checks import Verdict, tenant_snapshot
    from bench.data import build

    print("\n1. Tenant purge", flush=True)
    by_size: dict[str, dict[str, dict]] = {}
    for size_label, size in (("full", run.tenant), ("small", run.tenant.scaled(run.purge_small_scale))):

        def prepare(size=size):
            a, b = build(run, size)
            other = tenant_snapshot(b.company_id)

            def verify(result):
                from companies.models import Company

                v = Verdict()
                v.expect(not Company.objects.filter(pk=a.company_id).exists(), "the company still exists")
                left = {k: n for k, n in tenant_snapshot(a.company_id)["counts"].items() if n}
                v.expect(not left, f"tenant rows left: {left}")
                v.no_orphans()
                v.other_tenant_intact(b.company_id, other)
                return v.problems

            return {"company_id": a.company_id}, verify

        candidates = [
            Candidate("purge_raw", "raw DELETE FROM companies_company", "purge_raw", prepare),
            Candidate("purge_service", "company_purge (service)", "purge_service", prepare),
            Candidate("purge_collector", "Company.delete() (collector)", "purge_collector", prepare),
        ]
        scenario = f"1. purge a tenant of {size.rows:,} rows"
        by_size[size_label] = measure(report, scenario, candidates, one_shot("purge_raw"), run.repeat)
    full, small = by_size["full"], by_size["small"]
    svc, raw = full.get("purge_service"), full.get("purge_raw")
    if svc and raw:
        r = ratio(svc["wall_s"], raw["wall_s"])
        report.target(f"purge: company_purge within 1.5x of raw DELETE: {r:.2f}x", r <= 1.5)
        report.target(
            f"purge: company_purge peak RSS growth < 50 MB: {svc['rss_growth_mb']:.1f} MB", svc["rss_growth_mb"] < 50
        )
    if svc and small.get("purge_service"):
        q_full, q_small = svc["queries"], small["purge_service"]["queries"]
        report.target(
            f"purge: company_purge query count independent of tenant size: {q_small} (small) vs {q_full} (full)",
            q_full == q_small,
        )
    coll = full.get("purge_collector")
    if coll and raw:
        report.target(
            f"purge (reference, no target): Company.delete() through the collector: "
            f"{ratio(coll['wall_s'], raw['wall_s']):.1f}x raw, {coll['queries']} queries "
            f"({small.get('purge_collector', {}).get('queries', '?')} at the small size), "
            f"{coll['rss_growth_mb']:.0f} MB",
            None,
        )


def _has_user_erase() -> bool:
    from companies import services

    return hasattr(services, "user_erase")


def scenario_erase(report: Report, run: RunSize) -> None:
    from bench.checks import Verdict, stale_derived, tenant_snapshot
    from bench.data import build

    print("\n2. User erasure", flush=True)

    def prepare():
        a, b = build(run)
        other = tenant_snapshot(b.company_id)
        target = a.erase_target_id

        def verify(result):
            from chat.models import Message
            from companies.models import User

            v = Verdict()
            v.expect(not User.objects.filter(pk=target).exists(), "the user still exists")
            v.expect(not Message.objects.filter(author_id=target).exists(), "messages of the user remain")
            v.expect(
                User.objects.filter(company_id=a.company_id).count() == a.size.users - 1,
                "other users of the tenant were deleted",
            )
            stale = stale_derived(a.company_id)
            v.expect(not stale, f"stale derived fields: {stale}")
            v.no_orphans()
            v.other_tenant_intact(b.company_id, other)
            return v.problems

        return {"user_id": target}, verify

    candidates = [Candidate("erase_raw", "raw DELETE + set-based recompute", "erase_raw", prepare)]
    if _has_user_erase():
        candidates.append(Candidate("erase_service", "user_erase (service)", "erase_service", prepare))
    candidates.append(Candidate("erase_collector", "user.delete() (collector + signals)", "erase_collector", prepare))
    t = run.tenant
    scenario = f"2. erase a user with {t.erase_messages:,} msgs in {t.erase_channels} channels"
    results = measure(report, scenario, candidates, one_shot("erase_raw"), run.repeat)
    raw = results.get("erase_raw")
    for key, name in (("erase_service", "user_erase"), ("erase_collector", "user.delete()")):
        got = results.get(key)
        if got and raw:
            report.target(
                f"erase (no fixed target): {name} vs raw: {ratio(got['wall_s'], raw['wall_s']):.2f}x time, "
                f"{got['queries']} vs {raw['queries']} queries, {got['rss_growth_mb']:.1f} MB peak RSS growth",
                None,
            )


def scenario_channel(report: Report, run: RunSize) -> None:
    from bench.checks import Verdict, stale_derived, tenant_snapshot
    from bench.data import build
    from chat.models import Channel, Message
    from meetings.models import Meeting

    print("\n5. Channel delete", flush=True)
    sizes = {}

    def prepare():
        a, b = build(run)
        other = tenant_snapshot(b.company_id)
        channel_id = a.busiest_channel_id()
        sizes["messages"] = Message.objects.filter(channel_id=channel_id).count()
        meetings = set(Meeting.objects.filter(channel_id=channel_id).values_list("pk", flat=True))

        def verify(result):
            v = Verdict()
            v.expect(not Channel.objects.filter(pk=channel_id).exists(), "the channel still exists")
            v.expect(not Message.objects.filter(channel_id=channel_id).exists(), "messages of the channel remain")
            kept = set(Meeting.objects.filter(pk__in=meetings, channel__isnull=True).values_list("pk", flat=True))
            v.expect(kept == meetings, "meetings announced in the channel were not kept with channel = NULL")
            stale = stale_derived(a.company_id)
            v.expect(not stale, f"stale derived fields: {stale}")
            v.no_orphans()
            v.other_tenant_intact(b.company_id, other)
            return v.problems

        return {"channel_id": channel_id}, verify

    candidates = [
        Candidate("channel_raw", "raw DELETE FROM chat_channel", "channel_delete_raw", prepare),
        Candidate("channel_service", "channel_delete (service)", "channel_delete_service", prepare),
        Candidate("channel_collector", "Channel.delete() (collector)", "channel_delete_collector", prepare),
    ]
    results = measure(report, "5. delete a channel", candidates, one_shot("channel_raw"), run.repeat)
    for row in report.rows[-len(candidates):]:
        row.scenario = f"5. delete a channel with {sizes.get('messages', 0):,} msgs"
    svc, raw = results.get("channel_service"), results.get("channel_raw")
    if svc and raw:
        report.target(
            f"channel delete (no fixed target): channel_delete vs raw: {ratio(svc['wall_s'], raw['wall_s']):.2f}x "
            f"time, {svc['queries']} vs {raw['queries']} queries, {svc['rss_growth_mb']:.1f} MB",
            None,
        )


def scenario_post(report: Report, run: RunSize) -> None:
    from django.db.models import Max

    from bench.checks import Verdict, stale_derived
    from bench.data import build
    from chat.models import Message
    from companies.models import User

    print("\n3. Message posting", flush=True)

    def describe(row, result, results):
        msgs = result["messages"]
        row.time = f"{fmt_ms(result['wall_s'] / msgs)}/msg, {msgs / result['wall_s']:,.0f} msg/s"
        row.queries = f"{result['queries'] / msgs:.1f}/msg"
        row.rss = fmt_mb(result["rss_growth_mb"])
        limit = results.get("raw")
        row.ratio = f"{ratio(result['wall_s'], limit['wall_s']):.2f}x" if limit else ""

    by_mode = {}
    modes = [
        ("single", f"3. post {run.posts:,} msgs, 1 writer", run.posts, 1),
        (
            "concurrent",
            f"3. post {run.writers * run.posts_per_writer:,} msgs, {run.writers} writers, 1 hot channel",
            run.posts_per_writer,
            run.writers,
        ),
    ]
    for mode, scenario, n, writers in modes:

        def make_prepare(kind, n=n, writers=writers):
            def prepare():
                a, b = build(run)
                channel_id = a.busiest_channel_id()
                if writers == 1:
                    authors = [a.admin_id]
                    args = {"kind": kind, "channel_id": channel_id, "author_id": a.admin_id, "n": n}
                else:
                    authors = [a.user_id(2 + (i % (a.size.users - 1))) for i in range(writers)]
                    args = {"kind": kind, "channel_id": channel_id, "author_ids": authors, "n": n}
                before = Message.objects.filter(channel_id=channel_id).count()

                def verify(result):
                    v = Verdict()
                    posted = Message.objects.filter(channel_id=channel_id).count() - before
                    v.expect(posted == n * writers, f"{posted} messages posted, expected {n * writers}")
                    stale = stale_derived(a.company_id)
                    v.expect(not stale, f"stale derived fields: {stale}")
                    for author in set(authors):
                        newest = Message.objects.filter(author_id=author).aggregate(m=Max("created_at"))["m"]
                        seen = User.objects.get(pk=author).last_active
                        v.expect(
                            seen is not None and seen >= newest,
                            f"user {author}: last_active {seen} is before their newest post {newest}",
                        )
                    return v.problems

                return args, verify

            return prepare

        path = "post" if writers == 1 else "post_concurrent"
        candidates = [
            Candidate("raw", "raw INSERT + forward-only UPDATEs", path, make_prepare("raw")),
            Candidate("service", "message_create (service)", path, make_prepare("service")),
        ]
        by_mode[mode] = measure(report, scenario, candidates, describe, run.repeat)
    svc, raw = by_mode["single"].get("service"), by_mode["single"].get("raw")
    if svc and raw:
        r = ratio(svc["wall_s"], raw["wall_s"])
        report.target(f"post: message_create within 2x of raw, single-threaded: {r:.2f}x", r <= 2)
    csvc, craw = by_mode["concurrent"].get("service"), by_mode["concurrent"].get("raw")
    if csvc and craw:
        report.target(
            f"post (report only): hot-channel throughput with {run.writers} writers: "
            f"{csvc['messages'] / csvc['wall_s']:,.0f} msg/s (service) vs "
            f"{craw['messages'] / craw['wall_s']:,.0f} msg/s (raw)",
            None,
        )


def measure_list(report: Report, scenario: str, args: dict, raw: tuple, api: tuple, what: str) -> None:
    """A read-only list scenario: the raw-SQL limit and the API, each a
    ``(path, label)`` of bench/paths.py, walk the same pages of the same data
    (one build serves both); the API must list exactly the limit's items, in
    the same order, with the same nested counts."""
    from bench.checks import Verdict

    (raw_key, raw_label), (api_key, api_label) = raw, api
    limit_seen: list = []

    def verify_raw(result):
        limit_seen[:] = [tuple(x) for x in result["seen"]]
        return verify(result)

    def verify_api(result):
        problems = verify(result)
        got = [tuple(x) for x in result["seen"]]
        if got != limit_seen:
            first = next((i for i, (g, w) in enumerate(zip(got, limit_seen)) if g != w), min(len(got), len(limit_seen)))
            problems.append(f"the API listed other {what} than the SQL (first difference at item {first})")
        return problems

    def verify(result):
        v = Verdict()
        items = result["items_per_page"]
        v.expect(all(n == 50 for n in items[:-1]) and items[-1] > 0, f"page sizes {items}, expected 50")
        return v.problems

    def describe(row, result, results):
        row.time = f"{fmt_ms(result['page_mean_s'])}/page (max {fmt_ms(result['page_max_s'])})"
        q = result["queries_per_page"]
        row.queries = f"{min(q)}/page" if min(q) == max(q) else f"{min(q)}-{max(q)}/page"
        row.rss = fmt_mb(result["rss_growth_mb"])
        limit = results.get(raw_key)
        row.ratio = f"{ratio(result['page_mean_s'], limit['page_mean_s']):.2f}x" if limit else ""

    candidates = [
        Candidate(raw_key, raw_label, raw_key, lambda: (args, verify_raw)),
        Candidate(api_key, api_label, api_key, lambda: (args, verify_api)),
    ]
    results = measure(report, scenario, candidates, describe)
    got, limit = results.get(api_key), results.get(raw_key)
    if got:
        q = got["queries_per_page"]
        report.target(
            f"{api_label}: constant query count per page of 50: {min(q)}..{max(q)} over {len(q)} pages",
            min(q) == max(q),
        )
    if got and limit:
        r = ratio(got["page_mean_s"], limit["page_mean_s"])
        report.target(f"{api_label}: within 2x of the raw limit per page: {r:.2f}x", r <= 2)


def scenario_list(report: Report, run: RunSize) -> None:
    from bench.data import build

    print("\n4. Message list page", flush=True)
    a, b = build(run)  # read-only scenario: one build serves both paths
    args = {"channel_id": a.busiest_channel_id(), "user_id": a.admin_id, "pages": run.pages}
    measure_list(
        report,
        f"4. list {run.pages} pages of 50 msgs",
        args,
        ("list_raw", "raw keyset SELECT (one query) + JSON"),
        ("list_api", "GET /api/channels/{id}/messages/"),
        "messages",
    )


def scenario_meetings(report: Report, run: RunSize) -> None:
    from bench.data import build

    print("\n6. Meeting list page", flush=True)
    a, b = build(run)  # read-only scenario: one build serves both paths
    # A member (not the admin: visibility is the same rule for everyone).
    args = {"user_id": a.user_id(3), "pages": run.pages}
    measure_list(
        report,
        f"6. list {run.pages} pages of 50 meetings",
        args,
        ("meetings_raw", "raw SELECT, OFFSET (one query) + JSON"),
        ("meetings_api", "GET /api/meetings/"),
        "meetings",
    )


def scenario_channels(report: Report, run: RunSize) -> None:
    from django.db import connection

    from bench.data import BASE, build

    print("\n7. Channel list page with unread counts", flush=True)
    # Enough channels for ``pages`` pages of 50 (the tenant's messages spread
    # over them); read-only scenario: one build serves both paths.
    t = run.tenant
    a, b = build(run, replace(t, channels=max(t.channels, run.pages * 50)))
    user_id = a.user_id(3)  # a member, not the admin
    c0, c1 = a.channel_id(1), a.channel_id(a.size.channels)
    with connection.cursor() as cursor:
        # A mixed read state for the caller: every 7th channel private, the
        # caller out of every 5th (so some private ones are hidden, some
        # public ones are listed with no read state), half of the others
        # marked read halfway through the messages' time span.
        cursor.execute("UPDATE chat_channel SET is_private = true WHERE id BETWEEN %s AND %s AND id %% 7 = 0", [c0, c1])
        cursor.execute(
            "DELETE FROM chat_channelmembership WHERE user_id = %s AND channel_id BETWEEN %s AND %s"
            " AND channel_id %% 5 = 0",
            [user_id, c0, c1],
        )
        cursor.execute(
            f"UPDATE chat_channelmembership SET last_read_at = {BASE} + make_interval(secs => %s)"
            " WHERE user_id = %s AND channel_id %% 2 = 0",
            [a.size.messages // 2, user_id],
        )
        cursor.execute("VACUUM ANALYZE chat_channel, chat_channelmembership")
    measure_list(
        report,
        f"7. list {run.pages} pages of 50 channels with unread counts",
        {"user_id": user_id, "pages": run.pages},
        ("channels_raw", "raw SELECT, OFFSET (one query) + JSON"),
        ("channels_api", "GET /api/channels/"),
        "channels",
    )


RUNNERS = {
    "purge": scenario_purge,
    "erase": scenario_erase,
    "post": scenario_post,
    "list": scenario_list,
    "channel": scenario_channel,
    "meetings": scenario_meetings,
    "channels": scenario_channels,
}


# --- main ------------------------------------------------------------------------


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


def machine() -> str:
    cores = os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
        mem_text = f", {mem:.0f} GiB RAM"
    except (ValueError, OSError):
        mem_text = ""
    return f"{platform.system()} {platform.machine()}, {cores} cores{mem_text}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    args, run = parse_args(argv)
    url = bench_env.database_url()
    bench_env.require_postgres(url)
    os.environ.update(bench_env.process_env(url))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    bench_env.claim_database()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]

    started = time.time()
    load_before = load()
    print(f"bench: {bench_env.redacted(url)} (PostgreSQL {pg_version}), {machine()}, load {load_before}")
    print(f"bench: tenant {run.tenant.describe()}")
    print(f"bench: other tenant x{run.other_scale}, purge also at x{run.purge_small_scale}, "
          f"posts={run.posts}, writers={run.writers}x{run.posts_per_writer}, pages={run.pages}")
    report = Report()
    for name in args.only.split(","):
        RUNNERS[name](report, run)
    elapsed = time.time() - started

    table = report.table()
    targets = "\n".join(report.targets)
    header = (
        f"Machine: {machine()}; PostgreSQL {pg_version}.\n"
        f"Command: python -m bench {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip() + "\n"
        f"Tenant: {run.tenant.describe()}; other tenant x{run.other_scale}.\n"
        f"Total run time: {elapsed:.0f} s; load average {load_before} at the start, {load()} at the end."
    )
    print("\n" + header + "\n\n" + table + "\n\nTargets:\n" + targets)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(header + "\n\n" + table + "\n\nTargets:\n\n" + targets + "\n")
    (out / "latest.json").write_text(
        json.dumps({"run": run.as_dict(), "rows": [r.__dict__ | {"data": {k: v for k, v in r.data.items() if k != "seen"}} for r in report.rows], "targets": report.targets},
                   indent=2, default=str)
    )
    if report.failures:
        print("\nCORRECTNESS FAILURES:\n" + "\n".join(f"- {f}" for f in report.failures), file=sys.stderr)
        return 1
    print(f"\nbench: all paths left the data correct ({elapsed:.0f} s); results in {out}/latest.md")
    return 0

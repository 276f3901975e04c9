"""Scenario 3: posting messages, one writer and several on a hot channel."""

from bench.core import Candidate, Report, fmt_mb, fmt_ms, measure, ratio
from bench.scenarios import scenario
from bench.sizes import RunSize


@scenario("post", order=3)
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
    for mode, title, n, writers in modes:

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
        by_mode[mode] = measure(report, title, candidates, describe, run.repeat)
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

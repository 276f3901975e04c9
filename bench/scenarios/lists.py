"""Scenarios 4, 6, 7: list pages through the API vs the raw-SQL limit."""

from dataclasses import replace

from bench.core import Candidate, Report, fmt_mb, fmt_ms, measure, ratio
from bench.scenarios import scenario
from bench.sizes import RunSize


def measure_list(report: Report, title: str, args: dict, raw: tuple, api: tuple, what: str) -> None:
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
    results = measure(report, title, candidates, describe)
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


@scenario("list", order=4)
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


@scenario("meetings", order=6)
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


@scenario("channels", order=7)
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

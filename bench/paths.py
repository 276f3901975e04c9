"""The measured paths: the project's code and the raw-SQL limit for each
scenario. Each function runs in a fresh process (bench/worker.py), loads what
it needs *before* the measurement starts, and returns the measurement.
"""

import time
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from bench.measure import Probe
from chat.limits import RAW_PAGE_SQL  # the limit of one message page (shared with the load test)
from workspace.db.writes import delete_cascading

# --- 1. tenant purge -------------------------------------------------------


def purge_service(*, company_id: int) -> dict:
    from companies.models import Company
    from companies.services import company_purge

    company = Company.objects.get(pk=company_id)
    with Probe().measure() as probe:
        company_purge(company=company)
    return probe.as_dict()


def purge_collector(*, company_id: int) -> dict:
    from companies.models import Company

    company = Company.objects.get(pk=company_id)
    with Probe().measure() as probe:
        company.delete()
    return probe.as_dict()


def purge_raw(*, company_id: int) -> dict:
    from companies.models import Company

    with Probe().measure() as probe:
        with transaction.atomic():
            delete_cascading(Company, company_id)
    return probe.as_dict()


# --- 2. user erasure -------------------------------------------------------


def erase_collector(*, user_id: int) -> dict:
    from companies.models import User

    user = User.objects.get(pk=user_id)
    with Probe().measure() as probe:
        user.delete()
    return probe.as_dict()


def erase_service(*, user_id: int) -> dict:
    from companies.models import User
    from companies.services import user_erase

    user = User.objects.get(pk=user_id)
    with Probe().measure() as probe:
        user_erase(user=user)
    return probe.as_dict()


def erase_raw(*, user_id: int) -> dict:
    """The limit: find the affected channels, one DELETE cascading in the
    database, one set-based recompute of last_message_at."""
    from companies.models import User

    with Probe().measure() as probe:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT channel_id FROM chat_message WHERE author_id = %s", [user_id])
            channel_ids = [row[0] for row in cursor.fetchall()]
            delete_cascading(User, user_id)
            cursor.execute(
                """UPDATE chat_channel c SET last_message_at =
                       (SELECT max(m.created_at) FROM chat_message m WHERE m.channel_id = c.id)
                   WHERE c.id = ANY(%s)""",
                [channel_ids],
            )
    return probe.as_dict()


# --- 5. channel delete -----------------------------------------------------


def channel_delete_service(*, channel_id: int) -> dict:
    from chat.models import Channel
    from chat.services import channel_delete

    channel = Channel.objects.get(pk=channel_id)
    with Probe().measure() as probe:
        channel_delete(channel=channel)
    return probe.as_dict()


def channel_delete_collector(*, channel_id: int) -> dict:
    from chat.models import Channel

    channel = Channel.objects.get(pk=channel_id)
    with Probe().measure() as probe:
        channel.delete()
    return probe.as_dict()


def channel_delete_raw(*, channel_id: int) -> dict:
    from chat.models import Channel

    with Probe().measure() as probe:
        with transaction.atomic():
            delete_cascading(Channel, channel_id)
    return probe.as_dict()


# --- 3. message posting ----------------------------------------------------


def _post_service(channel_id: int, author_id: int, n: int, probe: Probe) -> None:
    from chat.models import Channel
    from chat.services import message_create
    from companies.models import User

    channel = Channel.objects.get(pk=channel_id)
    author = User.objects.get(pk=author_id)
    with probe.measure():
        for i in range(n):
            message_create(channel=channel, author=author, body=f"bench post {i} by {author_id}")


def _post_raw(channel_id: int, author_id: int, n: int, probe: Probe) -> None:
    """The limit: the insert and the two forward-only lifecycle UPDATEs the
    contract asks for, in one transaction per message. The channel's is the
    ``GREATEST`` form (it always takes the row lock, which the recompute on
    delete relies on: docs/lifecycle.md); the user's the WHERE-conditional
    one (``user_touch``)."""
    with connection.cursor() as cursor:  # the caller knows its tenant: not measured
        cursor.execute("SELECT company_id FROM chat_channel WHERE id = %s", [channel_id])
        (company_id,) = cursor.fetchone()
    with probe.measure():
        for i in range(n):
            now = timezone.now()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO chat_message (company_id, channel_id, author_id, parent_id, body, created_at,"
                    " edited_at) VALUES (%s, %s, %s, NULL, %s, %s, NULL) RETURNING id",
                    [company_id, channel_id, author_id, f"bench post {i} by {author_id}", now],
                )
                cursor.fetchone()
                cursor.execute(
                    "UPDATE chat_channel SET last_message_at = GREATEST(COALESCE(last_message_at, %s), %s)"
                    " WHERE id = %s",
                    [now, now, channel_id],
                )
                cursor.execute(
                    "UPDATE companies_user SET last_active = %s WHERE id = %s"
                    " AND (last_active IS NULL OR last_active < %s)",
                    [now, author_id, now],
                )


POSTERS = {"service": _post_service, "raw": _post_raw}


def post(*, kind: str, channel_id: int, author_id: int, n: int) -> dict:
    probe = Probe()
    POSTERS[kind](channel_id, author_id, n, probe)
    return probe.as_dict() | {"messages": n}


def _writer(kind, channel_id, author_id, n, barrier, results) -> None:
    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    barrier.wait()
    try:
        results.put(post(kind=kind, channel_id=channel_id, author_id=author_id, n=n))
    except BaseException as exc:  # reported by the parent
        results.put({"error": repr(exc)})
    finally:
        connection.close()


def post_concurrent(*, kind: str, channel_id: int, author_ids: list[int], n: int) -> dict:
    """``len(author_ids)`` processes (each its own connection) post ``n``
    messages each into the same channel, starting together."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(author_ids))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(kind, channel_id, author_id, n, barrier, results)) for author_id in author_ids
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    errors = [o["error"] for o in outcomes if "error" in o]
    if errors:
        raise RuntimeError(f"writers failed: {errors}")
    return {
        "wall_s": max(o["ended"] for o in outcomes) - min(o["started"] for o in outcomes),
        "queries": sum(o["queries"] for o in outcomes),
        "rss_growth_mb": max(o["rss_growth_mb"] for o in outcomes),
        "peak_exact": all(o["peak_exact"] for o in outcomes),
        "messages": n * len(author_ids),
        "writers": len(author_ids),
    }


# --- 4. message list page --------------------------------------------------


def _page_stats(latencies: list[float], queries: list[int]) -> dict:
    ordered = sorted(latencies)
    return {
        "pages": len(latencies),
        "page_mean_s": sum(latencies) / len(latencies),
        "page_p50_s": ordered[len(ordered) // 2],
        "page_max_s": ordered[-1],
        "queries_per_page": queries,
    }


def _walk_api(url: str, user_id: int, pages: int, seen_of) -> dict:
    """Walk ``pages`` pages of a list through the API from ``url``, in
    process (DRF's APIClient, ``force_authenticate``: no token lookup), with
    ``seen_of(item)`` of every item listed. The time of a page ends when its
    response is complete; reading its JSON back (the client's work, which
    the raw limit does not do) is not counted. Warm-up first, as a running
    server would be warm: the first two pages (lazy imports, URL resolver,
    the compiled queries of a first and a following page; and the first
    request of the user writes ``last_active``, throttled to once per
    ``LAST_ACTIVE_RESOLUTION``)."""
    from rest_framework.test import APIClient

    from companies.models import User

    client = APIClient()
    client.force_authenticate(user=User.objects.get(pk=user_id))
    following = client.get(url).json().get("next")
    if following:
        client.get(following)
    latencies, queries, items, seen = [], [], [], []
    with Probe().measure() as probe:
        while url and len(latencies) < pages:
            before = probe.queries
            t0 = time.perf_counter()
            response = client.get(url)
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} -> {response.status_code}: {response.content[:300]!r}")
            body = response.json()
            queries.append(probe.queries - before)
            items.append(len(body["results"]))
            seen += [seen_of(item) for item in body["results"]]
            url = body.get("next")
    return probe.as_dict() | _page_stats(latencies, queries) | {"items_per_page": items, "seen": seen}


def list_api(*, channel_id: int, user_id: int, pages: int) -> dict:
    """The channel's top-level messages through the API (``_walk_api``)."""
    return _walk_api(
        f"/api/channels/{channel_id}/messages/",
        user_id,
        pages,
        lambda m: (m["id"], m["reply_count"], len(m["reactions"])),
    )


def list_raw(*, channel_id: int, user_id: int, pages: int, page_size: int = 50) -> dict:
    """The limit: one keyset query per page, rows turned into the same JSON."""
    import base64
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from companies.models import User

    company_id = User.objects.values_list("company_id", flat=True).get(pk=user_id)
    columns = ["id", "channel", "author", "parent", "body", "created_at", "edited_at", "reply_count", "reactions"]
    start = (datetime(9999, 1, 1, tzinfo=UTC), 2**62)

    def page_after(key):
        with connection.cursor() as cursor:
            cursor.execute(RAW_PAGE_SQL, [channel_id, company_id, user_id, *key, page_size + 1])
            rows = cursor.fetchall()
        page = [dict(zip(columns, row)) for row in rows[:page_size]]
        for item in page:
            if isinstance(item["reactions"], str):
                item["reactions"] = json.loads(item["reactions"])
        more = len(rows) > page_size
        next_key = (page[-1]["created_at"], page[-1]["id"]) if more else None
        cursor_text = base64.urlsafe_b64encode(repr(next_key).encode()).decode() if more else None
        json.dumps({"next": cursor_text, "previous": None, "results": page}, cls=DjangoJSONEncoder)
        return page, next_key

    _, following = page_after(start)  # warm-up, like the API path: two pages
    if following is not None:
        page_after(following)
    latencies, queries, items, seen = [], [], [], []
    key = start
    with Probe().measure() as probe:
        while key is not None and len(latencies) < pages:
            before = probe.queries
            t0 = time.perf_counter()
            page, key = page_after(key)
            latencies.append(time.perf_counter() - t0)
            queries.append(probe.queries - before)
            items.append(len(page))
            seen += [(m["id"], m["reply_count"], len(m["reactions"])) for m in page]
    return probe.as_dict() | _page_stats(latencies, queries) | {"items_per_page": items, "seen": seen}


# --- 6. meeting list page ---------------------------------------------------


def meetings_api(*, user_id: int, pages: int) -> dict:
    """``GET /api/meetings/`` page by page (``_walk_api``)."""
    return _walk_api("/api/meetings/", user_id, pages, lambda g: (g["id"], len(g["participants"])))


#: The limit for one page of ``GET /api/meetings/`` (the meetings the caller
#: may see, by start time, with their participants, and the total the page
#: number pagination reports): one query, JSON built by the database, the
#: total from a window function.
RAW_MEETINGS_SQL = """
    SELECT g.id, g.title, g.description, g.starts_at, g.ends_at, g.channel_id, g.is_private,
           g.organizer_id, g.created_at,
           COALESCE((SELECT json_agg(json_build_object(
                         'user', p.user_id, 'response', p.response,
                         'joined_at', p.joined_at, 'left_at', p.left_at) ORDER BY p.id)
                     FROM meetings_meetingparticipant p WHERE p.meeting_id = g.id), '[]') AS participants,
           count(*) OVER () AS total
    FROM meetings_meeting g
    WHERE g.company_id = %(company)s
      AND (NOT g.is_private OR g.organizer_id = %(user)s
           OR EXISTS (SELECT 1 FROM meetings_meetingparticipant p
                      WHERE p.meeting_id = g.id AND p.user_id = %(user)s)
           OR EXISTS (SELECT 1 FROM chat_channelmembership cm
                      WHERE cm.channel_id = g.channel_id AND cm.user_id = %(user)s))
    ORDER BY g.starts_at, g.id
    LIMIT %(limit)s OFFSET %(offset)s
"""


def meetings_raw(*, user_id: int, pages: int, page_size: int = 50) -> dict:
    """The limit: one query per page (``OFFSET``, as the page numbers), rows
    turned into the same JSON."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from companies.models import User

    company_id = User.objects.values_list("company_id", flat=True).get(pk=user_id)
    columns = [
        "id",
        "title",
        "description",
        "starts_at",
        "ends_at",
        "channel",
        "is_private",
        "organizer",
        "created_at",
        "participants",
        "total",
    ]

    def page(number):
        params = {"company": company_id, "user": user_id, "limit": page_size, "offset": (number - 1) * page_size}
        with connection.cursor() as cursor:
            cursor.execute(RAW_MEETINGS_SQL, params)
            rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
        total = rows[0].pop("total") if rows else 0
        for item in rows:
            item.pop("total", None)
            if isinstance(item["participants"], str):
                item["participants"] = json.loads(item["participants"])
        more = number * page_size < total
        next_url = f"/api/meetings/?page={number + 1}" if more else None
        json.dumps({"count": total, "next": next_url, "previous": None, "results": rows}, cls=DjangoJSONEncoder)
        return rows, more

    return _walk_raw(page, pages=pages, seen_of=lambda g: (g["id"], len(g["participants"])))


# --- 7. channel list with unread counts --------------------------------------


def channels_api(*, user_id: int, pages: int) -> dict:
    """``GET /api/channels/`` page by page (``_walk_api``)."""
    from django.utils.dateparse import parse_datetime

    def seen_of(c):
        read = c["last_read_at"] and parse_datetime(c["last_read_at"]).isoformat()
        return (c["id"], read, c["unread_count"], c["has_unread"])

    return _walk_api("/api/channels/", user_id, pages, seen_of)


#: The limit for one page of ``GET /api/channels/`` (the channels the caller
#: may see, by name, with their read state, and the total the page number
#: pagination reports): one query. The page (and the total, from a window
#: function) is picked first, so that the unread counts are computed for the
#: page's channels only; each count walks the (channel, -created_at, -id)
#: index from the caller's read mark.
RAW_CHANNELS_SQL = """
    SELECT p.id, p.name, p.topic, p.is_private, p.created_by_id, p.created_at, p.last_message_at,
           p.is_member, p.last_read_at, u.n AS unread_count, u.n > 0 AS has_unread, p.total
    FROM (SELECT c.id, c.name, c.topic, c.is_private, c.created_by_id, c.created_at, c.last_message_at,
                 cm.id IS NOT NULL AS is_member, cm.last_read_at,
                 GREATEST(cm.joined_at, cm.last_read_at) AS read_mark,
                 count(*) OVER () AS total
          FROM chat_channel c
          LEFT JOIN chat_channelmembership cm ON cm.channel_id = c.id AND cm.user_id = %(user)s
          WHERE c.company_id = %(company)s AND (NOT c.is_private OR cm.id IS NOT NULL)
          ORDER BY c.name, c.id
          LIMIT %(limit)s OFFSET %(offset)s) p
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM chat_message m
                        WHERE m.channel_id = p.id AND m.created_at > p.read_mark
                          AND m.author_id <> %(user)s) u
    ORDER BY p.name, p.id
"""


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def channels_raw(*, user_id: int, pages: int, page_size: int = 50) -> dict:
    """The limit: one query per page (``OFFSET``, as the page numbers), rows
    turned into the same JSON."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from companies.models import User

    company_id = User.objects.values_list("company_id", flat=True).get(pk=user_id)
    columns = [
        "id",
        "name",
        "topic",
        "is_private",
        "created_by",
        "created_at",
        "last_message_at",
        "is_member",
        "last_read_at",
        "unread_count",
        "has_unread",
        "total",
    ]

    def page(number):
        params = {"company": company_id, "user": user_id, "limit": page_size, "offset": (number - 1) * page_size}
        with connection.cursor() as cursor:
            cursor.execute(RAW_CHANNELS_SQL, params)
            rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
        total = rows[0]["total"] if rows else 0
        for item in rows:
            del item["total"]
        more = number * page_size < total
        next_url = f"/api/channels/?page={number + 1}" if more else None
        json.dumps({"count": total, "next": next_url, "previous": None, "results": rows}, cls=DjangoJSONEncoder)
        return rows, more

    return _walk_raw(
        page,
        pages=pages,
        seen_of=lambda c: (
            c["id"],
            c["last_read_at"] and _utc(c["last_read_at"]).isoformat(),
            c["unread_count"],
            c["has_unread"],
        ),
    )


def _walk_raw(page, *, pages: int, seen_of) -> dict:
    """The raw limit of a page-numbered list: ``page(number) -> (rows, more)``
    walked from page 1 (after warming up with pages 1 and 2, like the API
    path), timed per page; ``seen_of(row)`` is what the correctness check
    compares."""
    if page(1)[1]:
        page(2)
    latencies, queries, items, seen = [], [], [], []
    number, more = 1, True
    with Probe().measure() as probe:
        while more and len(latencies) < pages:
            before = probe.queries
            t0 = time.perf_counter()
            rows, more = page(number)
            latencies.append(time.perf_counter() - t0)
            queries.append(probe.queries - before)
            items.append(len(rows))
            seen += [seen_of(row) for row in rows]
            number += 1
    return probe.as_dict() | _page_stats(latencies, queries) | {"items_per_page": items, "seen": seen}


PATHS = {
    "purge_service": purge_service,
    "purge_collector": purge_collector,
    "purge_raw": purge_raw,
    "erase_collector": erase_collector,
    "erase_service": erase_service,
    "erase_raw": erase_raw,
    "channel_delete_service": channel_delete_service,
    "channel_delete_collector": channel_delete_collector,
    "channel_delete_raw": channel_delete_raw,
    "post": post,
    "post_concurrent": post_concurrent,
    "list_api": list_api,
    "list_raw": list_raw,
    "meetings_api": meetings_api,
    "meetings_raw": meetings_raw,
    "channels_api": channels_api,
    "channels_raw": channels_raw,
}

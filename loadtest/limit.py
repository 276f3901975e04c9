"""The serving limit phase of `make loadtest` (docs/operations.md, "Load
test"): throughput per core of ``GET /api/channels/{id}/messages/`` (the first
page of a busy channel) next to the raw-SQL view that returns the same page
(loadtest/serving_limit.py), served by the same gunicorn.

Each URL in turn (limit, API, limit, API), a closed loop of a few concurrent
clients for a few seconds; the CPU seconds of the gunicorn process group and
of the PostgreSQL backends are sampled around each turn (the caller's
``sample``/``used``, loadtest/run.py). Requests per CPU second is what one
fully used core would serve: the machine's other load (and the load client's
own CPU) does not enter it, unlike the requests per wall second.
"""

import asyncio
import json
import time
from collections import defaultdict

import aiohttp

from loadtest.seed import EMOJIS, Tenant
from loadtest.serving_limit import LIMIT_PATH, PAGE_SIZE

API_PATH = "/api/channels/{id}/messages/"


def busy_channel(tenants: list[Tenant], purged_index: int | None) -> tuple[int, int, str]:
    """The public channel of a surviving tenant with the most top-level
    messages, topped up to more than a page (the seeding leaves fewer), and
    the token of one of its chatters: ``(channel id, top-level messages,
    token)``."""
    from django.db.models import Count

    from chat.models import Channel, Message
    from chat.services import message_create, reaction_add
    from companies.models import User

    survivors = [t for t in tenants if t.index != purged_index]
    public = [cid for t in survivors for cid, info in t.channels.items() if not info["private"]]
    row = (
        Message.objects.filter(channel_id__in=public, parent__isnull=True)
        .values("channel_id")
        .annotate(n=Count("id"))
        .order_by("-n", "channel_id")
        .first()
    )
    channel_id, count = (row["channel_id"], row["n"]) if row else (public[0], 0)
    tenant = next(t for t in survivors if channel_id in t.channels)
    channel = Channel.objects.get(pk=channel_id)
    people = list(User.objects.filter(pk__in=[u.id for u in tenant.users]).order_by("pk"))
    for n in range(count, PAGE_SIZE + 10):
        message = message_create(channel=channel, author=people[n % len(people)], body=f"serving limit {n}")
        if n % 3 == 0:
            reaction_add(message=message, user=people[(n + 1) % len(people)], emoji=EMOJIS[n % len(EMOJIS)])
    token = next(u.token for u in tenant.users if u.role == "chatter" and u.token)
    return channel_id, max(count, PAGE_SIZE + 10), token


async def _get(url: str, headers: dict) -> tuple[int, object]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.get(url, headers=headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text


async def _closed_loop(url: str, headers: dict, seconds: float, clients: int) -> dict:
    """``clients`` concurrent closed loops on ``url`` for ``seconds``."""
    statuses: dict[int, int] = defaultdict(int)
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.monotonic()
        deadline = started + seconds

        async def client():
            while time.monotonic() < deadline:
                try:
                    async with session.get(url, headers=headers) as response:
                        await response.read()
                        statuses[response.status] += 1
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    statuses[0] += 1

        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.monotonic() - started
    return {"statuses": dict(statuses), "elapsed": elapsed}


def compare_pages(limit_page: object, api_page: object) -> dict:
    """The check that both URLs return the same page: the same ids in the
    same order (and whether the whole bodies are equal)."""

    def ids(page):
        if not isinstance(page, dict):
            return None
        return [item.get("id") for item in page.get("results", [])]

    limit_ids, api_ids = ids(limit_page), ids(api_page)
    return {
        "same_ids": limit_ids is not None and limit_ids == api_ids,
        "ids": len(api_ids or []),
        "identical_bodies": limit_page == api_page,
    }


def measure(
    base_url: str,
    *,
    channel_id: int,
    token: str,
    seconds: float,
    clients: int,
    sample,
    used,
    rounds: int = 2,
) -> dict:
    """Interleaved closed loops on the limit and the API; ``sample()`` and
    ``used(before, after)`` give the CPU seconds (``app_s``, ``db_s``)."""
    headers = {"Authorization": f"Token {token}", "X-Forwarded-Proto": "https"}
    urls = {
        "limit": base_url + LIMIT_PATH.format(id=channel_id),
        "api": base_url + API_PATH.format(id=channel_id),
    }
    limit_status, limit_page = asyncio.run(_get(urls["limit"], headers))
    api_status, api_page = asyncio.run(_get(urls["api"], headers))
    check = compare_pages(limit_page, api_page) | {"statuses": {"limit": limit_status, "api": api_status}}
    check["ok"] = check["same_ids"] and limit_status == api_status == 200 and check["ids"] > 0

    for url in urls.values():  # warm-up: every worker has imported and run both paths
        asyncio.run(_closed_loop(url, headers, min(1.0, seconds / 3), clients))
    totals = {name: {"requests": 0, "errors": 0, "seconds": 0.0, "app_s": 0.0, "db_s": 0.0} for name in urls}
    for _ in range(rounds):
        for name, url in urls.items():
            before = sample()
            turn = asyncio.run(_closed_loop(url, headers, seconds, clients))
            cpu = used(before, sample())
            entry = totals[name]
            entry["requests"] += turn["statuses"].get(200, 0)
            entry["errors"] += sum(n for status, n in turn["statuses"].items() if status != 200)
            entry["seconds"] += turn["elapsed"]
            entry["app_s"] += cpu["app_s"]
            entry["db_s"] += cpu["db_s"]
    for entry in totals.values():
        requests, server_cpu = entry["requests"], entry["app_s"] + entry["db_s"]
        entry["rps"] = round(requests / entry["seconds"], 1) if entry["seconds"] else 0.0
        entry["app_ms_per_request"] = round(entry["app_s"] * 1000 / requests, 2) if requests else None
        entry["db_ms_per_request"] = round(entry["db_s"] * 1000 / requests, 2) if requests else None
        entry["rps_per_core"] = round(requests / server_cpu, 1) if requests and server_cpu else None
        entry["seconds"] = round(entry["seconds"], 2)
        entry["app_s"], entry["db_s"] = round(entry["app_s"], 2), round(entry["db_s"], 2)
    limit, api = totals["limit"], totals["api"]
    ratio = {
        "rps": round(api["rps"] / limit["rps"], 2) if limit["rps"] else None,
        "rps_per_core": round(api["rps_per_core"] / limit["rps_per_core"], 2)
        if api["rps_per_core"] and limit["rps_per_core"]
        else None,
    }
    return {
        "channel": channel_id,
        "page_items": check["ids"],
        "clients": clients,
        "rounds": rounds,
        "seconds_per_turn": seconds,
        "paths": {"limit": LIMIT_PATH, "api": API_PATH},
        "limit": limit,
        "api": api,
        "api_over_limit": ratio,
        "same_page": check,
    }


def table(result: dict) -> str:
    rows = [
        f"{'':<28} {'requests':>8} {'req/s':>7} {'app ms/req':>10} {'db ms/req':>9} {'req/s per core':>14}",
    ]
    for name, label in (("limit", "raw SQL view (the limit)"), ("api", "API")):
        e = result[name]
        rows.append(
            f"{label:<28} {e['requests']:>8} {e['rps']:>7.1f} {e['app_ms_per_request'] or 0:>10.2f} "
            f"{e['db_ms_per_request'] or 0:>9.2f} {e['rps_per_core'] or 0:>14.1f}"
            + (f"  errors: {e['errors']}" if e["errors"] else "")
        )
    ratio = result["api_over_limit"]
    rows.append(
        f"{'API / limit':<28} {'':>8} {ratio['rps'] or 0:>7.2f} {'':>10} {'':>9} {ratio['rps_per_core'] or 0:>14.2f}"
    )
    return "\n".join(rows)

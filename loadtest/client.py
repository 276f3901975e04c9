"""The virtual users: one asyncio task each, sharing one aiohttp session.

Each virtual user picks a weighted action, sends its request(s) one at a
time, waits for each answer, and writes down in the journal what the server
acknowledged (201/200/204). The journal is the oracle of the database checks
in verify.py: a write the API acknowledged must be in the database unless it
was deliberately undone.

With an offered rate (LOADTEST_RATE > 0) every request of a user waits for
the next send time of its schedule (loadtest/schedule.py: its share of the
rate, exponential gaps), or goes at once when that time has passed, and its
latency counts from the scheduled time; the service time (from the moment it
was sent) is recorded too. With a rate of 0 each user is a closed loop
without think time, and the two are the same.
"""

import asyncio
import itertools
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

import aiohttp

from loadtest.schedule import Schedule, latencies, send_delay, user_rate
from loadtest.seed import ADMIN_PASSWORD, EMOJIS, SeededUser, Tenant

RESPONSES = ["accepted", "declined", "tentative"]
TRANSPORT_ERROR = 0  # status recorded when no HTTP answer came back


class Stats:
    """Latency, service time and status of every request, by endpoint (a path
    template). The latency counts from the scheduled start (from the moment
    the request was sent without a schedule), the service time from the
    moment it was sent."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.service: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.error_samples: list[str] = []
        #: every request: (start, time.monotonic(), scheduled if on a
        #: schedule; latency s; endpoint; status; service time s)
        self.requests: list[tuple[float, float, str, int, float]] = []
        #: requests sent on a schedule, and scheduled ones left unsent at the end
        self.scheduled = 0
        self.dropped = 0
        #: how late the client itself sent the requests it had waited for
        #: (event loop wake-up: counted in the latency, not the server's doing)
        self.wake_lags: list[float] = []

    def add(
        self,
        endpoint: str,
        status: int,
        seconds: float,
        detail: str = "",
        start: float = 0.0,
        service: float | None = None,
    ) -> None:
        service = seconds if service is None else service
        self.requests.append((start, seconds, endpoint, status, service))
        self.latencies[endpoint].append(seconds)
        self.service[endpoint].append(service)
        self.statuses[endpoint][status] += 1
        if (status >= 500 or status == TRANSPORT_ERROR) and len(self.error_samples) < 20:
            self.error_samples.append(f"{endpoint} -> {status or 'transport error'} {detail[:300]}")


@dataclass
class Journal:
    """What the server acknowledged, and what it answered unclearly."""

    messages_created: dict[int, dict] = field(default_factory=dict)  # id -> tenant, channel, parent
    messages_deleted: set[int] = field(default_factory=set)  # 204
    messages_unclear: int = 0  # POST without a clear answer: may or may not exist
    deletes_unclear: set[int] = field(default_factory=set)
    reactions_added: dict[tuple[int, int, str], int] = field(default_factory=dict)  # -> tenant
    reactions_removed: set[tuple[int, int, str]] = field(default_factory=set)
    reactions_unclear: set[tuple[int, int, str]] = field(default_factory=set)
    rsvps: dict[tuple[int, int], str] = field(default_factory=dict)  # last acknowledged
    rsvps_unclear: set[tuple[int, int]] = field(default_factory=set)
    check_ins: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # user -> 201s
    checked_in: dict[int, bool] = field(default_factory=dict)  # user -> last acknowledged state
    attendance_unclear: set[int] = field(default_factory=set)
    memberships: dict[tuple[int, int], bool] = field(default_factory=dict)  # last acknowledged
    memberships_unclear: set[tuple[int, int]] = field(default_factory=set)
    logins: int = 0


class Context:
    def __init__(self, base_url: str, tenants: list[Tenant], seed: int, rate: float = 0.0) -> None:
        self.base_url = base_url
        #: requests per second offered by all virtual users together (0: closed loops)
        self.rate = rate
        self.user_rate = 0.0  # each user's share, set by drive()
        self.tenants = tenants
        self.stats = Stats()
        self.journal = Journal()
        self.rng = random.Random(seed)
        self.purge_tenant: int | None = None  # index, set when the purge starts
        self.counter = itertools.count()
        self.unexpected: dict[str, int] = defaultdict(int)  # e.g. 401 outside the purged tenant


class VirtualUser:
    def __init__(self, ctx: Context, session: aiohttp.ClientSession, tenant: Tenant, user: SeededUser):
        self.ctx = ctx
        self.session = session
        self.tenant = tenant
        self.user = user
        seed = ctx.rng.random()
        self.rng = random.Random(seed)  # the action mix
        self.arrivals_seed = f"arrivals {seed!r}"  # the schedule: the same mix with or without one
        self.schedule: Schedule | None = None
        self.headers = {
            # The server sits behind a TLS-terminating proxy in production.
            "X-Forwarded-Proto": "https",
        }
        if user.token:
            self.headers["Authorization"] = f"Token {user.token}"
        self.known: dict[int, list[int]] = {
            cid: [mid for mid, c in tenant.messages.items() if c == cid][-30:] for cid in user.channels
        }
        self.own: list[tuple[int, int]] = []  # (channel, message) this user created
        self.own_reactions: list[tuple[int, str]] = []
        self.checked_in = False
        self.left: set[int] = set()
        self.stopped = False

    # --- HTTP -----------------------------------------------------------
    async def call(
        self, method: str, path: str, endpoint: str, body=None, on_schedule: bool = True
    ) -> tuple[int, object]:
        stats = self.ctx.stats
        scheduled = None
        if self.schedule is not None and on_schedule:
            scheduled = self.schedule.take()
            stats.scheduled += 1
            delay = send_delay(scheduled, time.monotonic())
            if delay:
                await asyncio.sleep(delay)
                stats.wake_lags.append(time.monotonic() - scheduled)
        sent = time.monotonic()
        detail = ""
        try:
            async with self.session.request(
                method, self.ctx.base_url + path, json=body, headers=self.headers
            ) as response:
                status = response.status
                text = await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            status, text, detail = TRANSPORT_ERROR, "", repr(exc)
        latency, service = latencies(scheduled, sent, time.monotonic())
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = text
        if status >= 500:
            detail = str(data)
        start = sent if scheduled is None else min(scheduled, sent)
        stats.add(endpoint, status, latency, detail, start=start, service=service)
        if status == 401:
            if self.ctx.purge_tenant == self.tenant.index:
                self.stopped = True  # purged: the token is gone with the user
            else:
                self.ctx.unexpected[f"401 {endpoint}"] += 1
        return status, data

    def unclear(self, status: int) -> bool:
        return status == TRANSPORT_ERROR or status >= 500

    # --- actions --------------------------------------------------------
    async def login(self) -> None:
        # Logins that find the server's password-hashing slots busy get 429
        # with Retry-After (workspace/login_slots.py): wait and retry, as a
        # real client does, a bounded number of times.
        for _ in range(30):
            status, data = await self.call(
                "POST",
                "/api/auth/token/",
                "POST /api/auth/token/",
                body={"username": self.user.username, "password": ADMIN_PASSWORD},
                on_schedule=False,  # setting up: the schedule starts after the login
            )
            if status != 429:
                break
            await asyncio.sleep(1)
        if status == 200 and isinstance(data, dict) and data.get("token"):
            self.headers["Authorization"] = f"Token {data['token']}"
            self.ctx.journal.logins += 1
        else:
            self.stopped = True

    def channel(self) -> int:
        choices = [c for c in self.user.channels if c not in self.left]
        return self.rng.choice(choices or self.user.channels)

    def known_message(self, channel: int) -> int | None:
        known = self.known.get(channel)
        return self.rng.choice(known) if known else None

    async def list_channels(self) -> None:
        await self.call("GET", "/api/channels/", "GET /api/channels/")

    async def me(self) -> None:
        await self.call("GET", "/api/me/", "GET /api/me/")

    async def list_messages(self) -> None:
        channel = self.channel()
        status, data = await self.call("GET", f"/api/channels/{channel}/messages/", "GET /api/channels/{id}/messages/")
        if status == 200 and isinstance(data, dict):
            ids = [item["id"] for item in data.get("results", []) if "id" in item]
            if ids:
                self.known[channel] = ids[:30]
            if data.get("next") and self.rng.random() < 0.25:
                next_url = data["next"]
                path = next_url[next_url.index("/api/") :]
                await self.call("GET", path, "GET /api/channels/{id}/messages/?cursor")

    async def post(self, reply: bool = False) -> None:
        channel = self.channel()
        parent = self.known_message(channel) if reply else None
        body = {"body": f"load message {next(self.ctx.counter)} from {self.user.username}"}
        if parent is not None:
            body["parent"] = parent
        endpoint = "POST /api/channels/{id}/messages/" + (" (reply)" if parent else "")
        status, data = await self.call("POST", f"/api/channels/{channel}/messages/", endpoint, body=body)
        if status == 201 and isinstance(data, dict):
            self.ctx.journal.messages_created[data["id"]] = {
                "tenant": self.tenant.index,
                "channel": channel,
                "parent": parent,
            }
            self.known.setdefault(channel, []).insert(0, data["id"])
            self.own.append((channel, data["id"]))
        elif self.unclear(status):
            self.ctx.journal.messages_unclear += 1

    async def reply(self) -> None:
        await self.post(reply=True)

    async def react(self) -> None:
        message = self.known_message(self.channel())
        if message is None:
            return
        emoji = self.rng.choice(EMOJIS)
        key = (message, self.user.id, emoji)
        status, _ = await self.call(
            "POST",
            f"/api/messages/{message}/reactions/",
            "POST /api/messages/{id}/reactions/",
            body={"emoji": emoji},
        )
        if status == 201:
            self.ctx.journal.reactions_added[key] = self.tenant.index
            self.ctx.journal.reactions_removed.discard(key)
            self.own_reactions.append((message, emoji))
        elif self.unclear(status):
            self.ctx.journal.reactions_unclear.add(key)

    async def unreact(self) -> None:
        if not self.own_reactions:
            return await self.react()
        message, emoji = self.own_reactions.pop(self.rng.randrange(len(self.own_reactions)))
        key = (message, self.user.id, emoji)
        status, _ = await self.call(
            "DELETE",
            f"/api/messages/{message}/reactions/{emoji}/",
            "DELETE /api/messages/{id}/reactions/{emoji}/",
        )
        if status == 204:
            self.ctx.journal.reactions_removed.add(key)
        elif self.unclear(status):
            self.ctx.journal.reactions_unclear.add(key)

    async def list_meetings(self) -> None:
        await self.call("GET", "/api/meetings/", "GET /api/meetings/")

    async def rsvp(self) -> None:
        meeting = self.rng.choice(self.tenant.meetings)
        response = self.rng.choice(RESPONSES)
        status, _ = await self.call(
            "POST",
            f"/api/meetings/{meeting}/rsvp/",
            "POST /api/meetings/{id}/rsvp/",
            body={"response": response},
        )
        key = (meeting, self.user.id)
        if status == 200:
            self.ctx.journal.rsvps[key] = response
        elif self.unclear(status):
            self.ctx.journal.rsvps_unclear.add(key)

    async def attendance(self) -> None:
        if self.rng.random() < 0.3:
            await self.call("GET", "/api/attendance/", "GET /api/attendance/")
            return
        journal = self.ctx.journal
        if self.checked_in:
            status, _ = await self.call("POST", "/api/attendance/check-out/", "POST /api/attendance/check-out/")
            if status == 200:
                self.checked_in = False
                journal.checked_in[self.user.id] = False
        else:
            status, _ = await self.call("POST", "/api/attendance/check-in/", "POST /api/attendance/check-in/")
            if status == 201:
                self.checked_in = True
                journal.checked_in[self.user.id] = True
                journal.check_ins[self.user.id] += 1
        if self.unclear(status):
            journal.attendance_unclear.add(self.user.id)

    async def delete_message(self, *, own: bool) -> None:
        if own:
            if not self.own:
                return await self.post()
            channel, message = self.own.pop(self.rng.randrange(len(self.own)))
        else:
            channel = self.channel()
            message = self.known_message(channel)
            if message is None:
                return await self.list_messages()
        status, _ = await self.call("DELETE", f"/api/messages/{message}/", "DELETE /api/messages/{id}/")
        if status == 204:
            self.ctx.journal.messages_deleted.add(message)
        elif self.unclear(status):
            self.ctx.journal.deletes_unclear.add(message)
        if message in self.known.get(channel, []):
            self.known[channel].remove(message)

    async def delete_any(self) -> None:
        await self.delete_message(own=False)

    async def delete_own(self) -> None:
        await self.delete_message(own=True)

    async def toggle_membership(self) -> None:
        public = [c for c in self.user.channels if not self.tenant.channels[c]["private"]]
        channel = self.rng.choice(public)
        key = (channel, self.user.id)
        if channel in self.left:
            status, _ = await self.call(
                "POST",
                f"/api/channels/{channel}/members/",
                "POST /api/channels/{id}/members/",
                body={"user": self.user.id},
            )
            if status == 201:
                self.left.discard(channel)
                self.ctx.journal.memberships[key] = True
        else:
            status, _ = await self.call(
                "DELETE",
                f"/api/channels/{channel}/members/{self.user.id}/",
                "DELETE /api/channels/{id}/members/{user_id}/",
            )
            if status == 204:
                self.left.add(channel)
                self.ctx.journal.memberships[key] = False
        if self.unclear(status):
            self.ctx.journal.memberships_unclear.add(key)

    # --- the loop -------------------------------------------------------
    def actions(self):
        role = self.user.role
        if role == "admin":  # reads and deletes anyone's messages
            return [(self.list_messages, 6), (self.delete_any, 2), (self.list_channels, 1), (self.me, 1)]
        if role == "leaver":  # reads, leaves and rejoins channels
            return [
                (self.list_messages, 4),
                (self.toggle_membership, 2),
                (self.list_channels, 2),
                (self.rsvp, 1),
                (self.attendance, 1),
            ]
        return [
            (self.list_channels, 8),
            (self.list_messages, 16),
            (self.post, 10),
            (self.reply, 4),
            (self.react, 6),
            (self.unreact, 1),
            (self.delete_own, 1),
            (self.list_meetings, 3),
            (self.rsvp, 4),
            (self.attendance, 4),
            (self.me, 2),
        ]

    async def run(self, deadline: float) -> None:
        if self.user.role == "admin":
            await self.login()
        if self.ctx.user_rate > 0:
            self.schedule = Schedule(random.Random(self.arrivals_seed), self.ctx.user_rate, time.monotonic())
        actions, weights = zip(*self.actions())
        while not self.stopped and time.monotonic() < deadline:
            if self.schedule is not None and self.schedule.peek() >= deadline:
                break
            action = self.rng.choices(actions, weights)[0]
            await action()
        if self.schedule is not None and not self.stopped:
            # Sends the server was too slow to let this user make in time
            # (none when it keeps up): reported, not measured.
            self.ctx.stats.dropped += self.schedule.skip_until(deadline)


async def drive(ctx: Context, *, seconds: float, purge) -> dict:
    """Run every virtual user until the deadline (with a rate: until its next
    scheduled send is past it); call ``purge()`` (a coroutine function)
    halfway through. Returns timings."""
    timeout = aiohttp.ClientTimeout(total=60)
    users = sum(len(t.users) for t in ctx.tenants)
    connector = aiohttp.TCPConnector(limit=users, force_close=False)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.monotonic()
        deadline = started + seconds
        vus = [VirtualUser(ctx, session, t, u) for t in ctx.tenants for u in t.users]
        ctx.user_rate = user_rate(ctx.rate, len(vus))

        async def purge_midway():
            await asyncio.sleep(seconds / 2)
            return await purge()

        results = await asyncio.gather(purge_midway(), *(vu.run(deadline) for vu in vus))
        elapsed = time.monotonic() - started
    return {"elapsed": elapsed, "purge": results[0], "virtual_users": len(vus)}

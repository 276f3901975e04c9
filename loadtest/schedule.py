"""The offered load of `make loadtest` as a rate (LOADTEST_RATE), and the
latency measured without coordinated omission (docs/operations.md, "Load
test").

A closed loop without think time offers no fixed load: each client sends its
next request when the previous answer comes back, so the latency it measures
is the queue its own clients make (Little's law: clients / throughput). With
a rate, each virtual user has a schedule of intended send times, a Poisson
process of its share of the rate (exponential gaps from a seeded generator:
the same schedule on every run). A user still sends one request at a time:
when its previous answer comes back late, it sends the next request at once,
and that request's latency counts from its *scheduled* start, so the time it
waited for the server to catch up is not lost (as wrk2 measures).

Pure functions, no I/O: tested in loadtest/tests/test_schedule.py.
"""

import random


class Schedule:
    """One virtual user's intended send times: a Poisson process of ``rate``
    requests per second from ``start`` (the first one after an exponential
    gap too, so that users do not all start at once)."""

    def __init__(self, rng: random.Random, rate: float, start: float) -> None:
        if rate <= 0:
            raise ValueError("a schedule needs a positive rate")
        self.rng = rng
        self.rate = rate
        self.next_at = start + rng.expovariate(rate)

    def peek(self) -> float:
        """The next intended send time, not taken."""
        return self.next_at

    def take(self) -> float:
        """The next intended send time; the one after it becomes next."""
        at = self.next_at
        self.next_at += self.rng.expovariate(self.rate)
        return at

    def skip_until(self, deadline: float) -> int:
        """Drop the intended sends before ``deadline`` (the run is over):
        how many there were."""
        dropped = 0
        while self.next_at < deadline:
            self.take()
            dropped += 1
        return dropped


def arrival_times(seed: object, rate: float, start: float, until: float) -> list[float]:
    """The intended send times of a schedule before ``until``."""
    schedule = Schedule(random.Random(seed), rate, start)
    times = []
    while schedule.peek() < until:
        times.append(schedule.take())
    return times


def user_rate(total_rate: float, users: int) -> float:
    """Each virtual user's share of the offered rate."""
    return total_rate / users if users else 0.0


def send_delay(scheduled: float, now: float) -> float:
    """How long to wait before sending: until the scheduled time, or not at
    all when it has passed (the server was late)."""
    return max(0.0, scheduled - now)


def latencies(scheduled: float | None, sent: float, finished: float) -> tuple[float, float]:
    """``(latency, service time)`` of one request: the service time runs from
    the moment it was sent, the latency from its scheduled start (from when it
    was sent too without a schedule, or when it was sent early)."""
    service = finished - sent
    start = sent if scheduled is None else min(scheduled, sent)
    return finished - start, service

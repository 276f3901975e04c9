"""The offered rate's schedule and the latency from the scheduled start
(loadtest/schedule.py): pure functions, no server."""

import random
import statistics

import pytest

from loadtest.schedule import Schedule, arrival_times, latencies, send_delay, user_rate


def test_the_same_seed_gives_the_same_schedule():
    assert arrival_times("arrivals 0.5", 4.0, 100.0, 110.0) == arrival_times("arrivals 0.5", 4.0, 100.0, 110.0)
    assert arrival_times("arrivals 0.5", 4.0, 100.0, 110.0) != arrival_times("arrivals 0.6", 4.0, 100.0, 110.0)


def test_send_times_increase_from_the_start_and_stop_before_the_end():
    times = arrival_times(7, 10.0, 50.0, 60.0)
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert 50.0 < times[0] and times[-1] < 60.0  # the first one after a gap too: users do not start together


def test_gaps_are_exponential_with_the_user_s_share_of_the_rate():
    rate = user_rate(80, 24)
    assert rate == pytest.approx(80 / 24)
    times = arrival_times(7, rate, 0.0, 6000.0)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) / 6000.0 == pytest.approx(rate, rel=0.05)
    assert statistics.fmean(gaps) == pytest.approx(1 / rate, rel=0.05)
    # exponential: the standard deviation equals the mean, and a gap is
    # shorter than the mean about 1 - 1/e of the time
    assert statistics.stdev(gaps) == pytest.approx(1 / rate, rel=0.1)
    assert sum(g < 1 / rate for g in gaps) / len(gaps) == pytest.approx(1 - 1 / 2.718281828, abs=0.03)


def test_a_schedule_does_not_wait_for_the_server():
    """The send times are fixed in advance: taking them late (the server was
    slow) does not shift the ones after."""
    schedule = Schedule(random.Random(3), 2.0, 0.0)
    planned = arrival_times(3, 2.0, 0.0, 1000.0)[:5]
    taken = [schedule.take() for _ in range(5)]
    assert taken == planned
    assert schedule.peek() == arrival_times(3, 2.0, 0.0, 1000.0)[5]


def test_unsent_sends_are_counted_at_the_end():
    schedule = Schedule(random.Random(3), 2.0, 0.0)
    expected = len(arrival_times(3, 2.0, 0.0, 30.0))
    assert schedule.skip_until(30.0) == expected
    assert schedule.peek() >= 30.0
    assert schedule.skip_until(30.0) == 0


def test_a_schedule_needs_a_rate():
    with pytest.raises(ValueError):
        Schedule(random.Random(1), 0, 0.0)
    assert user_rate(80, 0) == 0.0


def test_send_at_the_scheduled_time_or_at_once_when_late():
    assert send_delay(scheduled=10.0, now=9.75) == pytest.approx(0.25)
    assert send_delay(scheduled=10.0, now=10.0) == 0.0
    assert send_delay(scheduled=10.0, now=12.0) == 0.0  # late: at once


def test_latency_counts_from_the_scheduled_start():
    # on time: latency and service time are the same
    assert latencies(scheduled=10.0, sent=10.0, finished=10.05) == pytest.approx((0.05, 0.05))
    # the previous answer came 0.3 s late: sent at once, and the wait counts
    assert latencies(scheduled=10.0, sent=10.3, finished=10.35) == pytest.approx((0.35, 0.05))
    # no schedule (closed loop, or the login before it): from the send
    assert latencies(scheduled=None, sent=10.3, finished=10.35) == pytest.approx((0.05, 0.05))

"""Reconnect waits: exponential windows with full jitter, capped, a server's hint as a
floor, and a reset after a connection that lasted."""

from __future__ import annotations

import random

from gitwrite_desktop.core.sync.backoff import Backoff


def test_windows_double_up_to_the_cap_and_waits_stay_inside_them() -> None:
    backoff = Backoff(base=0.5, cap=8.0, rng=random.Random(7))
    windows = []
    for _ in range(8):
        window = backoff.window()
        delay = backoff.next_delay()
        assert 0 <= delay <= window
        windows.append(window)
    assert windows == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]


def test_full_jitter_spreads_clients_that_failed_together() -> None:
    delays = [
        Backoff(base=1.0, cap=60.0, failures=5, rng=random.Random(n)).next_delay()
        for n in range(200)
    ]
    assert min(delays) < 4 and max(delays) > 28  # the whole 0..32 s window is used
    assert len({round(d, 3) for d in delays}) > 190


def test_the_servers_hint_is_a_floor_with_jitter_above_it() -> None:
    backoff = Backoff(base=0.5, cap=60.0, rng=random.Random(3))
    delays = [backoff.next_delay(hint=2.0) for _ in range(10)]
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) == 10


def test_a_connection_that_lasted_resets_the_count_a_short_one_does_not() -> None:
    backoff = Backoff(base=1.0, cap=60.0, stable=30.0, rng=random.Random(1))
    for _ in range(4):
        backoff.next_delay()
    backoff.connected_for(2.0)  # up for two seconds: still failing
    assert backoff.window() == 16.0
    backoff.connected_for(45.0)
    assert backoff.window() == 1.0


def test_a_week_offline_never_waits_longer_than_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=60.0, rng=random.Random(2))
    waits = [backoff.next_delay() for _ in range(10_000)]  # a week of failures, and more
    assert max(waits) <= 60.0
    assert backoff.window() == 60.0

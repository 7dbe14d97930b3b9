"""Folding bursts: one run at a time, requests during a run folded into one next run, a
settle time that waits for quiet but never past ``max_wait``."""

from __future__ import annotations

import asyncio
import time

import pytest

from gitwrite_desktop.core.sync.debounce import Coalescer

pytestmark = pytest.mark.anyio

SLACK = 0.2
"""Seconds a loaded machine may add to a timing (the lower bounds are exact)."""


class Recorder:
    def __init__(self, hold: float = 0.0) -> None:
        self.hold = hold
        self.runs: list[frozenset[str]] = []
        self.times: list[float] = []
        self.running = 0
        self.most = 0

    async def __call__(self, reasons: frozenset[str]) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        self.runs.append(reasons)
        self.times.append(time.monotonic())
        await asyncio.sleep(self.hold)
        self.running -= 1


async def serve(coalescer: Coalescer) -> asyncio.Task[None]:
    task = asyncio.create_task(coalescer.run())
    await asyncio.sleep(0)
    return task


async def test_a_request_when_idle_runs_at_once() -> None:
    action = Recorder()
    coalescer = Coalescer(action)
    task = await serve(coalescer)
    started = time.monotonic()
    coalescer.request("local")
    await asyncio.wait_for(coalescer.idle(), 1)
    assert action.runs == [frozenset({"local"})]
    assert action.times[0] - started < 0.05 + SLACK
    task.cancel()


async def test_requests_during_a_run_fold_into_one_next_run() -> None:
    action = Recorder(hold=0.1)
    coalescer = Coalescer(action)
    task = await serve(coalescer)
    coalescer.request("local")
    await asyncio.sleep(0.02)
    assert coalescer.busy
    for reason in ["local", "remote", "local", "now"] * 10:
        coalescer.request(reason)
    assert coalescer.pending
    await asyncio.wait_for(coalescer.idle(), 2)
    assert action.runs == [frozenset({"local"}), frozenset({"local", "remote", "now"})]
    assert action.most == 1  # never two at once
    assert not coalescer.pending and not coalescer.busy
    task.cancel()


async def test_settle_waits_for_quiet_but_not_past_max_wait() -> None:
    action = Recorder()
    coalescer = Coalescer(action, settle=0.1, max_wait=0.3)
    task = await serve(coalescer)
    started = time.monotonic()
    for _ in range(3):  # a burst, then quiet
        coalescer.request("local")
        await asyncio.sleep(0.03)
    await asyncio.wait_for(coalescer.idle(), 2)
    assert len(action.runs) == 1
    assert 0.15 <= action.times[0] - started < 0.3 + SLACK
    started = time.monotonic()
    for _ in range(20):  # a request every 30 ms never lets it settle: max_wait does
        coalescer.request("local")
        await asyncio.sleep(0.03)
    await asyncio.wait_for(coalescer.idle(), 2)
    assert 0.28 <= action.times[1] - started < 0.45 + SLACK
    task.cancel()


async def test_a_failing_action_is_logged_and_later_requests_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[frozenset[str]] = []

    async def flaky(reasons: frozenset[str]) -> None:
        calls.append(reasons)
        if len(calls) == 1:
            raise RuntimeError("boom")

    coalescer = Coalescer(flaky, name="test share")
    task = await serve(coalescer)
    coalescer.request("a")
    await asyncio.wait_for(coalescer.idle(), 1)
    coalescer.request("b")
    await asyncio.wait_for(coalescer.idle(), 1)
    assert calls == [frozenset({"a"}), frozenset({"b"})]
    assert "test share failed" in caplog.text
    task.cancel()

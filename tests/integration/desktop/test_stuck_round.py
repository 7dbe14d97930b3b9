"""A sync round that waits too long is given up, says where it waited, and is retried."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from gitwrite_desktop.core.operations import Operation
from gitwrite_desktop.core.sync import State
from tests.integration.desktop.clients import FAST, Client, register, unique
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class HoldTheWriter(Operation[None]):
    """Keeps the writer thread busy until ``release`` is set (a very slow operation)."""

    release: threading.Event

    def run(self, ctx: Any, /) -> None:
        assert self.release.wait(60)


def test_a_round_stuck_on_the_writer_thread_is_named_given_up_and_retried(
    tmp_path: Path, server: ServerProcess
) -> None:
    ann = Client(tmp_path / "ann", server.base_url, replace(FAST, stall_timeout=5.0), "ann")
    release = threading.Event()
    try:
        ann.sign_in(register(server.base_url, "ann"))
        project = ann.new_project({"chapter-01.md": "# One\n\nIt was a dark night.\n"})
        ann.share(project, unique("novel"))
        assert ann.engine.wait_idle(30)

        ann.desktop.submit(HoldTheWriter(release))
        ann.engine.sync_now(project)
        deadline = time.monotonic() + 30
        while ann.stats()[project].timeouts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = ann.stats()[project]
        assert stats.timeouts == 1, stats
        assert stats.stuck.startswith("integrating (writer thread): "), stats.stuck
        assert "run_op (sync/engine.py:" in stats.stuck
        writer = stats.stuck.split("; writer thread: ")[1]
        assert "run (test_stuck_round.py:" in writer, writer
        share = ann.status().share(project)
        assert share is not None and share.state is State.ERROR
        assert share.reason == "a sync waited over 5 s (integrating (writer thread))"

        release.set()  # the writer is free again: the retry goes through
        report = ann.wait_for(
            lambda r: (s := r.share(project)) is not None and s.state is State.ONLINE
        )
        assert report.state is State.ONLINE
        assert ann.stats()[project].timeouts == 1
        assert ann.stats()[project].phase == "idle"
    finally:
        release.set()
        ann.close()

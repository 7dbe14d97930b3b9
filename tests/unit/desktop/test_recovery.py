"""Owning an open project (the lease) and recovering after a GitWrite was killed,
including in the middle of a save."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitwrite_desktop.core import operations as ops
from gitwrite_desktop.core.desktop import Desktop
from gitwrite_desktop.core.errors import ProjectInUse
from gitwrite_desktop.core.recovery import Lease, leftovers, recover
from tests.builders import make_project
from tests.compat.gitcli import fsck, git
from tests.unit.desktop.conftest import GRACE

ROOT = Path(__file__).resolve().parents[3]
HOLD = """
import sys, time
from pathlib import Path
from gitwrite_desktop.core.recovery import Lease
lease = Lease(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_one_lease_per_project_at_a_time(tmp_path: Path) -> None:
    make_project(tmp_path / "novel").close()
    root = tmp_path / "novel"
    with Lease(root) as first:
        assert first.held
        with pytest.raises(ProjectInUse):
            Lease(root).acquire()
    with Lease(root):
        pass


def test_the_lease_goes_when_its_holder_is_killed(tmp_path: Path) -> None:
    make_project(tmp_path / "novel").close()
    root = tmp_path / "novel"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ProjectInUse):
            Lease(root).acquire()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with Lease(root):
        pass


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_recovery_removes_what_a_killed_writer_left(tmp_path: Path) -> None:
    make_project(tmp_path / "novel", {"a.md": "Text.\n"}).close()
    root = tmp_path / "novel"
    left = [
        root / ".git" / "index.lock",
        root / ".git" / "refs" / "heads" / "main.lock",
        root / ".git" / "objects" / "ab" / ("c" * 38 + ".lock"),
        root / ".git" / "MERGE_MSG.gitwrite-tmp",
        root / "part" / ".a.md.gitwrite-tmp",
    ]
    kept = [root / "notes.lock", root / "part" / "b.md", root / "a.md"]
    for path in left + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_bytes(b"half")
        _age(path, 60)
    assert leftovers(root) == sorted(left)
    with pytest.raises(RuntimeError):
        recover(Lease(root))
    with Lease(root) as lease:
        assert recover(lease, grace=1.0) == sorted(left)
    assert all(p.exists() for p in kept) and leftovers(root) == []


def test_a_young_lock_is_given_time_before_it_is_removed(tmp_path: Path) -> None:
    make_project(tmp_path / "novel").close()
    root = tmp_path / "novel"
    lock = root / ".git" / "index.lock"
    lock.write_bytes(b"")
    with Lease(root) as lease:
        started = time.monotonic()
        assert recover(lease, grace=0.3) == [lock]
        assert time.monotonic() - started >= 0.25


def test_a_desktop_killed_while_saving_leaves_a_repository_the_next_start_recovers(
    data_dir: Path, tmp_path: Path
) -> None:
    core = Desktop(data_dir, grace=GRACE)
    assert core.start().wait(60)
    project = core.call(ops.CreateProject(tmp_path / "novel")).value.id
    core.stop()
    root = tmp_path / "novel"
    rng = random.Random(7)
    for round_ in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.unit.desktop.crashing_writer", str(data_dir), project],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert writer.stdout is not None
            for _ in range(3):
                assert writer.stdout.readline().startswith("saved"), "the writer stopped"
            time.sleep(rng.uniform(0, 0.15))  # somewhere inside a later save
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait()

        core = Desktop(data_dir, grace=GRACE)
        assert core.start().wait(60)
        core.call(ops.OpenProject(project))  # takes the lease, removes leftovers, re-indexes
        fsck(root)
        assert leftovers(root) == []
        core.call(ops.GetStatus(project))  # whatever the killed save had written counts
        (root / "after.md").write_text(f"Round {round_}.\n", encoding="utf-8")
        saved = core.call(ops.Save(project, f"After round {round_}")).value
        assert saved.summary == f"After round {round_}"
        assert core.call(ops.GetStatus(project)).value.clean
        commits = int(git(root, "rev-list", "--count", "HEAD").strip())
        days = core.call(ops.WordsPerDay(project)).value
        assert sum(d.saves for d in days) == commits  # the cache caught up with every save
        core.stop()
    fsck(root)

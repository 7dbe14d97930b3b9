"""Benchmark ``gitwrite.maintenance.repack`` against ``git gc --aggressive`` on the same history.

A history of N one-paragraph saves spread over the 61 chapters of Pride and Prejudice is
built (as dulwich writes it: loose objects), copied, then packed once by ``repack`` and once
by ``git gc --aggressive``; the size of ``.git`` and of ``.git/objects`` and the time of each
are printed. The goal is ``repack``'s ``.git`` at most 1.5 times git's.

Run: ``.venv/bin/python -m tests.bench.repack --saves 1000``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from dulwich.repo import Repo

from gitwrite.maintenance import objects_size, repack
from tests.savehistory import build_history


def tree_size(path: Path) -> int:
    """Bytes of all the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    subprocess.run(["git", "-C", str(root), *args], env=env, check=True, capture_output=True)


def run(saves: int, max_depth: int, keep: bool) -> dict[str, float]:
    """Build the history, pack it both ways, print and return the figures."""
    work = Path(tempfile.mkdtemp(prefix="gitwrite-bench-repack-"))
    try:
        started = time.perf_counter()
        with build_history(work / "ours", saves) as repo:
            built = time.perf_counter() - started
            shutil.copytree(work / "ours", work / "git", symlinks=True)
            loose_git, loose_objects = tree_size(work / "ours" / ".git"), objects_size(repo)
            report = repack(repo, max_depth=max_depth)
        started = time.perf_counter()
        git(work / "git", "gc", "--aggressive", "--quiet")
        git_seconds = time.perf_counter() - started
        git(work / "ours", "fsck", "--strict", "--no-dangling", "--no-progress")
        with Repo(str(work / "git")) as theirs:
            git_objects = objects_size(theirs)
        figures = {
            "saves": saves,
            "loose_git": loose_git,
            "loose_objects": loose_objects,
            "ours_git": tree_size(work / "ours" / ".git"),
            "ours_objects": report.size_after,
            "ours_seconds": report.seconds,
            "git_git": tree_size(work / "git" / ".git"),
            "git_objects": git_objects,
            "git_seconds": git_seconds,
        }
        ratio = figures["ours_git"] / figures["git_git"]
        print(f"history: {saves} one-paragraph saves over 61 chapters, built in {built:.1f} s")
        print(f"loose (as dulwich writes): .git {loose_git:>11,} B  objects {loose_objects:>11,} B")
        print(
            f"gitwrite repack:           .git {figures['ours_git']:>11,} B  objects "
            f"{report.size_after:>11,} B  in {report.seconds:6.2f} s "
            f"({report.deltas} of {report.objects} objects as deltas, max depth {max_depth})"
        )
        print(
            f"git gc --aggressive:       .git {figures['git_git']:>11,} B  objects "
            f"{git_objects:>11,} B  in {git_seconds:6.2f} s"
        )
        verdict = "meets" if ratio <= 1.5 else "MISSES"
        print(f"repack .git / git's .git = {ratio:.2f} ({verdict} the goal of at most 1.5)")
        if keep:
            print(f"repositories kept in {work}")
        return figures
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--saves", type=int, default=1000, help="number of saves (1000)")
    parser.add_argument("--max-depth", type=int, default=50, help="repack's max_depth (50)")
    parser.add_argument("--keep", action="store_true", help="keep the two repositories")
    args = parser.parse_args(argv)
    run(args.saves, args.max_depth, args.keep)


if __name__ == "__main__":
    main()

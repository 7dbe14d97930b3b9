"""From a save on one desktop to the new text on disk at another, through the server.

Two desktop cores (each a `Client` in a process of its own, with its sync engine, as on
two computers) share Pride and Prejudice (61 chapter files) through the real server.
Writer A saves a one-sentence change of a random chapter; the clock runs from the moment
A's save is made to the moment the new sentence is in the chapter's file on disk at B:
A's push (after the save), the server's notice, B's fetch, B's fast-forward of its work
folder. One save at a time, a little apart; p50, p90, p99 and the worst over ``--saves``.

Beside it, in the same run, the same change with command-line git and a perfect
messenger: ``git commit``, ``git push`` to a bare repository on the same disk, and at B
``git pull --ff-only`` started the moment the push ends (no server, no notice, no
network: the floor of doing it by hand).

The server runs on the embedded SQLite default, or with ``--postgres`` on a throwaway
PostgreSQL. Both clocks are the system's monotonic clock, shared by the processes.

Run: ``.venv/bin/python -m tests.bench.desktop_sync`` (``--saves 200 --postgres``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from tests.compat.gitcli import git
from tests.corpus import chapters
from tests.integration.desktop.clients import Client, register, unique
from tests.integration.desktop.processes import ClientProcess
from tests.integration.postgres import PostgresServer
from tests.serverproc import ServerProcess

POLL = 0.0005


def with_mark(text: str, rng: random.Random, mark: str) -> str:
    """The chapter with a sentence carrying ``mark`` added to one of its paragraphs."""
    paragraphs = text.split("\n\n")
    k = rng.randrange(1, len(paragraphs)) if len(paragraphs) > 1 else 0
    paragraphs[k] = paragraphs[k].rstrip("\n") + f" The letter {mark} came at last."
    return "\n\n".join(paragraphs)


def next_change(texts: dict[str, str], rng: random.Random, i: int) -> tuple[str, str]:
    """Change a random chapter of ``texts`` (in place): its path and the new mark."""
    path = rng.choice(sorted(texts))
    mark = f"No. {i:04d}-{rng.randrange(10**6):06d}"
    texts[path] = with_mark(texts[path], rng, mark)
    return path, mark


def timed_save(client: Client, project_id: str, path: str, text: str) -> float:
    """In A's process: save ``text`` at ``path``; the monotonic time the save was made."""
    client.save(project_id, {path: text}, "A small change")
    return time.monotonic()


class Watch:
    """Polls a file (in this process) until it holds ``mark``; the time it was seen."""

    def __init__(self, path: Path, mark: str, timeout: float = 30) -> None:
        self.path, self.mark, self.timeout = path, mark.encode(), timeout
        self.seen: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if self.mark in self.path.read_bytes():
                    self.seen = time.monotonic()
                    return
            except OSError:
                pass
            time.sleep(POLL)

    def result(self) -> float:
        self.thread.join()
        if self.seen is None:
            raise TimeoutError(f"{self.path.name} never showed {self.mark!r}")
        return self.seen


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49], "p90": cut[89], "p99": cut[98], "max": ordered[-1]}


def bench_gitwrite(
    base_url: str, work: Path, files: dict[str, str], saves: int, gap: float
) -> list[float]:
    a = ClientProcess(work / "a", base_url, "ann")
    b = ClientProcess(work / "b", base_url, "bob")
    try:
        a.sign_in(register(base_url, "ann"))
        bob = register(base_url, "bob")
        b.sign_in(bob)
        project = a.new_project(files)
        repository = unique("novel")
        a.request("share", project, repository)
        a.request("invite", repository, bob, "editor")
        theirs = b.clone(repository)
        assert b.head(theirs) == a.head(project)
        rng = random.Random(5)
        texts = dict(files)
        latencies = []
        for i in range(saves):
            path, mark = next_change(texts, rng, i)
            watch = Watch(work / "b" / "novel" / path, mark)
            saved = a.call(timed_save, project, path, texts[path])
            latencies.append(watch.result() - saved)
            time.sleep(gap)
        return latencies
    finally:
        a.close()
        b.close()


def bench_git(work: Path, files: dict[str, str], saves: int) -> list[float]:
    a, b, bare = work / "git-a", work / "git-b", work / "git-bare.git"
    a.mkdir()
    for name, text in files.items():
        (a / name).write_text(text)
    git(a, "init", "-q", "-b", "main")
    git(a, "add", "-A")
    git(a, "commit", "-q", "-m", "First draft")
    git(work, "clone", "-q", "--bare", str(a), str(bare))
    git(a, "remote", "add", "origin", str(bare))
    git(a, "fetch", "-q", "origin")
    git(a, "branch", "-q", "--set-upstream-to=origin/main")
    git(work, "clone", "-q", str(bare), str(b))
    rng = random.Random(5)
    texts = dict(files)
    latencies = []
    for i in range(saves):
        path, mark = next_change(texts, rng, i)
        (a / path).write_text(texts[path])
        git(a, "commit", "-q", "-am", "A small change")
        saved = time.monotonic()
        git(a, "push", "-q", "origin", "main")
        git(b, "pull", "-q", "--ff-only")
        if mark not in (b / path).read_text():
            raise AssertionError(f"git pull did not bring {mark}")
        latencies.append(time.monotonic() - saved)
    return latencies


def report(name: str, samples: list[float]) -> None:
    p = percentiles(samples)
    cells = "  ".join(f"{k} {v * 1000:6.1f} ms" for k, v in p.items())
    print(f"{name:<44} {cells}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--saves", type=int, default=200, help="saves timed (200)")
    parser.add_argument("--postgres", action="store_true", help="the server on PostgreSQL")
    parser.add_argument(
        "--gap", type=float, default=0.05, help="seconds between one save's arrival and the next"
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="no background worker (no search indexing after each push)",
    )
    args = parser.parse_args(argv)
    files = dict(chapters("pride_and_prejudice"))
    work = Path(tempfile.mkdtemp(prefix="gitwrite-bench-"))
    pg = PostgresServer.start() if args.postgres else None
    try:
        url = pg.create_database("bench") if pg is not None else None
        # The search indexer runs in the server process on both databases (on PostgreSQL
        # an admin may run it in worker processes instead), so the two compare alike.
        worker = "false" if args.no_worker else "true"
        server = ServerProcess.start(
            work / "server", database_url=url, GITWRITE_EMBEDDED_WORKER=worker
        )
        try:
            load = os.getloadavg()[0]
            ours = bench_gitwrite(server.base_url, work, files, args.saves, args.gap)
        finally:
            server.stop()
        theirs = bench_git(work, files, args.saves)
        where = "PostgreSQL 15" if pg is not None else "SQLite (embedded default)"
        indexing = "no search indexing" if args.no_worker else "search indexed in-process"
        print(
            f"save at A -> text on disk at B, {args.saves} saves {args.gap:.2f} s apart, "
            f"server on {where}, {indexing}"
        )
        print(f"load average before: {load:.1f}, after: {os.getloadavg()[0]:.1f}")
        report("GitWrite (push, notice, fetch, work folder)", ours)
        report("git commit; push; pull --ff-only at once", theirs)
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(f"median ratio GitWrite / git: {ratio:.2f}")
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

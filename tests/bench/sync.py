"""Sync benchmarks against the real server, each beside command-line git in the same run.

1. Push one one-paragraph edit of a 600 KB chapter: bytes of the pack (and of the whole
   WebSocket frame) vs the thin pack ``git push`` sends (``git pack-objects --thin``
   for the same commits), and the time of a push (the request's round trip: the server's
   work plus loopback) vs ``git push`` to a local bare repository.
2. Storage after 1,000 such saves, each pushed on its own: the sum of ``git_objects.data``
   of the repository in the server's database vs the pack ``git gc`` makes of the same
   history.
3. Fetch of that 1,000-save history into an empty repository: time and pack bytes vs
   ``git clone --no-local`` from a local bare repository.

The server runs as a separate process (``gitwrite-server serve``) on the embedded SQLite
default, or with ``--postgres`` on a throwaway PostgreSQL. Figures are medians; the
machine is noisy, so read the ratios.

Run: ``.venv/bin/python -m tests.bench.sync`` (``--saves 1000 --rounds 21 --postgres``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitwrite import remotes
from gitwrite.client import SyncClient
from gitwrite.packs import build_push_pack
from gitwrite.protocol import ZERO_ID, Push, PushResult, RefUpdate
from gitwrite.rest import ServerApi
from tests.corpus import novel
from tests.integration.postgres import PostgresServer
from tests.savehistory import edit_paragraph
from tests.serverproc import ServerProcess

MAIN = "refs/heads/main"
CHAPTER = b"chapter-01.md"
IDENTITY = b"Bench Writer <bench@example.com>"
PASSWORD = "bench password 1234"


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    return subprocess.run(
        ["git", "-C", str(root), *args], input=stdin, env=env, check=True, capture_output=True
    ).stdout


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class History:
    """A repository of one 600 KB chapter; each `save` rewrites a few words of one paragraph
    and commits, straight into the object store (as a save does, minus word counting)."""

    def __init__(self, path: Path, seed: int = 7) -> None:
        self.repo = Repo.init(str(path), mkdir=True)
        self.repo.object_store.loose_compression_level = 1  # as a save writes it
        self.rng = random.Random(seed)
        self.text = novel("pride_and_prejudice")[:600_000]
        self.head: ObjectID | None = None
        self.when = 1_700_000_000
        self.save("First draft")

    def save(self, message: str | None = None) -> ObjectID:
        if self.head is not None:
            self.text = edit_paragraph(self.text, self.rng)
        blob = Blob.from_string(self.text.encode())
        tree = Tree()
        tree.add(CHAPTER, 0o100644, blob.id)
        commit = Commit()
        commit.tree = tree.id
        commit.parents = [self.head] if self.head is not None else []
        commit.author = commit.committer = IDENTITY
        self.when += 60
        commit.author_time = commit.commit_time = self.when
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = (message or "Save").encode()
        for obj in (blob, tree, commit):
            self.repo.object_store.add_object(obj)
        self.repo.refs[Ref(MAIN.encode())] = commit.id
        self.head = commit.id
        return commit.id


@dataclass
class Figures:
    pack_bytes: list[int] = field(default_factory=list)
    frame_bytes: list[int] = field(default_factory=list)
    build_ms: list[float] = field(default_factory=list)
    push_ms: list[float] = field(default_factory=list)
    git_pack_bytes: list[int] = field(default_factory=list)
    git_push_ms: list[float] = field(default_factory=list)


async def push_one(client: SyncClient, repo_name: str, history: History, old: ObjectID) -> tuple:
    """Push ``history.head`` over ``old``, as `SyncClient.push` does, timing the parts."""
    assert history.head is not None
    started = time.perf_counter()
    pack = build_push_pack(history.repo, [history.head], [old])
    built = time.perf_counter()
    sent_before = client.stats.bytes_sent
    update = RefUpdate(MAIN, old.decode() if old else ZERO_ID, history.head.decode())
    message = Push(id=client.next_id(), repo=repo_name, updates=[update], pack=pack)
    result = await client.request(message)
    done = time.perf_counter()
    assert isinstance(result, PushResult) and result.status == "ok", result
    remotes.record(history.repo, client.remote, {MAIN: history.head.decode()}, complete=False)
    frame = client.stats.bytes_sent - sent_before
    return len(pack), frame, (built - started) * 1000, (done - built) * 1000


_SERVER_PUSH = re.compile(r"push to (\S+) by user \d+: .*?([0-9.]+) ms$")


def server_push_ms(server: ServerProcess, repo_name: str) -> list[float]:
    """The server's own time for each push to ``repo_name``, from its log (empty when the
    server does not log it)."""
    found = []
    for line in server.log().splitlines():
        match = _SERVER_PUSH.search(line.strip())
        if match and match[1] == repo_name:
            found.append(float(match[2]))
    return found


def git_thin_pack(repo: Path, new: ObjectID, old: ObjectID) -> int:
    revs = f"{new.decode()}\n^{old.decode()}\n".encode()
    return len(git(repo, "pack-objects", "--thin", "--stdout", "--revs", "-q", stdin=revs))


async def bench_push(work: Path, client: SyncClient, api_repo: str, rounds: int) -> Figures:
    figures = Figures()
    history = History(work / "push-ours")
    first = await client.push(api_repo, history.repo, [MAIN])
    assert first.status == "ok"
    bare = work / "push-git.git"
    git(work, "init", "-q", "--bare", str(bare))
    git(Path(history.repo.path), "push", "-q", str(bare), f"{MAIN}:{MAIN}")
    for n in range(rounds):
        old = history.head
        assert old is not None
        history.save(f"Save {n + 1}")
        new = history.head
        assert new is not None
        pack, frame, build_ms, push_ms = await push_one(client, api_repo, history, old)
        figures.pack_bytes.append(pack)
        figures.frame_bytes.append(frame)
        figures.build_ms.append(build_ms)
        figures.push_ms.append(push_ms)
        figures.git_pack_bytes.append(git_thin_pack(Path(history.repo.path), new, old))
        started = time.perf_counter()
        git(Path(history.repo.path), "push", "-q", str(bare), f"{new.decode()}:{MAIN}")
        figures.git_push_ms.append((time.perf_counter() - started) * 1000)
    return figures


async def build_long_history(
    work: Path, client: SyncClient, repo_name: str, saves: int
) -> tuple[History, float]:
    """``saves`` saves, each pushed on its own; returns the history and seconds taken."""
    history = History(work / "long-ours", seed=11)
    started = time.perf_counter()
    await client.push(repo_name, history.repo, [MAIN])
    for n in range(saves):
        old = history.head
        assert old is not None
        history.save(f"Save {n + 1}")
        await push_one(client, repo_name, history, old)
    return history, time.perf_counter() - started


def stored_bytes(
    server: ServerProcess, repo_name: str, pg: PostgresServer | None
) -> tuple[int, int]:
    """Sum of ``git_objects.data`` and number of rows for ``repo_name``."""
    query = (
        "SELECT COALESCE(SUM(LENGTH(data)), 0), COUNT(*) FROM git_objects "
        "WHERE repo_id = (SELECT id FROM repositories WHERE name = '{}')"
    ).format(repo_name.replace("'", "''"))
    if server.database_url is None:
        with sqlite3.connect(server.sqlite_path) as db:
            total, rows = db.execute(query).fetchone()
        return int(total), int(rows)
    assert pg is not None
    name = server.database_url.rsplit("/", 1)[1]
    out = pg.psql(query.replace("LENGTH(data)", "OCTET_LENGTH(data)"), database=name)
    total, rows = out.strip().split("|")
    return int(total), int(rows)


def git_gc_size(source: Path, work: Path) -> tuple[int, Path]:
    """The history as ``git gc`` packs it: bytes of objects/pack, and the bare repository."""
    bare = work / "long-git.git"
    git(work, "clone", "-q", "--bare", "--no-local", str(source), str(bare))
    git(bare, "gc", "-q")
    return folder_size(bare / "objects" / "pack"), bare


async def bench_fetch(
    work: Path, client: SyncClient, repo_name: str, head: ObjectID, rounds: int
) -> tuple[list[float], list[int], list[int]]:
    times, packs, frames = [], [], []
    for n in range(rounds):
        empty = Repo.init(str(work / f"fetch-{n}"), mkdir=True)
        received = client.stats.bytes_received
        started = time.perf_counter()
        fetched = await client.fetch(repo_name, empty)
        times.append((time.perf_counter() - started) * 1000)
        packs.append(fetched.pack_bytes)
        frames.append(client.stats.bytes_received - received)
        assert fetched.refs[MAIN] == head.decode()
        empty.close()
        shutil.rmtree(work / f"fetch-{n}")
    return times, packs, frames


def bench_clone(work: Path, bare: Path, rounds: int) -> tuple[list[float], list[int]]:
    times, sizes = [], []
    for n in range(rounds):
        dest = work / f"clone-{n}"
        started = time.perf_counter()
        git(work, "clone", "-q", "--bare", "--no-local", str(bare), str(dest))
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(sum(p.stat().st_size for p in (dest / "objects" / "pack").glob("*.pack")))
        shutil.rmtree(dest)
    return times, sizes


def median(values: list[float] | list[int]) -> float:
    return float(statistics.median(values))


async def run(
    args: argparse.Namespace, server: ServerProcess, work: Path, pg: PostgresServer | None
) -> list[tuple]:
    async with ServerApi(server.base_url) as api:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        await api.register(email, PASSWORD, "Bench Writer")
        tokens = await api.login(email, PASSWORD)
        for name in ("push-bench", "long-history"):
            await api.create_repository(tokens.access_token, name)
    async with await SyncClient.connect(server.ws_url, tokens.access_token, timeout=600) as client:
        push = await bench_push(work, client, "push-bench", args.rounds)
        history, seconds = await build_long_history(work, client, "long-history", args.saves)
        stored, rows = stored_bytes(server, "long-history", pg)
        gc_bytes, bare = git_gc_size(Path(history.repo.path), work)
        assert history.head is not None
        fetch_ms, fetch_packs, fetch_frames = await bench_fetch(
            work, client, "long-history", history.head, args.fetch_rounds
        )
    clone_ms, clone_packs = bench_clone(work, bare, args.fetch_rounds)
    server_ms = server_push_ms(server, "push-bench")
    print(
        f"\n{args.saves} saves pushed one by one in {seconds:.1f} s "
        f"({seconds / (args.saves + 1) * 1000:.0f} ms a save, pack building included); "
        f"{rows} object rows stored"
    )
    return [
        (
            "push one edit of a 600 KB chapter: pack bytes",
            median(push.pack_bytes),
            median(push.git_pack_bytes),
            "< 5 KB",
        ),
        (
            "  ... whole WebSocket frame (message + pack) bytes",
            median(push.frame_bytes),
            median(push.git_pack_bytes),
            "",
        ),
        ("  ... client: build the pack (ms)", median(push.build_ms), None, ""),
        (
            "  ... push round trip, server work + loopback (ms) vs `git push` to a bare repo",
            median(push.push_ms),
            median(push.git_push_ms),
            "",
        ),
        (
            "  ... server time per push, from its log (ms)",
            median(server_ms[1:]) if len(server_ms) > 1 else float("nan"),
            None,
            "",
        ),
        (
            f"storage after {args.saves} saves (bytes) vs `git gc` pack",
            stored,
            gc_bytes,
            "<= 1.5x",
        ),
        (
            f"fetch {args.saves} saves into an empty repo (ms) vs `git clone --no-local`",
            median(fetch_ms),
            median(clone_ms),
            "",
        ),
        ("  ... pack bytes received", median(fetch_packs), median(clone_packs), ""),
        ("  ... whole frame bytes received", median(fetch_frames), median(clone_packs), ""),
    ]


def print_table(rows: list[tuple], backend: str, args: argparse.Namespace) -> None:
    git_version = git(Path.cwd(), "--version").decode().split()[-1]
    print(f"\nSync benchmarks on {backend}, git {git_version}, medians of {args.rounds} pushes")
    print(f"and {args.fetch_rounds} fetches.\n")
    print("| measure | GitWrite | git | ratio | goal |")
    print("|---|---|---|---|---|")
    for name, ours, theirs, goal in rows:
        ratio = f"{ours / theirs:.2f}x" if theirs else ""
        print(f"| {name} | {shown(name, ours)} | {shown(name, theirs)} | {ratio} | {goal} |")


def shown(name: str, value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if "bytes" in name else f"{value:,.1f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--saves", type=int, default=1000, help="history length (1000)")
    parser.add_argument("--rounds", type=int, default=21, help="pushes timed (21)")
    parser.add_argument("--fetch-rounds", type=int, default=5, help="fetches timed (5)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="gitwrite-bench-sync-"))
    database_url = None
    pg = PostgresServer.start() if args.postgres else None
    try:
        if pg is not None:
            database_url = pg.create_database("bench")
        server = ServerProcess.start(work / "server", database_url=database_url)
        try:
            rows = asyncio.run(run(args, server, work, pg))
        finally:
            server.stop()
        print_table(rows, "PostgreSQL 15" if args.postgres else "SQLite (embedded default)", args)
    finally:
        if pg is not None:
            pg.stop()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

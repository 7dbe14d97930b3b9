"""The server's storage and its work per push, in process (no network), beside git gc.

A history of N one-paragraph saves is built (a single 600 KB chapter, or with
``--chapters 61`` the whole of Pride and Prejudice in 61 files), then pushed save by save
through `SyncService.push` with the thin packs the client builds, as writers' clients
do. Printed: the server's milliseconds per push (median and 95th percentile of the
service's own clock: checks, storage plan, the transaction, the notice), the bytes of
``git_objects.data`` beside ``git gc`` and ``git gc --aggressive`` of the same history,
and a fetch of the whole history into an empty repository (time, bytes) and of each
last save (bytes).

Run: ``.venv/bin/python -m tests.bench.storage --saves 1000`` (``--postgres`` on a
throwaway PostgreSQL, or ``--database-url`` for an empty database, migrated here).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from dulwich.objects import ObjectID
from sqlalchemy import func, select

from gitwrite.packs import build_push_pack
from gitwrite.protocol import ZERO_ID
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.migrate import upgrade_async
from gitwrite_sync.db.models import GitObject
from gitwrite_sync.services import Services
from gitwrite_sync.settings import Settings
from gitwrite_sync.storage import RefChange
from tests.corpus import novel
from tests.integration.postgres import PostgresServer
from tests.savehistory import build_history

MAIN = "refs/heads/main"


def git(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    done = subprocess.run(["git", "-C", str(root), *args], env=env, check=True, capture_output=True)
    return done.stdout.decode()


def pack_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / ".git" / "objects" / "pack").glob("*.pack"))


def first_parents(repo_path: Path) -> list[ObjectID]:
    return [ObjectID(s.encode()) for s in git(repo_path, "rev-list", "--reverse", MAIN).split()]


async def run(saves: int, chapters: int, database_url: str | None) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="gitwrite-bench-storage-"))
    try:
        texts = {"chapter.md": novel("pride_and_prejudice")[:600_000]} if chapters == 1 else None
        started = time.perf_counter()
        repo = build_history(work / "writer", saves, chapter_count=chapters, texts=texts)
        built = time.perf_counter() - started
        line = first_parents(work / "writer")
        url = database_url or f"sqlite+aiosqlite:///{work / 'server.db'}"
        await upgrade_async(url)
        settings = Settings(data_dir=work, database_url=url, secret_key="k" * 32)
        db = Database(url)
        services = Services.build(settings, db)
        owner = await services.users.create("owner@example.com", "correct horse battery", "o")
        await services.repositories.create(owner, "novel")
        server_ms: list[float] = []
        client_ms: list[float] = []
        old = ZERO_ID
        for n, save in enumerate(line):
            started = time.perf_counter()
            pack = build_push_pack(repo, [save], [line[n - 1]] if n else [])
            client_ms.append((time.perf_counter() - started) * 1000)
            change = RefChange(MAIN, old, save.decode())
            outcome = await services.sync.push(owner, "novel", [change], pack)
            assert outcome.status == "ok", outcome
            server_ms.append(outcome.seconds * 1000)
            old = save.decode()
        async with db.read() as session:
            stored = (
                await session.execute(select(func.sum(func.length(GitObject.data))))
            ).scalar_one()
        cold = Services.build(settings, db)  # a fresh process: nothing in memory
        started = time.perf_counter()
        clone = await cold.sync.fetch(owner, "novel", [], [])
        clone_seconds = time.perf_counter() - started
        last = [
            len((await cold.sync.fetch(owner, "novel", [s.decode()], [p.decode()])).pack.data)
            for p, s in zip(line[-21:-1], line[-20:], strict=True)
        ]
        await db.dispose()
        git(work / "writer", "gc", "--quiet")
        gc = pack_bytes(work / "writer")
        git(work / "writer", "gc", "--aggressive", "--quiet")
        aggressive = pack_bytes(work / "writer")
        repo.close()
        server_sorted = sorted(server_ms)
        figures = {
            "saves": saves,
            "server_ms_median": statistics.median(server_ms[1:]),
            "server_ms_p95": server_sorted[int(len(server_sorted) * 0.95) - 1],
            "client_pack_ms_median": statistics.median(client_ms[1:]),
            "stored": int(stored),
            "git_gc": gc,
            "git_gc_aggressive": aggressive,
            "clone_seconds": clone_seconds,
            "clone_bytes": len(clone.pack.data),
            "fetch_one_save_max": max(last),
        }
        where = "PostgreSQL" if database_url else "SQLite"
        what = "one 600 KB chapter" if chapters == 1 else f"{chapters} chapters"
        print(f"history: {saves} one-paragraph saves of {what}, built in {built:.1f} s; {where}")
        print(
            f"push, server side: median {figures['server_ms_median']:.1f} ms, "
            f"p95 {figures['server_ms_p95']:.1f} ms "
            f"(client builds its thin pack in {figures['client_pack_ms_median']:.1f} ms)"
        )
        print(
            f"stored: {stored:,} B of object data; git gc {gc:,} B ({stored / gc:.2f}x); "
            f"git gc --aggressive {aggressive:,} B ({stored / aggressive:.2f}x)"
        )
        print(
            f"fetch of everything into an empty repository: {len(clone.pack.data):,} B in "
            f"{clone_seconds:.2f} s; one save: at most {max(last):,} B"
        )
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--saves", type=int, default=1000)
    parser.add_argument("--chapters", type=int, default=1, help="1: one 600 KB chapter")
    parser.add_argument("--database-url", default=None, help="an empty database to use")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL")
    args = parser.parse_args(argv)
    if not args.postgres:
        asyncio.run(run(args.saves, args.chapters, args.database_url))
        return
    server = PostgresServer.start()
    try:
        url = server.create_database("bench_storage")
        asyncio.run(run(args.saves, args.chapters, url))
    finally:
        server.stop()


if __name__ == "__main__":
    main()

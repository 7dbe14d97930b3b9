"""REST benchmarks against the real server process: p50/p95 per endpoint at light load,
and full-text search over the three novels of the corpus in one project.

The library: Pride and Prejudice, Moby-Dick and War and Peace, one Markdown file per
chapter in a folder per novel (562 files, ~893,000 words, 5.1 MB), pushed as one save
over the sync protocol; the server's background worker indexes it (the time from the
push to the last novel being findable is reported). Then every endpoint is called
``--requests`` times by ``--clients`` concurrent clients (light load), and each search
query ``--requests`` times; latencies are measured by the client over loopback (HTTP
keep-alive), so they include the server's whole work and the HTTP round trip. The same
search queries are then run in the database alone (`SearchIndex.search` from the
benchmark's process, one at a time): the search without HTTP, sign-in and role checks.

The server runs on the embedded SQLite default, and on a throwaway PostgreSQL (its test
settings: fsync off, data in /dev/shm) with the in-process worker switched on. Passwords
are hashed with the server's real argon2 parameters.

Run: ``.venv/bin/python -m tests.bench.rest`` (``--databases sqlite``, ``--quick``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from dulwich.index import commit_tree
from dulwich.objects import Blob, Commit
from dulwich.repo import Repo
from sqlalchemy import select

from gitwrite.client import SyncClient
from gitwrite.rest import ServerApi
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import Repository
from gitwrite_sync.domain.search import index_for, parse
from gitwrite_sync.domain.search.service import DEFAULT_LIMIT
from tests.corpus import chapters
from tests.integration.postgres import PostgresServer
from tests.serverproc import ServerProcess

NOVELS = ("pride_and_prejudice", "moby_dick", "war_and_peace")
PASSWORD = "bench password 1234"
REPO = "library"
REAL_ARGON2 = {
    "GITWRITE_ARGON2_TIME_COST": "3",
    "GITWRITE_ARGON2_MEMORY_KIB": "65536",
    "GITWRITE_ARGON2_PARALLELISM": "4",
    "GITWRITE_LOGIN_ATTEMPTS_PER_ACCOUNT": "1000000",
}
SEARCHES = {
    "rare word": "Queequeg",
    "rare word 2": "Pemberley",
    "name with accent": "Natásha",
    "common word": "said",
    "most common word": "the",
    "phrase": '"white whale"',
    "phrase 2": '"Prince Andrew"',
    "and": "Elizabeth Darcy",
    "or": "whale or harpoon",
    "not": "Natásha -Pierre",
    "no match": "xylophonist",
    "junk": '"(( -or NEAR* "',
}
FINDABLE = {
    "pride_and_prejudice": "Pemberley",
    "moby_dick": "Queequeg",
    "war_and_peace": "Borodinó",
}


@dataclass
class Figures:
    samples: list[float]

    def pct(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    def line(self, name: str) -> str:
        return (
            f"| {name} | {len(self.samples)} | {self.pct(50):.1f} | {self.pct(95):.1f} | "
            f"{max(self.samples) * 1000:.1f} |"
        )


def library_repo(root: Path) -> tuple[Repo, bytes, int, int]:
    """A local repository whose one save holds the three novels; returns it, the save,
    the number of files and of words."""
    repo = Repo.init(str(root), mkdir=True)
    entries, words = [], 0
    for novel in NOVELS:
        for name, text in chapters(novel):
            blob = Blob.from_string(text.encode())
            repo.object_store.add_object(blob)
            entries.append((f"{novel}/{name}".encode(), blob.id, 0o100644))
            words += len(text.split())
    commit = Commit()
    commit.tree = commit_tree(repo.object_store, entries)
    commit.author = commit.committer = b"Bench Writer <bench@example.com>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"The library"
    repo.object_store.add_object(commit)
    repo.refs[b"refs/heads/main"] = commit.id
    return repo, commit.id, len(entries), words


async def seed(server: ServerProcess, work: Path) -> tuple[str, str, float, int, int]:
    """An account, the library pushed to it; waits until every novel is findable.
    Returns the email, an access token, seconds from push to indexed, files, words."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    async with ServerApi(server.base_url, timeout=120) as api:
        await api.register(email, PASSWORD, "Bench Writer")
        tokens = await api.login(email, PASSWORD)
        await api.create_repository(tokens.access_token, REPO)
    local, _, files, words = await asyncio.to_thread(library_repo, work / "library")
    async with await SyncClient.connect(server.ws_url, tokens.access_token, timeout=600) as client:
        result = await client.push(REPO, local, ["refs/heads/main"])
        assert result.status == "ok", result
    pushed = time.monotonic()
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, trust_env=False) as http:
        for word in FINDABLE.values():
            while True:
                got = await http.get(
                    f"/repositories/{REPO}/search", params={"q": word}, headers=headers
                )
                got.raise_for_status()
                if got.json()["results"]:
                    break
                if time.monotonic() - pushed > 600:
                    raise RuntimeError(f"{word!r} not findable 10 minutes after the push")
                await asyncio.sleep(0.05)
    return email, tokens.access_token, time.monotonic() - pushed, files, words


Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def measure(base_url: str, clients: int, requests: int, call: Call) -> Figures:
    """``requests`` calls in all, spread over ``clients`` concurrent connections."""
    samples: list[float] = []

    async def client(count: int, http: httpx.AsyncClient) -> None:
        for _ in range(count):
            started = time.perf_counter()
            response = await call(http)
            samples.append(time.perf_counter() - started)
            if response.status_code >= 400:
                raise RuntimeError(
                    f"{response.request.url}: {response.status_code} {response.text}"
                )

    shares = [requests // clients + (i < requests % clients) for i in range(clients)]
    https = [httpx.AsyncClient(base_url=base_url, timeout=60, trust_env=False) for _ in shares]
    try:
        for http in https:  # connect (and warm up) before timing
            await call(http)
        await asyncio.gather(*(client(n, h) for n, h in zip(shares, https, strict=True)))
    finally:
        for http in https:
            await http.aclose()
    return Figures(samples)


async def bench(server: ServerProcess, work: Path, clients: int, requests: int) -> None:
    email, token, indexed, files, words = await seed(server, work)
    auth = {"Authorization": f"Bearer {token}"}
    print(f"Library: {files} files, {words:,} words; pushed and indexed in {indexed:.1f} s.")
    print(f"Load average before: {os.getloadavg()[0]:.1f} (2 cores; other work shares them).\n")

    counter = iter(range(10**9))

    def get(path: str, **params: str) -> Call:
        return lambda http: http.get(path, params=params, headers=auth)

    async def login(http: httpx.AsyncClient) -> httpx.Response:
        return await http.post("/auth/login", json={"email": email, "password": PASSWORD})

    async def save(http: httpx.AsyncClient) -> httpx.Response:
        n = next(counter)
        body = {"file_path": f"notes/note-{n % 20}.md", "content": f"A note, version {n}.\n"}
        return await http.post(f"/repositories/{REPO}/save", json=body, headers=auth)

    chapter = "pride_and_prejudice/chapter-01.md"
    endpoints: dict[str, Call] = {
        "GET /health": get("/health"),
        "POST /auth/login (argon2 t=3, 64 MiB)": login,
        "GET /auth/me": get("/auth/me"),
        "GET /repositories": get("/repositories"),
        f"GET /repositories/{REPO}": get(f"/repositories/{REPO}"),
        f"GET /repositories/{REPO}/tree": get(f"/repositories/{REPO}/tree"),
        f"GET /repositories/{REPO}/files/{chapter}": get(f"/repositories/{REPO}/files/{chapter}"),
        f"GET /repositories/{REPO}/history": get(f"/repositories/{REPO}/history"),
        f"GET /repositories/{REPO}/explorations": get(f"/repositories/{REPO}/explorations"),
        f"POST /repositories/{REPO}/save (small file, 1 client)": save,
        f"GET /repositories/{REPO}/search?q=Queequeg": get(
            f"/repositories/{REPO}/search", q="Queequeg"
        ),
    }
    print(f"{clients} concurrent clients, {requests} requests per endpoint; milliseconds.\n")
    print("| endpoint | requests | p50 | p95 | max |\n|---|---:|---:|---:|---:|")
    for name, call in endpoints.items():
        count = max(10, requests // 5) if "login" in name else requests
        # Saves one at a time: back-to-back saves from several clients race on the main
        # story and the server's three attempts can all lose (409 stale), not light load.
        together = 1 if "/save" in name else clients
        print((await measure(server.base_url, together, count, call)).line(name), flush=True)

    print(
        f"\nSearch over the library ({files} files, {words:,} words), one query kind at a "
        f"time, {DEFAULT_LIMIT} results (the default):\n"
    )
    print("| query | requests | p50 | p95 | max |\n|---|---:|---:|---:|---:|")
    every: list[float] = []
    for name, q in SEARCHES.items():
        figures = await measure(
            server.base_url, clients, requests, get(f"/repositories/{REPO}/search", q=q)
        )
        every.extend(figures.samples)
        print(figures.line(f"{name}: `{q}`"), flush=True)
    print(Figures(every).line("**all queries**"))
    await in_database(server, requests)
    print(f"\nLoad average after: {os.getloadavg()[0]:.1f}.")


async def in_database(server: ServerProcess, requests: int) -> None:
    """The same queries through `SearchIndex.search` on the server's database, from this
    process: the database's share of a search, without HTTP, sign-in and role checks."""
    url = server.database_url or f"sqlite+aiosqlite:///{server.sqlite_path}"
    db = Database(url, pool_size=2)
    try:
        index = index_for(db)
        async with db.read() as session:
            repo_id = (
                await session.execute(select(Repository.id).where(Repository.name == REPO))
            ).scalar_one()
        print(
            "\nThe same queries in the database alone "
            f"(`SearchIndex.search`, {DEFAULT_LIMIT} results):\n"
        )
        print("| query | runs | p50 | p95 | max |\n|---|---:|---:|---:|---:|")
        every: list[float] = []
        for name, q in SEARCHES.items():
            query = parse(q)
            samples: list[float] = []
            for _ in range(requests):
                started = time.perf_counter()
                if query is not None:
                    async with db.read() as session:
                        await index.search(session, repo_id, query, DEFAULT_LIMIT)
                samples.append(time.perf_counter() - started)
            every.extend(samples)
            print(Figures(samples).line(f"{name}: `{q}`"), flush=True)
        print(Figures(every).line("**all queries**"))
    finally:
        await db.dispose()


def run(database: str, clients: int, requests: int) -> None:
    print(f"\n### {'Embedded default (SQLite)' if database == 'sqlite' else 'PostgreSQL'}\n")
    with tempfile.TemporaryDirectory(prefix="gitwrite-bench-rest-") as tmp:
        work = Path(tmp)
        pg = PostgresServer.start() if database == "postgres" else None
        try:
            url = pg.create_database("bench") if pg else None
            extra = dict(REAL_ARGON2, GITWRITE_EMBEDDED_WORKER="1")
            server = ServerProcess.start(work / "server", database_url=url, **extra)
            try:
                asyncio.run(bench(server, work, clients, requests))
            finally:
                server.stop()
        finally:
            if pg:
                pg.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="40 requests per endpoint")
    args = parser.parse_args(argv)
    requests = 40 if args.quick else args.requests
    for database in args.databases.split(","):
        run(database.strip(), args.clients, requests)


if __name__ == "__main__":
    main()

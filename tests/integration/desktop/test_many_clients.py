"""Twenty desktop clients save fifty times each through a flaky network, and the server
restarts in the middle: every save ends up in the server's history, and every client
converges on the server's refs (DESIGN §10, invariants 1 and 3).

Each client is a full desktop core with its own sync engine (threads, cache, workspace)
in a process of its own, as on twenty computers (`processes`); the server is the real
process behind a proxy that cuts random connections every few hundred milliseconds. Each
writer appends to a chapter of their own and, every tenth save, rewrites their own
paragraph of a chapter everyone shares (so the prose merge runs on one file). Saves are
small: the point is the number of them.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import pytest
from dulwich.objects import ObjectID
from dulwich.repo import Repo
from dulwich.walk import Walker

from gitwrite.client import SyncClient
from gitwrite.rest import ServerApi
from gitwrite_desktop.core.sync import State
from tests.compat.gitcli import fsck
from tests.integration.desktop import processes
from tests.integration.desktop.clients import PASSWORD, Client, register, unique
from tests.integration.desktop.processes import ClientProcess
from tests.integration.desktop.proxy import Proxy
from tests.serverproc import ServerProcess

# Both databases' runs on one test worker, one after the other: forty desktops at once on
# two cores would measure the machine, not the sync.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.xdist_group("crowd"),
]

CLIENTS = int(os.environ.get("GW_CLIENTS", "20"))
SAVES = int(os.environ.get("GW_SAVES", "50"))
SHARED = "together.md"


def own_chapter(n: int) -> str:
    return f"chapter-{n:02d}.md"


def paragraph(n: int, version: int) -> str:
    return f"Writer {n} wrote this paragraph, version {version}."


def shared_text(versions: dict[int, int]) -> str:
    return (
        "# Together\n\n" + "\n\n".join(paragraph(n, v) for n, v in sorted(versions.items())) + "\n"
    )


def write(client: Client, pid: str, n: int, saves: int) -> list[str]:
    """In writer ``n``'s process: ``saves`` saves, a few hundredths of a second apart."""
    rng = random.Random(n)
    made = []
    for k in range(1, saves + 1):

        def edit(read: Callable[[str], str], k: int = k) -> dict[str, str]:
            changes = {own_chapter(n): read(own_chapter(n)) + f"\nSave {k}.\n"}
            if k % 10 == 0:
                old, new = paragraph(n, k // 10 - 1), paragraph(n, k // 10)
                changes[SHARED] = read(SHARED).replace(old, new)
            return changes

        made.append(client.edit_and_save(pid, edit, f"writer {n}, save {k}"))
        assert processes.progress is not None
        with processes.progress.get_lock():
            processes.progress.value += 1
        time.sleep(rng.uniform(0, 0.06))
    return made


def describe(client: Client, pid: str) -> str:
    """A client's sync status and counters, for a failure's message."""
    return f"{client.name}: head {client.head(pid)}, {client.status()}, {client.stats()}"


def converged_state(client: Client, pid: str) -> tuple[dict[str, str], State]:
    return client.refs(pid), client.status().state


@pytest.fixture
def saved() -> Synchronized[int]:
    return processes.counter()


@pytest.fixture
def crowd(
    tmp_path: Path, server: ServerProcess, proxy: Proxy, saved: Synchronized[int]
) -> Iterator[list[ClientProcess]]:
    with ThreadPoolExecutor(4) as pool:
        clients = list(
            pool.map(
                lambda n: ClientProcess(tmp_path / f"c{n}", proxy.url, f"writer{n}", saved),
                range(CLIENTS),
            )
        )
    try:
        yield clients
    finally:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(ClientProcess.close, clients))


def server_history(
    server: ServerProcess, email: str, repository: str, dest: Path
) -> tuple[dict[str, str], set[str]]:
    """The server's refs and every save reachable from its main story (fetched afresh)."""

    async def fetch() -> dict[str, str]:
        async with ServerApi(server.base_url) as api:
            tokens = await api.login(email, PASSWORD)
        async with await SyncClient.connect(server.ws_url, tokens.access_token) as client:
            return (await client.fetch(repository, Repo.init(str(dest), mkdir=True))).refs

    refs = asyncio.run(fetch())
    repo = Repo(str(dest))
    walker = Walker(repo.object_store, [ObjectID(refs["refs/heads/main"].encode())])
    return refs, {entry.commit.id.decode() for entry in walker}


def test_twenty_clients_fifty_saves_flaky_network_and_a_restart_converge(
    crowd: list[ClientProcess],
    server: ServerProcess,
    proxy: Proxy,
    saved: Synchronized[int],
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    emails = [register(server.base_url, f"w{n}") for n in range(CLIENTS)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(ClientProcess.sign_in, crowd, emails))
    owner = crowd[0]
    files = {own_chapter(n): f"# Chapter {n}\n" for n in range(CLIENTS)}
    files[SHARED] = shared_text(dict.fromkeys(range(CLIENTS), 0))
    first = owner.new_project(files)
    repository = unique("novel")
    owner.request("share", first, repository)
    for email in emails[1:]:
        owner.request("invite", repository, email, "editor")
    with ThreadPoolExecutor(4) as pool:
        pids = [first, *pool.map(lambda c: c.clone(repository), crowd[1:])]
    set_up = time.monotonic() - started

    done = threading.Event()

    def chaos() -> None:
        rng = random.Random(1)
        restarted = False
        while not done.is_set():
            time.sleep(rng.uniform(0.2, 0.6))
            proxy.drop(fraction=0.3)
            if not restarted and saved.value >= CLIENTS * SAVES // 2:
                server.restart()
                restarted = True

    load = time.monotonic()
    chaos_thread = threading.Thread(target=chaos, name="chaos")
    chaos_thread.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            writing = [
                pool.submit(c.call, write, p, n, SAVES)
                for n, (c, p) in enumerate(zip(crowd, pids, strict=True))
            ]
            saves = [w.result() for w in writing]
    finally:
        done.set()
        chaos_thread.join()
    saving = time.monotonic() - load

    converge = time.monotonic()
    deadline = time.monotonic() + 360  # generous: the suite runs beside it
    refs: dict[str, str] = {}
    history: set[str] = set()
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        with ThreadPoolExecutor(CLIENTS) as pool:
            idle = all(pool.map(lambda c: c.request("sync_and_wait", 60), crowd))
        if idle:
            refs, history = server_history(
                server, emails[0], repository, tmp_path / f"check-{time.monotonic_ns()}"
            )
            heads = {c.head(p) for c, p in zip(crowd, pids, strict=True)}
            if heads == {refs["refs/heads/main"]}:
                break
        time.sleep(0.5)
    converged = time.monotonic() - converge

    if not refs:
        states = [c.call(describe, p) for c, p in zip(crowd, pids, strict=True)]
        pytest.fail(
            f"the clients were still syncing {converged:.0f} s after the last save:\n"
            + "\n".join(states)
        )
    made = {s for per in saves for s in per}
    assert len(made) == CLIENTS * SAVES
    assert made <= history, f"{len(made - history)} saves are not in the server's history"
    for client, pid in zip(crowd, pids, strict=True):
        local, state = client.call(converged_state, pid)
        assert local == refs, f"{client.name} has {local}, the server {refs}"
        assert state is State.ONLINE
    final = owner.read(pids[0], SHARED)
    assert final == shared_text(dict.fromkeys(range(CLIENTS), SAVES // 10))
    for n in range(CLIENTS):
        assert crowd[-1].read(pids[-1], own_chapter(n)).count("\nSave ") == SAVES
    fsck(tmp_path / "c0" / "novel")
    totals: Counter[str] = Counter()
    stuck: list[str] = []
    for client in crowd:
        for stats in client.request("stats").values():
            totals.update({k: v for k, v in asdict(stats).items() if isinstance(v, int)})
            if stats.timeouts:
                stuck.append(f"{client.name}: {stats.timeouts} round(s) given up; {stats.stuck}")
    assert not stuck, "rounds waited over stall_timeout in one step:\n" + "\n".join(stuck)
    print(
        f"\n{CLIENTS} clients x {SAVES} saves: set-up {set_up:.1f} s, saving {saving:.1f} s, "
        f"converged {converged:.1f} s after ({rounds} round(s)); proxy connections "
        f"{proxy.connections}; sync {dict(totals)}"
    )

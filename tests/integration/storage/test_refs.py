"""Refs by compare-and-swap and the event log, on SQLite and PostgreSQL: exactly one
winner per race, gap-free sequence numbers, retention, replay and resync."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gitwrite.protocol import ZERO_ID
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import Event, GitObject, Repository
from gitwrite_sync.errors import StaleRef
from gitwrite_sync.storage import (
    NewRow,
    ObjectStore,
    RefChange,
    apply_changes,
    list_refs,
    refs_and_seq,
    replay,
    trim_events,
)
from tests.integration.storage.conftest import make_repository

pytestmark = pytest.mark.anyio
A, B, C = "a" * 40, "b" * 40, "c" * 40
MAIN = "refs/heads/main"


async def change(
    db: Database, repo_id: int, *changes: RefChange, user: int | None = 1
) -> list[int]:
    async with db.write() as session:
        return [e.seq for e in await apply_changes(session, repo_id, changes, user)]


async def state(db: Database, repo_id: int) -> tuple[dict[str, str], int]:
    async with db.read() as session:
        return await refs_and_seq(session, repo_id)


async def test_create_move_and_delete_by_compare_and_swap(db: Database, repo_id: int) -> None:
    assert await change(db, repo_id, RefChange(MAIN, ZERO_ID, A)) == [1]
    assert await change(
        db, repo_id, RefChange(MAIN, A, B), RefChange("refs/tags/v1", ZERO_ID, A)
    ) == [2, 3]
    assert await state(db, repo_id) == ({MAIN: B, "refs/tags/v1": A}, 3)
    assert await change(db, repo_id, RefChange("refs/tags/v1", A, ZERO_ID)) == [4]
    assert await state(db, repo_id) == ({MAIN: B}, 4)
    async with db.read() as session:
        events = (await session.execute(select(Event).order_by(Event.seq))).scalars().all()
    assert [(e.seq, e.ref, e.old_sha, e.new_sha, e.user_id) for e in events] == [
        (1, MAIN, None, A, 1),
        (2, MAIN, A, B, 1),
        (3, "refs/tags/v1", None, A, 1),
        (4, "refs/tags/v1", A, None, 1),
    ]


@pytest.mark.parametrize(
    "losing",
    [
        RefChange(MAIN, ZERO_ID, C),  # create what exists
        RefChange(MAIN, B, C),  # move from where it is not
        RefChange(MAIN, B, ZERO_ID),  # delete from where it is not
        RefChange("refs/heads/other", A, C),  # move what does not exist
    ],
)
async def test_a_lost_swap_changes_nothing_at_all(
    db: Database, repo_id: int, losing: RefChange
) -> None:
    await change(db, repo_id, RefChange(MAIN, ZERO_ID, A))
    row = NewRow("d" * 40, 3, 1, None, 0, b"x\x9c+\x00\x00\x00x\x00x")
    with pytest.raises(StaleRef) as caught:
        async with db.write() as session:
            await ObjectStore().insert(session, repo_id, [row])
            await apply_changes(
                session, repo_id, [RefChange("refs/heads/new", ZERO_ID, A), losing], 1
            )
    assert caught.value.ref == losing.ref
    assert caught.value.current == (A if losing.ref == MAIN else None)
    assert await state(db, repo_id) == ({MAIN: A}, 1)  # no sequence taken, no other ref moved
    async with db.read() as session:
        assert (
            await session.execute(select(func.count()).select_from(GitObject))
        ).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(Event))).scalar_one() == 1


async def test_of_many_racing_swaps_exactly_one_wins(db: Database, repo_id: int) -> None:
    await change(db, repo_id, RefChange(MAIN, ZERO_ID, A))
    racers = [f"{n:040x}" for n in range(1, 17)]

    async def race(new: str) -> bool:
        try:
            await change(db, repo_id, RefChange(MAIN, A, new))
            return True
        except StaleRef:
            return False

    won = await asyncio.gather(*(race(r) for r in racers))
    assert sum(won) == 1
    winner = racers[won.index(True)]
    assert await state(db, repo_id) == ({MAIN: winner}, 2)


async def test_sequences_are_gap_free_under_concurrent_pushes(db: Database) -> None:
    repos = [await make_repository(db, f"novel-{n}") for n in range(2)]

    async def push(repo_id: int, n: int) -> list[int]:
        return await change(
            db,
            repo_id,
            RefChange(f"refs/heads/e{n}", ZERO_ID, A),
            RefChange(f"refs/tags/t{n}", ZERO_ID, B),
        )

    jobs = [(repo_id, n) for n in range(12) for repo_id in repos]
    results = await asyncio.gather(*(push(repo_id, n) for repo_id, n in jobs))
    for got in results:
        assert got[1] == got[0] + 1  # one push's events are consecutive
    for repo_id in repos:
        given = sorted(
            s for (r, _), got in zip(jobs, results, strict=True) if r == repo_id for s in got
        )
        assert given == list(range(1, 25))
        async with db.read() as session:
            query = select(Event.seq).where(Event.repo_id == repo_id).order_by(Event.seq)
            assert (await session.execute(query)).scalars().all() == given


async def test_replay_gives_the_events_after_a_sequence(db: Database, repo_id: int) -> None:
    for old, new in [(ZERO_ID, A), (A, B), (B, C)]:
        await change(db, repo_id, RefChange(MAIN, old, new))
    async with db.read() as session:
        after_one = await replay(session, repo_id, 1)
        up_to_date = await replay(session, repo_id, 3)
        ahead = await replay(session, repo_id, 9)
        too_many = await replay(session, repo_id, 0, limit=2)
    assert [(e.seq, e.old, e.new) for e in after_one.events] == [(2, A, B), (3, B, C)]
    assert (after_one.resync, after_one.current_seq, after_one.oldest_seq) == (False, 3, 1)
    assert up_to_date.events == [] and not up_to_date.resync
    assert ahead.resync  # a client ahead of the server: compare heads
    assert too_many.resync  # cheaper to fetch than to replay


async def test_retention_keeps_the_newest_events_and_older_sequences_resync(db: Database) -> None:
    first, second = await make_repository(db, "one"), await make_repository(db, "two")
    for repo_id, count in [(first, 10), (second, 3)]:
        for n in range(count):
            await change(db, repo_id, RefChange(f"refs/heads/b{n}", ZERO_ID, A))
    async with db.write() as session:
        assert await trim_events(session, keep=4) == 6
    async with db.read() as session:
        kept = (
            await session.execute(
                select(Event.repo_id, Event.seq).order_by(Event.repo_id, Event.seq)
            )
        ).all()
        assert [tuple(k) for k in kept] == [(first, s) for s in range(7, 11)] + [
            (second, s) for s in (1, 2, 3)
        ]
        old = await replay(session, first, 5)
        edge = await replay(session, first, 6)
        seq = (
            await session.execute(select(Repository.seq).where(Repository.id == first))
        ).scalar_one()
        refs = await list_refs(session, first)
    assert old.resync and (old.oldest_seq, old.current_seq) == (7, 10)
    assert not edge.resync and [e.seq for e in edge.events] == [7, 8, 9, 10]
    assert seq == 10 and len(refs) == 10  # trimming the log changes neither refs nor sequence

"""Refs moved only by compare-and-swap, and the event log that numbers every move.

`apply_changes` is the heart of a push's transaction: it first takes the repository's
next sequence numbers (``UPDATE repositories SET seq = seq + n ... RETURNING seq``, which
on PostgreSQL locks the row, so pushes to one repository queue there; on SQLite the write
transaction already holds the database lock), then moves each ref by compare-and-swap:

- create: ``INSERT`` that does nothing when the ref exists (then the swap lost);
- update: ``UPDATE refs SET sha = :new WHERE repo_id = :r AND name = :n AND sha = :old``;
- delete: ``DELETE ... WHERE sha = :old``;

and a swap that touches no row raises `StaleRef`, which rolls the whole transaction back
(sequence, other refs, objects, events). Then one event per change is appended. Sequence
numbers are therefore gap-free and strictly increasing per repository.

The log is trimmed to the newest ``keep`` events per repository (`trim_events`); `replay`
answers a client's "what happened after N" from it, or says to resynchronise when N is
older than what is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Executable, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gitwrite.protocol import ZERO_ID
from gitwrite_sync.db.models import Event, Ref, Repository
from gitwrite_sync.errors import NotFound, StaleRef


@dataclass(frozen=True, slots=True)
class RefChange:
    """Move ``ref`` from ``old`` to ``new``; ``ZERO_ID`` as ``old`` creates, as ``new`` deletes."""

    ref: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class EventRecord:
    repo_id: int
    seq: int
    ref: str
    old: str
    new: str
    user_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Replay:
    """The answer to "what happened after sequence N".

    Attributes:
        events: The events after N, oldest first (empty when ``resync``).
        current_seq: The repository's newest sequence.
        oldest_seq: The oldest sequence still kept (``current_seq + 1`` when none is).
        resync: N is older than the kept log (or newer than the repository): compare heads.
    """

    events: list[EventRecord]
    current_seq: int
    oldest_seq: int
    resync: bool


async def list_refs(session: AsyncSession, repo_id: int) -> dict[str, str]:
    rows = await session.execute(select(Ref.name, Ref.sha).where(Ref.repo_id == repo_id))
    return {name: sha for name, sha in rows}


async def refs_and_seq(session: AsyncSession, repo_id: int) -> tuple[dict[str, str], int]:
    """The refs and the sequence they reflect, read in ONE statement (consistent on
    PostgreSQL's read committed too)."""
    rows = (
        await session.execute(
            select(Repository.seq, Ref.name, Ref.sha)
            .select_from(Repository)
            .outerjoin(Ref, Ref.repo_id == Repository.id)
            .where(Repository.id == repo_id)
        )
    ).all()
    if not rows:
        raise NotFound(f"no repository with id {repo_id}")
    return {r.name: r.sha for r in rows if r.name is not None}, int(rows[0].seq)


async def _take_seqs(session: AsyncSession, repo_id: int, count: int) -> int:
    """Reserve ``count`` sequence numbers; returns the last one. Locks the repository row."""
    result = await session.execute(
        update(Repository)
        .where(Repository.id == repo_id)
        .values(seq=Repository.seq + count, updated_at=datetime.now(UTC))
        .returning(Repository.seq)
    )
    last = result.scalar_one_or_none()
    if last is None:
        raise NotFound(f"no repository with id {repo_id}")
    return int(last)


async def _current(session: AsyncSession, repo_id: int, ref: str) -> str | None:
    return (
        await session.execute(select(Ref.sha).where(Ref.repo_id == repo_id, Ref.name == ref))
    ).scalar_one_or_none()


async def compare_and_swap(session: AsyncSession, repo_id: int, change: RefChange) -> None:
    """Move one ref, or raise `StaleRef` (nothing changed) when it is not at ``old``."""
    if change.old == ZERO_ID and change.new == ZERO_ID:
        raise ValueError("a ref change must create, move or delete")
    statement: Executable
    if change.old == ZERO_ID:
        dialect = session.get_bind().dialect.name
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert_(Ref)
            .values(repo_id=repo_id, name=change.ref, sha=change.new)
            .on_conflict_do_nothing(index_elements=["repo_id", "name"])
        )
    elif change.new == ZERO_ID:
        statement = delete(Ref).where(
            Ref.repo_id == repo_id, Ref.name == change.ref, Ref.sha == change.old
        )
    else:
        statement = (
            update(Ref)
            .where(Ref.repo_id == repo_id, Ref.name == change.ref, Ref.sha == change.old)
            .values(sha=change.new)
        )
    result = await session.execute(statement)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleRef(change.ref, change.old, await _current(session, repo_id, change.ref))


async def apply_changes(
    session: AsyncSession,
    repo_id: int,
    changes: Sequence[RefChange],
    user_id: int | None,
    *,
    now: datetime | None = None,
) -> list[EventRecord]:
    """Move every ref by compare-and-swap and log one event each, in the caller's
    transaction. Raises `StaleRef` on the first swap that loses (the caller's transaction
    must then roll back, which its unit of work does when the exception leaves it)."""
    if not changes:
        return []
    last = await _take_seqs(session, repo_id, len(changes))
    for change in changes:
        await compare_and_swap(session, repo_id, change)
    when = now or datetime.now(UTC)
    first = last - len(changes) + 1
    records = [
        EventRecord(repo_id, first + i, c.ref, c.old, c.new, user_id, when)
        for i, c in enumerate(changes)
    ]
    await session.execute(
        insert(Event),
        [
            {
                "repo_id": repo_id,
                "seq": r.seq,
                "ref": r.ref,
                "old_sha": None if r.old == ZERO_ID else r.old,
                "new_sha": None if r.new == ZERO_ID else r.new,
                "user_id": user_id,
                "created_at": when,
            }
            for r in records
        ],
    )
    return records


def _record(row: Event) -> EventRecord:
    return EventRecord(
        row.repo_id,
        row.seq,
        row.ref,
        row.old_sha or ZERO_ID,
        row.new_sha or ZERO_ID,
        row.user_id,
        row.created_at,
    )


async def replay(session: AsyncSession, repo_id: int, after: int, limit: int = 1000) -> Replay:
    """The events after sequence ``after``, or `Replay.resync` when the log no longer holds
    them all, ``after`` is ahead of the repository, or more than ``limit`` are missed (a
    fetch then costs less than replaying them one by one)."""
    current = (
        await session.execute(select(Repository.seq).where(Repository.id == repo_id))
    ).scalar_one_or_none()
    if current is None:
        raise NotFound(f"no repository with id {repo_id}")
    oldest = (
        await session.execute(select(func.min(Event.seq)).where(Event.repo_id == repo_id))
    ).scalar_one_or_none()
    oldest_seq = int(oldest) if oldest is not None else current + 1
    if after == current:
        return Replay([], current, oldest_seq, False)
    if after > current or after + 1 < oldest_seq or current - after > limit:
        return Replay([], current, oldest_seq, True)
    rows = await session.scalars(
        select(Event).where(Event.repo_id == repo_id, Event.seq > after).order_by(Event.seq)
    )
    return Replay([_record(r) for r in rows], current, oldest_seq, False)


async def trim_events(session: AsyncSession, keep: int, repo_id: int | None = None) -> int:
    """Delete all but the newest ``keep`` events of each repository (or of one); returns
    how many were deleted."""
    newest = select(Repository.seq).where(Repository.id == Event.repo_id).scalar_subquery()
    statement = delete(Event).where(Event.seq <= newest - keep)
    if repo_id is not None:
        statement = statement.where(Event.repo_id == repo_id)
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]

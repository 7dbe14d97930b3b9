"""Taking in packs, on SQLite and PostgreSQL: objects read back identical, deltas kept or
made, thin packs resolved against the database, and bad packs refused storing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from dulwich.objects import Blob, Commit, ObjectID, Tree
from sqlalchemy import select

from gitwrite.packs import build_push_pack
from gitwrite.project import Project
from gitwrite.trailers import split_word_trailer
from gitwrite_sync.db.engine import Database
from gitwrite_sync.db.models import MAX_DELTA_DEPTH, CommitRow, GitObject
from gitwrite_sync.errors import InvalidPack, MissingObjects, TooLarge
from gitwrite_sync.storage import ObjectStore, ingest_pack, prepare, read_pack, store
from tests.integration.storage.conftest import (
    LIMITS,
    first_parent_line,
    head,
    novel_project,
    stored_bytes,
)
from tests.packbytes import Entry, delta, make_pack, resign, whole_pack

pytestmark = pytest.mark.anyio


def every_object(project: Project) -> dict[str, tuple[int, bytes]]:
    store_ = project.repo.object_store
    return {sha.decode(): store_.get_raw(sha) for sha in store_}


async def ingest(db: Database, repo_id: int, pack: bytes, objects: ObjectStore) -> int:
    async with db.write() as session:
        return len(await ingest_pack(session, repo_id, pack, LIMITS, objects=objects))


async def test_a_whole_history_reads_back_identical(
    db: Database, repo_id: int, project: Project, objects: ObjectStore
) -> None:
    pack = build_push_pack(project.repo, [head(project)], [])
    count = await ingest(db, repo_id, pack, objects)
    expected = every_object(project)
    assert count == len(expected)
    fresh = ObjectStore()  # nothing in memory: every object comes from the database
    async with db.read() as session:
        for sha, (type_num, raw) in expected.items():
            assert await fresh.read(session, repo_id, sha) == (type_num, raw), sha
    async with db.read() as session:
        rows = {r.sha: r for r in (await session.execute(select(CommitRow))).scalars()}
    saves = first_parent_line(project)
    assert set(rows) == {s.decode() for s in saves}
    last = rows[saves[-1].decode()]
    assert last.parents == saves[-2].decode() and last.summary == "Save 6"
    message = project.repo[saves[-1]].message.decode()  # type: ignore[attr-defined]
    assert (last.words_added, last.words_removed) == split_word_trailer(message)[1]
    assert last.words_added > 0


async def test_the_packs_deltas_are_kept_and_chains_stay_capped(
    db: Database, repo_id: int, project: Project, objects: ObjectStore
) -> None:
    pack = build_push_pack(project.repo, [head(project)], [])
    await ingest(db, repo_id, pack, objects)
    async with db.read() as session:
        rows = (await session.execute(select(GitObject))).scalars().all()
    deltas = [r for r in rows if r.base_sha is not None]
    assert len(deltas) >= 6  # each chapter save and each root tree after the first
    assert max(r.depth for r in rows) <= MAX_DELTA_DEPTH
    by_sha = {r.sha: r for r in rows}
    for row in deltas:
        assert row.depth == by_sha[row.base_sha].depth + 1
        assert by_sha[row.base_sha].type_num == row.type_num


async def test_saves_pushed_one_by_one_as_thin_packs(
    db: Database, repo_id: int, project: Project, objects: ObjectStore
) -> None:
    known: list[ObjectID] = []
    thin = 0
    for save in first_parent_line(project):
        pack = build_push_pack(project.repo, [save], known)
        async with db.read() as session:
            resolved = await read_pack(session, objects, repo_id, pack, LIMITS)
            thin += bool(resolved.externals)  # deltas against what the database has
            prepared = await prepare(session, objects, repo_id, resolved, [save.decode()])
        async with db.write() as session:
            await store(session, objects, repo_id, prepared)
        known = [save]
    assert thin == 6  # every save after the one that added the chapters
    total, rows, _ = await stored_bytes(db, repo_id)
    everything = every_object(project)
    assert rows == len(everything)
    chapters = sum(len(raw) for t, raw in everything.values() if t == Blob.type_num)
    assert total < chapters / 4  # ~one compressed copy plus small deltas
    fresh = ObjectStore()
    async with db.read() as session:
        for sha, found in everything.items():
            assert await fresh.read(session, repo_id, sha) == found


async def test_whole_objects_are_stored_as_deltas_of_the_same_path(
    db: Database, repo_id: int, tmp_path: Path, objects: ObjectStore
) -> None:
    project = novel_project(tmp_path / "many", saves=30, chapter_count=1)
    line = first_parent_line(project)
    # What a client that never deltifies sends: every object whole.
    unique = [project.repo[sha] for sha in project.repo.object_store]
    await ingest(db, repo_id, whole_pack(unique), objects)
    async with db.read() as session:
        rows = (await session.execute(select(GitObject))).scalars().all()
    versions = [r for r in rows if r.type_num == Blob.type_num and r.size > 1000]
    assert len(versions) == len(line) - 1  # the chapter, first added by the second save
    assert sum(r.base_sha is None for r in versions) == 1  # one whole copy, deltas after
    assert sum(len(r.data) for r in versions) < max(r.size for r in versions)
    roots = [r for r in rows if r.type_num == Tree.type_num and r.base_sha is not None]
    assert len(roots) >= len(line) - 3  # each save's root tree a delta of the one before


async def test_objects_already_stored_are_not_stored_again(
    db: Database, repo_id: int, project: Project, objects: ObjectStore
) -> None:
    pack = build_push_pack(project.repo, [head(project)], [])
    await ingest(db, repo_id, pack, objects)
    before = await stored_bytes(db, repo_id)
    await ingest(db, repo_id, pack, ObjectStore())
    assert await stored_bytes(db, repo_id) == before


BLOB = Blob.from_string(b"It is a truth universally acknowledged.\n")


def tree_of(name: bytes, blob: Blob = BLOB) -> bytes:
    return b"100644 " + name + b"\x00" + blob.sha().digest()


def commit_of(tree_id: bytes, parents: list[bytes]) -> Commit:
    commit = Commit()
    commit.tree = ObjectID(tree_id)
    commit.parents = [ObjectID(p) for p in parents]
    commit.author = commit.committer = b"Writer <w@example.com>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"Save\n"
    return commit


def tampered(pack: bytes) -> bytes:
    body = bytearray(pack)
    body[len(body) // 2] ^= 0xFF
    return resign(body)


BAD_PACKS = {
    "garbage": (b"this is not a pack" * 4, InvalidPack),
    "bad checksum": (whole_pack([BLOB])[:-1] + b"\x00", InvalidPack),
    "corrupt data": (tampered(whole_pack([Blob.from_string(b"words " * 300)])), InvalidPack),
    ".git entry": (make_pack([Entry(3, BLOB.data), Entry(2, tree_of(b".git"))]), InvalidPack),
    ".GIT entry": (make_pack([Entry(3, BLOB.data), Entry(2, tree_of(b".GIT"))]), InvalidPack),
    ".. entry": (make_pack([Entry(3, BLOB.data), Entry(2, tree_of(b".."))]), InvalidPack),
    "non-UTF-8 name": (
        make_pack([Entry(3, BLOB.data), Entry(2, tree_of(b"\xff.md"))]),
        InvalidPack,
    ),
    "thin base nobody has": (
        make_pack([Entry(3, delta(BLOB.data, b"x"), base="cd" * 20)]),
        MissingObjects,
    ),
    "tree of a missing blob": (make_pack([Entry(2, tree_of(b"a.md"))]), MissingObjects),
    # The blob's bytes changed on the way: its id is computed, so it is another object and
    # the tree that names the original finds nothing.
    "content that does not match the ids": (
        make_pack([Entry(3, BLOB.data.replace(b"truth", b"trick")), Entry(2, tree_of(b"a.md"))]),
        MissingObjects,
    ),
    "commit of a missing parent": (
        whole_pack([commit_of(Tree().id, [b"ef" * 20]), Tree()]),
        MissingObjects,
    ),
    "object over the limit": (whole_pack([Blob.from_string(b"x" * (5 << 20))]), TooLarge),
}


@pytest.mark.parametrize("case", sorted(BAD_PACKS))
async def test_bad_packs_are_refused_and_nothing_is_stored(
    db: Database, repo_id: int, project: Project, objects: ObjectStore, case: str
) -> None:
    await ingest(db, repo_id, build_push_pack(project.repo, [head(project)], []), objects)
    before = await stored_bytes(db, repo_id)
    pack, error = BAD_PACKS[case]
    with pytest.raises(error) as caught:
        await ingest(db, repo_id, pack, objects)
    assert caught.value.message
    assert await stored_bytes(db, repo_id) == before


async def test_reading_what_is_not_stored_is_a_key_error(
    db: Database, repo_id: int, objects: ObjectStore
) -> None:
    async with db.read() as session:
        with pytest.raises(KeyError):
            await objects.read(session, repo_id, "ab" * 20)

"""Fetch packs built from the stored rows, on SQLite and PostgreSQL: a fresh clone that
the real git finds sound and identical, thin incremental packs, tags and annotations."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.repo import Repo

from gitwrite.packs import apply_pack, build_push_pack
from gitwrite.project import Project
from gitwrite_sync.db.engine import Database
from gitwrite_sync.errors import NotFound
from gitwrite_sync.storage import FetchPack, ObjectStore, build_fetch_pack, ingest_pack
from gitwrite_sync.storage.graph import CommitGraph
from tests import savehistory
from tests.builders import build_history
from tests.compat.gitcli import fsck, git
from tests.integration.storage.conftest import LIMITS, head

pytestmark = [pytest.mark.anyio, pytest.mark.compat]


async def push_all(db: Database, repo_id: int, project: Project, objects: ObjectStore) -> None:
    tips = [project.repo.refs[r] for r in project.repo.refs.allkeys() if r.startswith(b"refs/")]
    async with db.write() as session:
        await ingest_pack(
            session, repo_id, build_push_pack(project.repo, tips, []), LIMITS, objects=objects
        )


async def fetch(
    db: Database, repo_id: int, wants: list[ObjectID], haves: list[ObjectID]
) -> FetchPack:
    async with db.read() as session:
        return await build_fetch_pack(
            session,
            ObjectStore(),
            repo_id,
            [w.decode() for w in wants],
            [h.decode() for h in haves],
        )


def clone_into(path: Path, pack: bytes, refs: dict[bytes, ObjectID]) -> Repo:
    repo = Repo.init(str(path), mkdir=True)
    apply_pack(repo, pack)
    for name, sha in refs.items():
        repo.refs[name] = sha
    return repo


async def test_a_fetch_into_an_empty_repository_is_what_was_pushed(
    db: Database, repo_id: int, project: Project, objects: ObjectStore, tmp_path: Path
) -> None:
    project.explorations.create("darker ending", switch=True)
    build_history(project, [{"chapter-01.md": "It was a dark and stormy night.\n"}])
    project.explorations.switch("main")
    project.milestones.create("first draft")
    await push_all(db, repo_id, project, objects)
    refs = {r: project.repo.refs[r] for r in project.repo.refs.allkeys() if r.startswith(b"refs/")}
    fetched = await fetch(db, repo_id, list(refs.values()), [])
    assert fetched.objects == len(list(project.repo.object_store))
    assert fetched.deltas > 0 and fetched.thin == 0 and fetched.whole_fallbacks == 0
    clone = clone_into(tmp_path / "clone", fetched.data, refs)
    fsck(tmp_path / "clone")
    for ref in refs:
        name = ref.decode()
        ours = git(tmp_path / "clone", "log", "--format=%H %an <%ae> %at %s", name)
        theirs = git(project.root, "log", "--format=%H %an <%ae> %at %s", name)
        assert ours == theirs
    assert git(tmp_path / "clone", "cat-file", "-t", "refs/tags/first-draft").strip() == "tag"
    clone.close()


async def test_an_incremental_fetch_is_a_small_thin_pack(
    db: Database, repo_id: int, tmp_path: Path, objects: ObjectStore
) -> None:
    # 60 one-paragraph saves over 3 chapters: enough versions of each for spine deltas,
    # whose bases are older versions the reader must be shown to hold.
    writer = savehistory.build_history(tmp_path / "writer", 60, chapter_count=3)
    line = [
        ObjectID(s.encode())
        for s in git(tmp_path / "writer", "rev-list", "--reverse", "HEAD").split()
    ]
    known: list[ObjectID] = []
    for save in line:  # pushed save by save, as a writer's client does
        async with db.write() as session:
            pack = build_push_pack(writer, [save], known)
            await ingest_pack(session, repo_id, pack, LIMITS, objects=objects)
        known = [save]
    reader = clone_into(tmp_path / "reader", (await fetch(db, repo_id, [line[0]], [])).data, {})
    for previous, save in itertools.pairwise(line):
        got = await fetch(db, repo_id, [save], [previous])
        assert got.objects == 3  # the commit, its tree, the chapter it changed
        assert got.whole_fallbacks == 0 and got.thin >= 1  # deltas against what the reader has
        assert len(got.data) < 1500
        apply_pack(reader, got.data)  # a base the reader lacks would fail here
        reader.refs[b"refs/heads/main"] = save
    fsck(tmp_path / "reader")
    reader.close()
    writer.close()


async def test_nothing_new_is_an_empty_answer_and_unknown_ids_are_not_found(
    db: Database, repo_id: int, project: Project, objects: ObjectStore
) -> None:
    await push_all(db, repo_id, project, objects)
    assert (await fetch(db, repo_id, [head(project)], [head(project)])).data == b""
    with pytest.raises(NotFound):
        await fetch(db, repo_id, [ObjectID(b"ab" * 20)], [])


def commit(repo: Repo, files: dict[bytes, bytes], parents: list[ObjectID], when: int) -> ObjectID:
    tree = Tree()
    for name, text in files.items():
        blob = Blob.from_string(text)
        repo.object_store.add_object(blob)
        tree.add(name, 0o100644, blob.id)
    repo.object_store.add_object(tree)
    made = Commit()
    made.tree, made.parents = tree.id, parents
    made.author = made.committer = b"Writer <w@example.com>"
    made.author_time = made.commit_time = when
    made.author_timezone = made.commit_timezone = 0
    made.message = b"save\n"
    repo.object_store.add_object(made)
    return made.id


async def test_after_a_merge_only_the_other_sides_saves_are_sent(
    db: Database, repo_id: int, objects: ObjectStore, tmp_path: Path
) -> None:
    repo = Repo.init(str(tmp_path / "writer"), mkdir=True)
    base = commit(repo, {b"a.md": b"one\n", b"b.md": b"two\n"}, [], 1000)
    mine = commit(repo, {b"a.md": b"one, mine\n", b"b.md": b"two\n"}, [base], 2000)
    theirs1 = commit(repo, {b"a.md": b"one\n", b"b.md": b"two, theirs\n"}, [base], 1500)
    theirs2 = commit(repo, {b"a.md": b"one\n", b"b.md": b"two, theirs again\n"}, [theirs1], 2500)
    merged = commit(
        repo, {b"a.md": b"one, mine\n", b"b.md": b"two, theirs again\n"}, [mine, theirs2], 3000
    )
    async with db.write() as session:
        await ingest_pack(
            session, repo_id, build_push_pack(repo, [merged], []), LIMITS, objects=objects
        )
    got = await fetch(db, repo_id, [merged], [mine])
    # merge + theirs1 + theirs2 commits, their three trees, and the two versions of b.md
    assert got.objects == 8
    reader = clone_into(tmp_path / "reader", (await fetch(db, repo_id, [mine], [])).data, {})
    apply_pack(reader, got.data)
    reader.refs[b"refs/heads/main"] = merged
    fsck(tmp_path / "reader")
    reader.close()
    repo.close()


async def test_saves_of_the_same_second_are_not_sent_again(
    db: Database, repo_id: int, objects: ObjectStore, tmp_path: Path
) -> None:
    # Two writers save and merge back and forth twenty times, all within one second (as a
    # busy shared project does): a fetch by the first writer after the second's latest
    # save and the merge of it brings those two commits and nothing the first already has.
    repo = Repo.init(str(tmp_path / "writer"), mkdir=True)
    when = 1_700_000_000
    merged = commit(repo, {b"a.md": b"a0\n", b"b.md": b"b0\n"}, [], when)
    for step in range(1, 21):
        a_text, b_text = f"a{step}\n".encode(), f"b{step}\n".encode()
        ours = commit(repo, {b"a.md": a_text, b"b.md": f"b{step - 1}\n".encode()}, [merged], when)
        theirs = commit(repo, {b"a.md": f"a{step - 1}\n".encode(), b"b.md": b_text}, [merged], when)
        merged = commit(repo, {b"a.md": a_text, b"b.md": b_text}, [ours, theirs], when)
    async with db.write() as session:
        await ingest_pack(
            session, repo_id, build_push_pack(repo, [merged], []), LIMITS, objects=objects
        )
    async with db.read() as session:
        new, boundary = await CommitGraph(session, objects, repo_id).difference(
            [merged.decode()], [ours.decode()]
        )
    assert set(new) == {merged.decode(), theirs.decode()}
    assert ours.decode() in boundary
    got = await fetch(db, repo_id, [merged], [ours])
    assert got.objects == 5  # the two commits, their two trees, the second writer's b.md
    repo.close()

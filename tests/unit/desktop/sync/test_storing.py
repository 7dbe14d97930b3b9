"""Storing a fetched pack: small ones as loose objects, large ones as packs, bad ones not at all."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from dulwich.object_format import SHA1
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree
from dulwich.pack import REF_DELTA, PackData
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitwrite.packs import IncompleteHistory, MissingBases, PackError, build_push_pack
from gitwrite_desktop.core.sync import storing
from gitwrite_desktop.core.sync.storing import store_pack
from tests.compat.gitcli import fsck

CHAPTER = b"chapter-01.md"
TEXT = b"".join(b"Line %d of the chapter, as the writer left it.\n" % n for n in range(400))
EDITED = TEXT.replace(b"Line 200 of", b"Line 200, rewritten, of")


def save(repo: Repo, files: dict[bytes, bytes], *parents: ObjectID) -> ObjectID:
    """A commit of ``files`` on ``parents``, its objects added to ``repo``."""
    objects: list[ShaFile] = []
    tree = Tree()
    for name, text in files.items():
        blob = Blob.from_string(text)
        tree.add(name, 0o100644, blob.id)
        objects.append(blob)
    commit = Commit()
    commit.tree = tree.id
    commit.parents = list(parents)
    commit.author = commit.committer = b"Writer <writer@example.com>"
    commit.author_time = commit.commit_time = 1_700_000_000 + len(parents)
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"Save\n"
    for obj in [*objects, tree, commit]:
        repo.object_store.add_object(obj)
    return commit.id


def two_saves(root: Path) -> tuple[Repo, ObjectID, ObjectID]:
    """A repository with a first save of the chapter and a second that edits one line."""
    repo = Repo.init_bare(str(root), mkdir=True)
    old = save(repo, {CHAPTER: TEXT})
    new = save(repo, {CHAPTER: EDITED}, old)
    return repo, old, new


def receiver(root: Path, source: Repo | None = None, *tips: ObjectID) -> Repo:
    """A repository holding, as loose objects, what ``tips`` reach in ``source``."""
    repo = Repo.init_bare(str(root), mkdir=True)
    if source is not None:
        todo = list(tips)
        while todo:
            obj = source.object_store[todo.pop()]
            repo.object_store.add_object(obj)
            if isinstance(obj, Commit):
                todo += [obj.tree, *obj.parents]
            elif isinstance(obj, Tree):
                todo += [e.sha for e in obj.iteritems() if e.sha is not None]
    if tips:
        repo.refs[Ref(b"refs/heads/main")] = tips[0]
    return repo


def contents(repo: Repo) -> tuple[set[ObjectID], list[str]]:
    """Every object id in ``repo`` and every file name in its pack folder."""
    packs = sorted(p.name for p in (Path(repo.path) / "objects" / "pack").iterdir())
    return set(repo.object_store), packs


def entry_types(pack: bytes) -> list[int]:
    data = PackData.from_file(io.BytesIO(pack), SHA1, len(pack))
    return [u.pack_type_num for u in data.iter_unpacked()]


def save_objects(source: Repo, save: ObjectID) -> set[ObjectID]:
    """The save's commit, its tree and its chapter: what a one-chapter save adds."""
    commit = source.object_store[save]
    assert isinstance(commit, Commit)
    tree = source.object_store[commit.tree]
    assert isinstance(tree, Tree)
    return {save, commit.tree, tree[CHAPTER][1]}


def test_a_small_thin_pack_is_stored_as_loose_objects(tmp_path: Path) -> None:
    source, old, new = two_saves(tmp_path / "source")
    pack = build_push_pack(source, [new], [old])
    # The commit and the small tree whole, the chapter as a delta against the old one.
    assert entry_types(pack) == [Commit.type_num, Tree.type_num, REF_DELTA]
    target = receiver(tmp_path / "target", source, old)
    before, packs = contents(target)
    stored = store_pack(target, pack)
    assert stored == save_objects(source, new)
    after, packs_after = contents(target)
    assert after == before | stored
    assert packs_after == packs == []
    store = target.object_store
    assert all(store.contains_loose(sha) for sha in stored)
    [blob] = [store[sha] for sha in stored if store[sha].type_num == Blob.type_num]
    assert isinstance(blob, Blob)
    assert blob.data == EDITED
    target.refs[Ref(b"refs/heads/main")] = new
    fsck(Path(target.path))


def test_a_thin_pack_without_its_bases_stores_nothing(tmp_path: Path) -> None:
    source, old, new = two_saves(tmp_path / "source")
    pack = build_push_pack(source, [new], [old])
    target = receiver(tmp_path / "target")
    before = contents(target)
    with pytest.raises(MissingBases) as info:
        store_pack(target, pack)
    commit = source.object_store[old]
    assert isinstance(commit, Commit)
    tree = source.object_store[commit.tree]
    assert isinstance(tree, Tree)
    assert info.value.missing == (tree[CHAPTER][1].decode(),)
    assert contents(target) == before


def test_a_pack_whose_parent_is_missing_stores_nothing(tmp_path: Path) -> None:
    source, old, new = two_saves(tmp_path / "source")
    pack = build_push_pack(source, [new], [old], max_depth=0)  # whole objects, no deltas
    assert REF_DELTA not in entry_types(pack)
    target = receiver(tmp_path / "target")
    before = contents(target)
    with pytest.raises(IncompleteHistory) as info:
        store_pack(target, pack)
    assert info.value.missing == (old.decode(),)
    assert contents(target) == before


def test_a_pack_with_an_invalid_tree_stores_nothing(tmp_path: Path) -> None:
    source = Repo.init_bare(str(tmp_path / "source"), mkdir=True)
    bad = save(source, {b".git": b"escape\n"})
    target = receiver(tmp_path / "target")
    before = contents(target)
    with pytest.raises(PackError, match="invalid object"):
        store_pack(target, build_push_pack(source, [bad], []))
    assert contents(target) == before


_HEADER = b"PACK" + (2).to_bytes(4, "big") + (1).to_bytes(4, "big")
_BROKEN = _HEADER + b"\x95not a zlib stream at all"


@pytest.mark.parametrize(
    "garbage",
    [
        b"this is not a pack, only some words about one",
        b"PACK",
        _HEADER + bytes(40),
        # A bad header, and a right checksum over a broken compressed entry.
        b"PACK" + bytes(60),
        _BROKEN + hashlib.sha1(_BROKEN).digest(),
    ],
    ids=["words", "header only", "zero entries", "version 0", "right checksum, bad zlib"],
)
def test_garbage_is_a_pack_error_and_stores_nothing(tmp_path: Path, garbage: bytes) -> None:
    source, old, _ = two_saves(tmp_path / "source")
    target = receiver(tmp_path / "target", source, old)
    before = contents(target)
    with pytest.raises(PackError):
        store_pack(target, garbage)
    assert contents(target) == before


@pytest.mark.parametrize(
    "damage",
    [lambda p: p[:-1], lambda p: p[:-20] + bytes(20), lambda p: p[:40] + b"\xff" + p[41:]],
    ids=["truncated", "wrong checksum", "changed byte"],
)
def test_a_damaged_pack_is_a_pack_error_and_stores_nothing(tmp_path: Path, damage: object) -> None:
    source, old, new = two_saves(tmp_path / "source")
    pack = build_push_pack(source, [new], [old])
    target = receiver(tmp_path / "target", source, old)
    before = contents(target)
    with pytest.raises(PackError):
        store_pack(target, damage(pack))  # type: ignore[operator]
    assert contents(target) == before


def test_an_empty_pack_stores_nothing(tmp_path: Path) -> None:
    target = receiver(tmp_path / "target")
    assert store_pack(target, b"") == set()
    assert contents(target) == (set(), [])


def test_a_pack_at_the_limit_is_stored_as_a_pack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, old, new = two_saves(tmp_path / "source")
    pack = build_push_pack(source, [new], [old])
    assert len(entry_types(pack)) == 3
    monkeypatch.setattr(storing, "UNPACK_LIMIT", 3)
    target = receiver(tmp_path / "target", source, old)
    before, _ = contents(target)
    stored = store_pack(target, pack)
    sent = save_objects(source, new)
    # As apply_pack's, the ids include the delta base it copied in to make the pack whole.
    old_commit = source.object_store[old]
    assert isinstance(old_commit, Commit)
    old_tree = source.object_store[old_commit.tree]
    assert isinstance(old_tree, Tree)
    assert stored == sent | {old_tree[CHAPTER][1]}
    after, packs = contents(target)
    assert after == before | stored
    assert sorted(Path(p).suffix for p in packs) == [".idx", ".pack"]
    store = target.object_store
    assert all(store.contains_packed(sha) for sha in stored)
    assert not any(store.contains_loose(sha) for sha in sent)
    target.refs[Ref(b"refs/heads/main")] = new
    fsck(Path(target.path))

"""gitwrite.maintenance.repack: every object kept, one delta pack, bounded chains, crash-safe."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from dulwich.object_format import SHA1, ObjectFormat
from dulwich.object_store import BaseObjectStore
from dulwich.objects import Blob, Commit, ObjectID, Tag, Tree
from dulwich.pack import OFS_DELTA, REF_DELTA, PackData, create_delta, load_pack_index
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitwrite import _packwrite
from gitwrite._packorder import delta_bases
from gitwrite.maintenance import RepackReport, objects_size, repack
from tests.corpus import chapters
from tests.savehistory import build_history


def all_objects(repo: Repo) -> dict[bytes, tuple[int, bytes]]:
    """Every object of the repository, read whole."""
    return {sha: repo.object_store.get_raw(sha) for sha in set(repo.object_store)}


def loose_files(repo: Repo) -> list[Path]:
    objects = Path(repo.object_store.path)
    return [p for p in objects.glob("??/*") if len(p.parent.name) == 2]


def pack_files(repo: Repo, suffix: str = ".pack") -> list[Path]:
    return sorted((Path(repo.object_store.path) / "pack").glob(f"*{suffix}"))


def chain_depths(pack: Path) -> dict[bytes, int]:
    """Delta chain depth of every object in ``pack``, by binary sha."""
    depth_at: dict[int, int] = {}
    with PackData(str(pack), object_format=SHA1) as data:
        for unpacked in data.iter_unpacked():
            assert unpacked.offset is not None
            assert unpacked.pack_type_num != REF_DELTA, "repack writes offset deltas only"
            if unpacked.pack_type_num == OFS_DELTA:
                assert isinstance(unpacked.delta_base, int)
                depth_at[unpacked.offset] = depth_at[unpacked.offset - unpacked.delta_base] + 1
            else:
                depth_at[unpacked.offset] = 0
    index = load_pack_index(str(pack.with_suffix(".idx")), SHA1)
    try:
        return {sha: depth_at[offset] for sha, offset, _crc in index.iterentries()}
    finally:
        index.close()


@pytest.fixture
def history(tmp_path: Path) -> Iterator[Repo]:
    repo = build_history(tmp_path / "novel", 40, chapter_count=6)
    yield repo
    repo.close()


def test_every_object_survives_with_identical_content(history: Repo) -> None:
    before = all_objects(history)
    report = repack(history)

    assert isinstance(report, RepackReport)
    assert report.objects == len(before)
    assert 0 < report.deltas < report.objects
    assert loose_files(history) == []
    assert len(pack_files(history)) == 1
    assert all_objects(history) == before  # through the same Repo object
    with Repo(history.path) as fresh:
        assert all_objects(fresh) == before
        assert fresh.head() == history.head()


def test_report_sizes_match_the_objects_folder(history: Repo) -> None:
    objects = Path(history.object_store.path)
    on_disk = sum(p.stat().st_size for p in objects.rglob("*") if p.is_file())
    assert objects_size(history) == on_disk
    report = repack(history)
    assert report.size_before == on_disk
    assert report.size_after == objects_size(history) < report.size_before
    assert report.seconds > 0


def test_blob_and_tree_versions_become_deltas_against_their_path(history: Repo) -> None:
    commits = [entry.commit for entry in history.get_walker()]
    trees = {c.tree for c in commits}
    repack(history)
    depths = chain_depths(pack_files(history)[0])
    hexed = {sha.hex().encode(): d for sha, d in depths.items()}
    assert sum(1 for t in trees if hexed[t] == 0) == 1  # only the newest root tree is whole
    assert all(hexed[c.id] == 0 for c in commits)  # commits stay whole


@pytest.mark.parametrize("max_depth", [0, 1, 3, 7])
def test_chain_depth_never_exceeds_max_depth(tmp_path: Path, max_depth: int) -> None:
    with build_history(tmp_path / "novel", 60, chapter_count=1) as repo:
        before = all_objects(repo)
        report = repack(repo, max_depth=max_depth)
        depths = chain_depths(pack_files(repo)[0])
        assert max(depths.values()) == max_depth
        assert report.deltas == sum(1 for d in depths.values() if d)
        assert all_objects(repo) == before


def test_200_saves_of_a_chapter_pack_far_below_loose_size(tmp_path: Path) -> None:
    name, text = max(chapters(), key=lambda chapter: len(chapter[1]))  # ~29 KB
    with build_history(tmp_path / "novel", 200, texts={name: text}) as repo:
        report = repack(repo)
        # Loose, each save adds a whole copy of the chapter; packed, a delta of about a
        # hundred bytes plus its commit and tree.
        assert report.size_after * 10 < report.size_before
        assert report.size_after < 200 * 600
        assert max(chain_depths(pack_files(repo)[0]).values()) <= 50


def test_repack_twice_and_after_more_saves(history: Repo) -> None:
    first = repack(history)
    packed = pack_files(history)
    second = repack(history)
    assert pack_files(history) == packed  # the same bytes, so the same name: kept as is
    assert (second.objects, second.deltas) == (first.objects, first.deltas)
    assert second.size_after == first.size_after

    blob = Blob.from_string(b"A new chapter.\n")
    history.object_store.add_object(blob)
    before = all_objects(history)
    third = repack(history)
    assert third.objects == first.objects + 1
    assert len(pack_files(history)) == 1 and loose_files(history) == []
    assert all_objects(history) == before


def test_existing_packs_are_merged_into_one(tmp_path: Path) -> None:
    with build_history(tmp_path / "novel", 20, chapter_count=3) as repo:
        repo.object_store.pack_loose_objects()  # a whole-object pack, as dulwich makes
        with build_history(tmp_path / "other", 5, chapter_count=2, seed=7) as other:
            for sha in set(other.object_store):  # and a few loose objects
                repo.object_store.add_object(other.object_store[sha])
        assert len(pack_files(repo)) == 1 and loose_files(repo)
        before = all_objects(repo)
        report = repack(repo)
        assert report.objects == len(before)
        assert len(pack_files(repo)) == 1 and loose_files(repo) == []
        assert all_objects(repo) == before


def test_unreachable_objects_are_kept_whole(history: Repo) -> None:
    stray = Blob.from_string(b"a paragraph the writer cut, then missed\n" * 20)
    tree = Tree()
    tree.add(b"lost.md", 0o100644, stray.id)
    dangling = Commit()
    dangling.tree = tree.id
    dangling.author = dangling.committer = b"W <w@example.com>"
    dangling.author_time = dangling.commit_time = 1
    dangling.author_timezone = dangling.commit_timezone = 0
    dangling.message = b"crash remnant"
    for obj in (stray, tree, dangling):
        history.object_store.add_object(obj)
    before = all_objects(history)
    repack(history)
    assert all_objects(history) == before
    depths = chain_depths(pack_files(history)[0])
    for obj in (stray, tree, dangling):
        assert depths[bytes.fromhex(obj.id.decode())] == 0


def test_every_kind_of_ref_is_walked(history: Repo) -> None:
    """Objects reached only through unusual refs are grouped by path like the rest."""
    store = history.object_store
    parent: list[ObjectID] = []
    note_blobs = []
    text = b"".join(b'{"note": %d, "text": "Mr. Darcy is proud"}\n' % i for i in range(200))
    for i in range(12):
        text = text.replace(b'"note": %d,' % i, b'"note": %d, "done": true,' % i)
        blob = Blob.from_string(text)
        tree = Tree()
        tree.add(b"annotations.json", 0o100644, blob.id)
        commit = Commit()
        commit.tree = tree.id
        commit.parents = parent
        commit.author = commit.committer = b"W <w@example.com>"
        commit.author_time = commit.commit_time = 2_000_000_000 + i
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = b"annotations %d" % i
        for obj in (blob, tree, commit):
            store.add_object(obj)
        parent = [commit.id]
        note_blobs.append(blob.id)
    history.refs[Ref(b"refs/gitwrite/annotations")] = parent[0]
    tag = Tag()
    tag.name = b"draft-1"
    tag.tagger = b"W <w@example.com>"
    tag.tag_time, tag.tag_timezone = 3, 0
    tag.message = b"First draft"
    tag.object = (Commit, history.head())
    store.add_object(tag)
    history.refs[Ref(b"refs/tags/draft-1")] = tag.id

    before = all_objects(history)
    repack(history)
    assert all_objects(history) == before
    depths = chain_depths(pack_files(history)[0])
    as_delta = [depths[bytes.fromhex(b.decode())] > 0 for b in note_blobs]
    assert as_delta == [True] * 11 + [False]  # the newest (last made) whole, older ones deltas
    assert history[Ref(b"refs/tags/draft-1")].id == tag.id


def test_chapters_in_a_folder_deltify_the_inner_trees(tmp_path: Path) -> None:
    with build_history(tmp_path / "novel", 30, chapter_count=4, folder="manuscript") as repo:
        before = all_objects(repo)
        repack(repo)
        assert all_objects(repo) == before
        depths = chain_depths(pack_files(repo)[0])

        def wholes(kind: int, min_size: int = 0) -> int:
            return sum(
                1
                for sha, (t, raw) in before.items()
                if t == kind and len(raw) >= min_size and not depths[bytes.fromhex(sha.decode())]
            )

        assert wholes(Blob.type_num) == 4  # the newest version of each chapter
        assert wholes(Tree.type_num, min_size=100) == 1  # the newest "manuscript" tree


def test_empty_repository(tmp_path: Path) -> None:
    with Repo.init(str(tmp_path / "empty"), mkdir=True) as repo:
        report = repack(repo)
        assert (report.objects, report.deltas) == (0, 0)
        assert report.size_after == report.size_before
        assert pack_files(repo) == []


def test_negative_depth_is_refused(history: Repo) -> None:
    with pytest.raises(ValueError):
        repack(history, max_depth=-1)


def test_corrupt_loose_object_is_left_in_place(history: Repo) -> None:
    before = all_objects(history)
    fake = "ab" + "c" * 38
    bad = Path(history.object_store.path) / fake[:2] / fake[2:]
    bad.parent.mkdir(exist_ok=True)
    bad.write_bytes(zlib.compress(b"blob 5\x00hello"))  # content does not hash to its name
    report = repack(history)
    assert report.objects == len(before)
    assert bad.exists()
    assert all_objects_but(history, fake.encode()) == before


def all_objects_but(repo: Repo, skip: bytes) -> dict[bytes, tuple[int, bytes]]:
    return {s: repo.object_store.get_raw(s) for s in set(repo.object_store) if s != skip}


def test_crash_before_the_pack_is_in_place_changes_nothing(
    history: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = all_objects(history)
    loose = sorted(loose_files(history))

    def crash(src: object, dst: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        repack(history)
    assert sorted(loose_files(history)) == loose
    assert list((Path(history.object_store.path) / "pack").iterdir()) == []
    assert all_objects(history) == before


def test_crash_between_pack_and_index_rename_keeps_everything(
    history: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = all_objects(history)
    real_replace = os.replace
    calls = []

    def crash_second(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_second)
    with pytest.raises(OSError, match="power cut"):
        repack(history)
    monkeypatch.undo()
    assert len(pack_files(history)) == 1 and pack_files(history, ".idx") == []
    with Repo(history.path) as fresh:
        assert all_objects(fresh) == before
    repack(history)  # the next repack completes the half-moved pack
    assert len(pack_files(history)) == 1 and len(pack_files(history, ".idx")) == 1
    assert loose_files(history) == []
    assert all_objects(history) == before


def test_kept_pack_is_left_alone(history: Repo) -> None:
    history.object_store.pack_loose_objects()
    [kept] = pack_files(history)
    kept.with_suffix(".keep").write_text("writer's archive\n")
    blob = Blob.from_string(b"new text\n")
    history.object_store.add_object(blob)
    before = all_objects(history)
    report = repack(history)
    assert report.objects == 1
    assert kept.exists() and len(pack_files(history)) == 2
    assert all_objects(history) == before


def test_deltas_use_the_rust_create_delta() -> None:
    assert create_delta.__name__ == "_create_delta_rs_wrapper"


@pytest.mark.parametrize("max_depth", [0, 1, 2, 5, 10, 50])
def test_delta_bases_keep_depth_and_order(max_depth: int) -> None:
    for count in [*range(0, 60), 199, 200, 676, 677, 1500]:
        bases = delta_bases(count, max_depth)
        assert len(bases) == count
        depth: list[int] = []
        for position, base in enumerate(bases):
            if base is None:
                depth.append(0)
            else:
                assert 0 <= base < position
                depth.append(depth[base] + 1)
        assert max(depth, default=0) <= max_depth
        wholes = bases.count(None)
        if max_depth and count:
            capacity = max(s * (max_depth - s + 2) for s in range(1, max_depth + 2))
            assert wholes == -(-count // capacity)  # as few whole versions as the depth allows


def test_pack_holding_an_unreadable_object_is_not_deleted(
    history: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history.object_store.pack_loose_objects()
    [old] = pack_files(history)
    before = all_objects(history)
    victim = history.head()
    real_read = _packwrite._read_whole

    def failing_read(store: BaseObjectStore, sha: ObjectID, fmt: ObjectFormat) -> object:
        return None if sha == victim else real_read(store, sha, fmt)

    monkeypatch.setattr(_packwrite, "_read_whole", failing_read)
    report = repack(history)
    assert report.objects == len(before) - 1
    assert old.exists() and len(pack_files(history)) == 2
    assert all_objects(history) == before


def test_pack_with_an_unreadable_index_is_left_alone(history: Repo) -> None:
    history.object_store.pack_loose_objects()
    [old] = pack_files(history)
    old.with_suffix(".idx").chmod(0o644)
    old.with_suffix(".idx").write_bytes(b"not an index")
    blob = Blob.from_string(b"saved after the damage\n")
    history.object_store.add_object(blob)
    report = repack(history)
    assert report.objects == 1
    assert old.exists() and old.with_suffix(".idx").read_bytes() == b"not an index"

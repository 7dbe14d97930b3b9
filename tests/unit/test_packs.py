"""gitwrite.packs: thin push packs (what is sent, how small) and storing received packs."""

from __future__ import annotations

import hashlib
import io
import shutil
import zlib
from pathlib import Path

import pytest
from dulwich.object_format import SHA1
from dulwich.objects import Blob, Commit, ObjectID, Tag, Tree
from dulwich.pack import OFS_DELTA, REF_DELTA, PackData, create_delta
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitwrite.packs import IncompleteHistory, MissingBases, PackError, apply_pack, build_push_pack
from gitwrite.project import Project
from tests.builders import build_history, make_project, write
from tests.corpus import novel, paragraphs

CHAPTER = "chapter-01.md"


def big_chapter() -> str:
    """A 600 KB chapter: the first 600,000 characters of Pride and Prejudice."""
    return novel("pride_and_prejudice")[:600_000]


def edit(text: str, n: int) -> str:
    """``text`` with a word added to its ``n``-th long paragraph."""
    para = [p for p in paragraphs(text) if len(p) > 300][n]
    return text.replace(para, para.replace(" ", f" edit{n} ", 1), 1)


def pack_entries(pack: bytes) -> list[tuple[int, object]]:
    """``(pack type, delta base)`` of every object in ``pack``, in pack order."""
    data = PackData.from_file(io.BytesIO(pack), SHA1, len(pack))
    return [(u.pack_type_num, u.delta_base) for u in data.iter_unpacked()]


def chain_depths(pack: bytes) -> list[int]:
    """Delta chain depth inside the pack of each object (external bases count as 0)."""
    data = PackData.from_file(io.BytesIO(pack), SHA1, len(pack))
    depth_at: dict[int, int] = {}
    depths = []
    for u in data.iter_unpacked():
        assert u.offset is not None
        if u.pack_type_num == OFS_DELTA:
            assert isinstance(u.delta_base, int)
            depth = depth_at[u.offset - u.delta_base] + 1
        else:
            depth = 1 if u.pack_type_num == REF_DELTA else 0
        depth_at[u.offset] = depth
        depths.append(depth)
    return depths


def clone_at(source: Project, commit: ObjectID, dest: Path) -> Repo:
    """A copy of ``source``'s repository holding only what ``commit`` reaches (its base)."""
    repo = Repo.init_bare(str(dest), mkdir=True)
    pack = build_push_pack(source.repo, [commit], [])
    apply_pack(repo, pack)
    repo.refs[Ref(b"refs/heads/main")] = commit
    return repo


@pytest.fixture(scope="module")
def chaptered_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project holding the 600 KB chapter, made once and copied for each test."""
    root = tmp_path_factory.mktemp("template") / "p"
    make_project(root, {CHAPTER: big_chapter(), "notes.md": "Notes.\n"}).close()
    return root


@pytest.fixture
def chaptered(chaptered_template: Path, tmp_path: Path) -> Project:
    shutil.copytree(chaptered_template, tmp_path / "p")
    return Project.open(tmp_path / "p")


def test_deltas_come_from_the_rust_extension() -> None:
    assert create_delta.__name__ == "_create_delta_rs_wrapper"


def test_one_paragraph_edit_of_a_600_kb_chapter_is_a_tiny_thin_pack(
    chaptered: Project, tmp_path: Path
) -> None:
    base = chaptered.head_id()
    assert base is not None
    write(chaptered, {CHAPTER: edit(big_chapter(), 40)})
    chaptered.save()
    new = chaptered.head_id()
    assert new is not None
    pack = build_push_pack(chaptered.repo, [new], [base])
    assert len(pack) < 1024  # the goal is 5 KB; a whole copy would be ~220 KB
    types = [t for t, _ in pack_entries(pack)]
    # The commit whole; the root tree and the chapter as deltas against what the server has.
    assert sorted(types) == sorted([Commit.type_num, REF_DELTA, REF_DELTA])
    server = clone_at(chaptered, base, tmp_path / "server")
    assert new not in server.object_store
    stored = apply_pack(server, pack)
    assert new in stored
    assert (
        server.object_store[new].as_raw_string() == chaptered.repo.object_store[new].as_raw_string()
    )
    commit = server.object_store[new]
    assert isinstance(commit, Commit)
    tree = server.object_store[commit.tree]
    assert isinstance(tree, Tree)
    blob = server.object_store[tree[CHAPTER.encode()][1]]
    assert isinstance(blob, Blob)
    assert blob.data == edit(big_chapter(), 40).encode()


def test_the_pack_holds_exactly_what_the_known_commit_lacks(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", {"a.md": "A\n", "b.md": "B\n", "sub/c.md": "C\n"})
    base = project.head_id()
    assert base is not None
    build_history(project, [{"a.md": "A2\n"}, {"sub/c.md": "C2\n"}, {"b.md": None}])
    new = project.head_id()
    assert new is not None
    pack = build_push_pack(project.repo, [new], [base])
    server = clone_at(project, base, tmp_path / "server")
    before = set(server.object_store)
    stored = apply_pack(server, pack)
    expected = set(project.repo.object_store) - before
    reachable = expected & _closure(project.repo, new)
    assert stored - before == reachable
    # three commits, a.md and c.md, three root trees and two versions of sub/
    assert len(reachable) == 3 + 2 + 3 + 1


def _closure(repo: Repo, tip: ObjectID) -> set[ObjectID]:
    seen: set[ObjectID] = set()
    todo = [tip]
    while todo:
        sha = todo.pop()
        if sha in seen:
            continue
        seen.add(sha)
        obj = repo.object_store[sha]
        if isinstance(obj, Commit):
            todo += [obj.tree, *obj.parents]
        elif isinstance(obj, Tree):
            todo += [e.sha for e in obj.iteritems() if e.sha is not None]
        elif isinstance(obj, Tag):
            todo.append(obj.object[1])
    return seen


def test_nothing_new_gives_an_empty_pack(chaptered: Project) -> None:
    head = chaptered.head_id()
    assert head is not None
    assert build_push_pack(chaptered.repo, [head], [head]) == b""
    assert apply_pack(chaptered.repo, b"") == set()


def test_a_known_id_never_seen_locally_is_ignored(chaptered: Project, tmp_path: Path) -> None:
    head = chaptered.head_id()
    assert head is not None
    pack = build_push_pack(chaptered.repo, [head], [ObjectID(b"1" * 40)])
    assert REF_DELTA not in [t for t, _ in pack_entries(pack)]
    empty = Repo.init_bare(str(tmp_path / "empty"), mkdir=True)
    assert head in apply_pack(empty, pack)


def test_many_saves_at_once_chain_inside_the_pack_within_the_depth(tmp_path: Path) -> None:
    text = big_chapter()[:40_000]
    project = make_project(tmp_path / "p", {CHAPTER: text})
    base = project.head_id()
    assert base is not None
    saves = []
    for n in range(30):
        text = edit(text, n)
        saves.append({CHAPTER: text})
    build_history(project, saves)
    new = project.head_id()
    assert new is not None
    pack = build_push_pack(project.repo, [new], [base])
    assert Blob.type_num not in [t for t, _ in pack_entries(pack)]  # every version a delta
    assert len(pack) < 8_000  # one whole copy would be ~15 KB
    shallow = build_push_pack(project.repo, [new], [base], max_depth=5)
    assert max(chain_depths(shallow)) <= 5
    # Chains of at most 5 hold 12 versions each (see delta_bases): two blocks start whole.
    assert [t for t, _ in pack_entries(shallow)].count(Blob.type_num) == 2
    server = clone_at(project, base, tmp_path / "server")
    apply_pack(server, pack)
    assert _closure(project.repo, new) <= set(server.object_store)


def test_a_merge_sends_only_the_merge_and_what_it_made(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", {"a.md": "One.\n\nTwo.\n", "b.md": "Bee.\n"})
    project.explorations.create("side")
    build_history(project, [{"a.md": "One!\n\nTwo.\n"}])
    project.explorations.switch("side")
    build_history(project, [{"a.md": "One.\n\nTwo!\n"}])
    side = project.head_id()
    project.explorations.switch("main")
    main = project.head_id()
    assert side is not None and main is not None
    project.explorations.merge("side")
    merge = project.head_id()
    assert merge is not None
    pack = build_push_pack(project.repo, [merge], [main, side])
    entries = pack_entries(pack)
    # the merge commit, its root tree and the merged a.md
    assert len(entries) == 3
    assert project.read("a.md") == "One!\n\nTwo!\n"


def test_a_new_milestone_sends_its_tag(chaptered: Project, tmp_path: Path) -> None:
    head = chaptered.head_id()
    assert head is not None
    chaptered.milestones.create("first draft")
    tag_id = chaptered.repo.refs[Ref(b"refs/tags/first-draft")]
    pack = build_push_pack(chaptered.repo, [tag_id], [head])
    assert [t for t, _ in pack_entries(pack)] == [Tag.type_num]
    server = clone_at(chaptered, head, tmp_path / "server")
    assert tag_id in apply_pack(server, pack)


def test_a_missing_local_object_is_a_pack_error(chaptered: Project) -> None:
    with pytest.raises(PackError, match="missing object"):
        build_push_pack(chaptered.repo, [ObjectID(b"2" * 40)], [])


# -- storing what arrives ------------------------------------------------------------


def one_save_pack(project: Project) -> tuple[ObjectID, ObjectID, bytes]:
    base = project.head_id()
    write(project, {CHAPTER: edit(big_chapter(), 7)})
    project.save()
    new = project.head_id()
    assert base is not None and new is not None
    return base, new, build_push_pack(project.repo, [new], [base])


def pack_dir(repo: Repo) -> list[Path]:
    return sorted((Path(repo.path) / "objects" / "pack").glob("*"))


def test_a_thin_pack_without_its_bases_is_refused_and_nothing_is_stored(
    chaptered: Project, tmp_path: Path
) -> None:
    _, new, pack = one_save_pack(chaptered)
    empty = Repo.init_bare(str(tmp_path / "empty"), mkdir=True)
    with pytest.raises(MissingBases) as info:
        apply_pack(empty, pack)
    assert info.value.missing  # the ids of the bases it lacks
    assert all(len(sha) == 40 for sha in info.value.missing)
    assert new not in empty.object_store
    assert [p for p in pack_dir(empty) if not p.name.startswith("tmp_")] == []


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p[:-1], "corrupt|parse"),  # truncated checksum
        (lambda p: p[:-20] + bytes(20), "corrupt|parse|checksum"),  # wrong checksum
        (lambda p: p[:40] + bytes([p[40] ^ 0xFF]) + p[41:], "corrupt|parse"),  # flipped bit
        (lambda p: b"NOPE" + p[4:], "not a git pack"),
        (lambda p: p + b"extra", "corrupt"),
        (lambda p: b"PACK", "not a git pack"),
    ],
)
def test_damaged_packs_are_refused(
    chaptered: Project, tmp_path: Path, damage: object, message: str
) -> None:
    base, new, pack = one_save_pack(chaptered)
    server = clone_at(chaptered, base, tmp_path / "server")
    before = pack_dir(server)
    with pytest.raises(PackError, match=message):
        apply_pack(server, damage(pack))  # type: ignore[operator]
    assert new not in server.object_store
    assert pack_dir(server) == before


def test_a_pack_over_the_size_limit_is_refused(chaptered: Project, tmp_path: Path) -> None:
    base, _, pack = one_save_pack(chaptered)
    server = clone_at(chaptered, base, tmp_path / "server")
    with pytest.raises(PackError, match="over the limit"):
        apply_pack(server, pack, max_bytes=len(pack) - 1)


@pytest.mark.parametrize("name", [b"..", b".git", b".GIT", b"a/b", b"\xff\xfe.md"])
def test_a_tree_entry_that_could_escape_the_folder_is_refused(tmp_path: Path, name: bytes) -> None:
    source = Repo.init_bare(str(tmp_path / "source"), mkdir=True)
    blob = Blob.from_string(b"text\n")
    tree = Tree()
    tree.add(name, 0o100644, blob.id)
    commit = Commit()
    commit.tree = tree.id
    commit.author = commit.committer = b"W <w@example.com>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"bad\n"
    for obj in (blob, tree, commit):
        source.object_store.add_object(obj)
    pack = build_push_pack(source, [commit.id], [])
    target = Repo.init_bare(str(tmp_path / "target"), mkdir=True)
    with pytest.raises(PackError, match="invalid object"):
        apply_pack(target, pack)
    assert commit.id not in target.object_store
    assert tree.id not in target.object_store
    assert pack_dir(target) == []


def test_a_hand_written_pack_with_a_wrong_object_is_refused(tmp_path: Path) -> None:
    """A 'commit' whose text is not a commit: the pack parses, the object does not."""
    body = b"tree nonsense\n\nhello\n"
    header = bytes([(Commit.type_num << 4) | (len(body) & 15) | 0x80, len(body) >> 4])
    data = b"PACK" + (2).to_bytes(4, "big") + (1).to_bytes(4, "big")
    data += header + zlib.compress(body)
    data += hashlib.sha1(data).digest()
    target = Repo.init_bare(str(tmp_path / "target"), mkdir=True)
    with pytest.raises(PackError):
        apply_pack(target, data)
    assert pack_dir(target) == []


def test_a_pack_applies_twice_without_harm(chaptered: Project, tmp_path: Path) -> None:
    base, new, pack = one_save_pack(chaptered)
    server = clone_at(chaptered, base, tmp_path / "server")
    first = apply_pack(server, pack)
    assert apply_pack(server, pack) == first
    assert new in server.object_store


def test_apply_pack_needs_a_repository_on_disk(chaptered: Project) -> None:
    from dulwich.repo import MemoryRepo

    head = chaptered.head_id()
    assert head is not None
    with pytest.raises(TypeError):
        apply_pack(MemoryRepo(), build_push_pack(chaptered.repo, [head], []))


def test_a_pushed_history_round_trips_into_an_empty_repository(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    build_history(project, [{"chapter-01.md": f"# One\n\nDraft {n}.\n"} for n in range(5)])
    head = project.head_id()
    assert head is not None
    copy = tmp_path / "copy"
    shutil.copytree(project.root, copy, ignore=shutil.ignore_patterns(".git"))
    repo = Repo.init(str(copy))
    apply_pack(repo, build_push_pack(project.repo, [head], []))
    assert _closure(project.repo, head) <= set(repo.object_store)


def test_a_pack_whose_history_is_incomplete_is_refused_when_asked(
    chaptered: Project, tmp_path: Path
) -> None:
    base = chaptered.head_id()
    assert base is not None
    server = clone_at(chaptered, base, tmp_path / "server")
    build_history(chaptered, [{"notes.md": "One.\n"}, {"notes.md": "Two.\n"}])
    head = chaptered.head_id()
    parent = chaptered.commit("HEAD~1").id
    assert head is not None
    pack = build_push_pack(chaptered.repo, [head], [parent], max_depth=0)  # no parent in it
    with pytest.raises(IncompleteHistory) as info:
        apply_pack(server, pack, complete=True)
    assert parent.decode() in info.value.missing
    assert head not in server.object_store
    assert head in apply_pack(server, pack)  # stored when completeness is not asked for


def test_object_kinds_come_from_headers_without_resolving_deltas(tmp_path: Path) -> None:
    from gitwrite._packcheck import object_types

    project = make_project(tmp_path / "p", {CHAPTER: big_chapter()[:50_000]})
    build_history(project, [{CHAPTER: edit(big_chapter()[:50_000], n)} for n in range(3)])
    head = project.head_id()
    assert head is not None
    target = Repo.init_bare(str(tmp_path / "t"), mkdir=True)
    ids = apply_pack(target, build_push_pack(project.repo, [head], []))
    [stored] = target.object_store.packs
    kinds = object_types(stored)
    assert set(kinds) == ids
    assert all(kinds[sha] == target.object_store[sha].type_num for sha in ids)

"""gitwrite.packs against the real git: git accepts our thin packs, and we accept git's."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dulwich.objects import ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitwrite.packs import apply_pack, build_push_pack
from gitwrite.project import Project
from tests.builders import build_history, make_project, write
from tests.compat.gitcli import GIT, fsck, git
from tests.corpus import novel, paragraphs

pytestmark = pytest.mark.compat

CHAPTER = "chapter-01.md"


def edit(text: str, n: int) -> str:
    para = [p for p in paragraphs(text) if len(p) > 300][n]
    return text.replace(para, para.replace(" ", f" edit{n} ", 1), 1)


def git_bytes(root: Path, *args: str, stdin: bytes = b"") -> bytes:
    assert GIT is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    result = subprocess.run(
        [GIT, "-C", str(root), *args], input=stdin, env=env, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


@pytest.fixture
def project(tmp_path: Path) -> Project:
    text = novel("pride_and_prejudice")[:600_000]
    return make_project(tmp_path / "writer", {CHAPTER: text, "notes.md": "Notes.\n"})


def clone_at(source: Path, commit: str, dest: Path) -> Path:
    """A git clone of ``source`` reset to ``commit`` and garbage-collected, so it holds
    exactly what ``commit`` reaches."""
    git(source.parent, "clone", "-q", "--no-local", "--bare", str(source), str(dest))
    git(dest, "update-ref", "refs/heads/main", commit)
    git(dest, "reflog", "expire", "--expire=now", "--all")
    git(dest, "gc", "-q", "--prune=now")
    return dest


def index_pack(root: Path, pack: bytes) -> None:
    """Store ``pack`` in ``root`` the way git receive-pack does with a thin pack."""
    git_bytes(root, "index-pack", "--fix-thin", "--stdin", "--strict", stdin=pack)


def test_git_index_pack_accepts_a_thin_pack_of_one_save(project: Project, tmp_path: Path) -> None:
    base = project.head_id()
    assert base is not None
    remote = clone_at(project.root, base.decode(), tmp_path / "remote.git")
    write(project, {CHAPTER: edit(project.read(CHAPTER), 12)})
    project.save()
    new = project.head_id()
    assert new is not None
    pack = build_push_pack(project.repo, [new], [base])
    assert len(pack) < 5_000
    index_pack(remote, pack)
    git(remote, "update-ref", "refs/heads/main", new.decode(), base.decode())
    fsck(remote)
    assert git(remote, "log", "--format=%H %s", "main") == git(
        project.root, "log", "--format=%H %s", "main"
    )
    assert git(remote, "show", f"main:{CHAPTER}") == project.read(CHAPTER)


def test_git_accepts_a_thin_pack_of_many_saves_and_a_merge(
    project: Project, tmp_path: Path
) -> None:
    base = project.head_id()
    assert base is not None
    remote = clone_at(project.root, base.decode(), tmp_path / "remote.git")
    text = project.read(CHAPTER)
    project.explorations.create("side")
    build_history(project, [{"notes.md": f"Notes {n}.\n"} for n in range(3)])
    project.explorations.switch("main")
    saves = []
    for n in range(25):
        text = edit(text, n)
        saves.append({CHAPTER: text})
    build_history(project, saves)
    project.explorations.merge("side")
    project.milestones.create("first draft")
    tag = project.repo.refs[Ref(b"refs/tags/first-draft")]
    new = project.head_id()
    assert new is not None
    pack = build_push_pack(project.repo, [new, tag], [base], max_depth=4)
    # 29 saves in chains of at most 4 (12 versions per chain); one whole copy is ~220 KB
    assert len(pack) < 3 * 220_000
    index_pack(remote, pack)
    git(remote, "update-ref", "refs/heads/main", new.decode())
    git(remote, "update-ref", "refs/tags/first-draft", tag.decode())
    fsck(remote)
    assert git(remote, "log", "--format=%H", "main") == git(project.root, "log", "--format=%H")
    depths = [
        int(line.split()[5])
        for idx in (remote / "objects" / "pack").glob("pack-*.idx")
        for line in git(remote, "verify-pack", "-v", str(idx)).splitlines()
        if len(line.split()) >= 7 and len(line.split()[0]) == 40
    ]
    assert 0 < max(depths) <= 4


def test_git_accepts_a_whole_history_into_an_empty_repository(
    project: Project, tmp_path: Path
) -> None:
    build_history(project, [{"notes.md": f"Notes {n}.\n"} for n in range(5)])
    head = project.head_id()
    assert head is not None
    empty = tmp_path / "empty.git"
    git(tmp_path, "init", "-q", "--bare", str(empty))
    pack = build_push_pack(project.repo, [head], [])
    git_bytes(empty, "index-pack", "--stdin", "--strict", stdin=pack)
    git(empty, "update-ref", "refs/heads/main", head.decode())
    fsck(empty)
    assert git(empty, "log", "--format=%H", "main") == git(project.root, "log", "--format=%H")


def test_we_accept_a_thin_pack_made_by_git(project: Project, tmp_path: Path) -> None:
    """``git pack-objects --thin`` (what ``git push`` sends) stored by `apply_pack`."""
    base = project.head_id()
    assert base is not None
    ours = tmp_path / "ours"
    shutil.copytree(project.root, ours)
    receiver = Repo(str(ours))
    write(project, {CHAPTER: edit(project.read(CHAPTER), 3)})
    project.save()
    new = project.head_id()
    assert new is not None
    pack = git_bytes(
        project.root,
        "pack-objects",
        "--thin",
        "--stdout",
        "--revs",
        "-q",
        stdin=f"{new.decode()}\n^{base.decode()}\n".encode(),
    )
    stored = apply_pack(receiver, pack)
    assert new in stored
    receiver.refs[Ref(b"refs/heads/main")] = new
    fsck(ours)
    assert git(ours, "show", f"main:{CHAPTER}") == project.read(CHAPTER)


def test_a_pack_received_from_git_round_trips(project: Project, tmp_path: Path) -> None:
    head = project.head_id()
    assert head is not None
    dest = tmp_path / "dest"
    repo = Repo.init(str(dest), mkdir=True)
    pack = git_bytes(project.root, "pack-objects", "--stdout", "--revs", "-q", stdin=head + b"\n")
    apply_pack(repo, pack)
    repo.refs[Ref(b"refs/heads/main")] = ObjectID(head)
    fsck(dest)

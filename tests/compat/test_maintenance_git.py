"""gitwrite.maintenance.repack, checked with the real git command-line tool."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from dulwich.objects import Blob, Commit
from dulwich.repo import Repo

from gitwrite.maintenance import repack
from tests.savehistory import build_history

pytestmark = pytest.mark.compat

GIT = shutil.which("git")


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` with a scrubbed environment; fail on a non-zero exit or stderr."""
    assert GIT is not None, "the git command-line tool is required for compat tests"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C")
    env.update(GIT_AUTHOR_NAME="Git User", GIT_AUTHOR_EMAIL="git@example.com")
    env.update(GIT_COMMITTER_NAME="Git User", GIT_COMMITTER_EMAIL="git@example.com")
    result = subprocess.run(
        [GIT, "-C", str(root), *args], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"git {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def fsck(root: Path) -> None:
    out = git(root, "fsck", "--strict", "--no-dangling", "--no-progress")
    assert out == ""


def count_objects(root: Path) -> dict[str, int]:
    lines = git(root, "count-objects", "-v").splitlines()
    return {key: int(value) for key, value in (line.split(": ") for line in lines)}


def verify_pack(root: Path) -> tuple[dict[str, int], int]:
    """Objects per type, and the longest delta chain, of the repository's only pack."""
    [idx] = (root / ".git" / "objects" / "pack").glob("*.idx")
    types: dict[str, int] = {}
    longest = 0
    for line in git(root, "verify-pack", "-v", str(idx)).splitlines():
        fields = line.split()
        if len(fields) >= 5 and len(fields[0]) == 40:
            types[fields[1]] = types.get(fields[1], 0) + 1
            if len(fields) >= 7:
                longest = max(longest, int(fields[5]))
    return types, longest


def all_contents(root: Path) -> str:
    """Every object git can find, with its type and size (a fingerprint of the object store)."""
    return git(root, "cat-file", "--batch-all-objects", "--batch-check", "--unordered")


@pytest.fixture
def novel(tmp_path: Path) -> Iterator[Repo]:
    repo = build_history(tmp_path / "novel", 60, chapter_count=8)
    yield repo
    repo.close()


def test_git_reads_the_repacked_history(novel: Repo) -> None:
    root = Path(novel.path)
    objects = sorted(all_contents(root).splitlines())
    log_before = git(root, "log", "-p", "--format=%H %s")

    report = repack(novel)

    fsck(root)
    assert sorted(all_contents(root).splitlines()) == objects
    assert git(root, "log", "-p", "--format=%H %s") == log_before
    counts = count_objects(root)
    assert (counts["count"], counts["packs"], counts["in-pack"]) == (0, 1, report.objects)
    assert counts["garbage"] == 0
    types, longest = verify_pack(root)
    assert types["blob"] + types["tree"] + types["commit"] == report.objects
    assert 0 < longest <= 50


def test_git_sees_chains_no_deeper_than_max_depth(tmp_path: Path) -> None:
    with build_history(tmp_path / "novel", 80, chapter_count=1) as repo:
        repack(repo, max_depth=4)
        root = Path(repo.path)
        fsck(root)
        _types, longest = verify_pack(root)
        assert longest == 4


def test_repack_replaces_packs_made_by_git_gc(novel: Repo) -> None:
    root = Path(novel.path)
    git(root, "-c", "pack.writeReverseIndex=true", "repack", "-adb")  # .rev and .bitmap too
    pack_dir = root / ".git" / "objects" / "pack"
    git_made = sorted(pack_dir.iterdir())
    assert {p.suffix for p in git_made} == {".pack", ".idx", ".rev", ".bitmap"}
    novel.object_store.add_object(Blob.from_string(b"Written after the gc.\n"))
    objects = sorted(all_contents(root).splitlines())

    repack(novel)

    assert not any(p.exists() for p in git_made)
    assert {p.suffix for p in pack_dir.iterdir()} == {".pack", ".idx"}
    fsck(root)
    assert sorted(all_contents(root).splitlines()) == objects


def test_cruft_pack_objects_are_kept(novel: Repo) -> None:
    root = Path(novel.path)
    cut = Blob.from_string(b"A scene the writer cut.\n")
    novel.object_store.add_object(cut)
    git(root, "gc", "--cruft", "--prune=never", "--quiet")
    assert list((root / ".git" / "objects" / "pack").glob("*.mtimes"))
    objects = sorted(all_contents(root).splitlines())

    repack(novel)

    assert sorted(all_contents(root).splitlines()) == objects
    assert git(root, "cat-file", "-p", cut.id.decode()) == "A scene the writer cut.\n"
    assert not list((root / ".git" / "objects" / "pack").glob("*.mtimes"))
    fsck(root)


def test_stale_multi_pack_index_is_removed(novel: Repo) -> None:
    root = Path(novel.path)
    git(root, "gc", "--quiet")
    git(root, "multi-pack-index", "write")
    repack(novel)
    assert not (root / ".git" / "objects" / "pack" / "multi-pack-index").exists()
    fsck(root)
    git(root, "log", "-p", "-3")


def test_refs_of_every_kind_survive(novel: Repo) -> None:
    root = Path(novel.path)
    git(root, "tag", "-a", "-m", "First draft", "draft-1", "HEAD~10")
    blob = git(root, "rev-parse", "HEAD:chapter-01.md").strip()
    git(root, "tag", "-a", "-m", "A chapter on its own", "chapter-one", blob)
    git(root, "update-ref", "refs/gitwrite/annotations", "HEAD~30")
    git(root, "branch", "exploration/darker-ending", "HEAD~5")
    refs = git(root, "for-each-ref", "--format=%(objectname) %(refname)")
    objects = sorted(all_contents(root).splitlines())

    repack(novel)

    assert git(root, "for-each-ref", "--format=%(objectname) %(refname)") == refs
    assert sorted(all_contents(root).splitlines()) == objects
    fsck(root)


def test_git_keeps_working_on_the_repacked_repository(novel: Repo) -> None:
    root = Path(novel.path)
    repack(novel)
    git(root, "checkout", "-q", "-f", "main")
    (root / "chapter-01.md").write_text("Rewritten by git.\n")
    git(root, "commit", "-q", "-am", "Edit with git")
    git(root, "gc", "--aggressive", "--quiet")
    fsck(root)
    with Repo(str(root)) as fresh:
        repack(fresh)
        head = fresh[fresh.head()]
        assert isinstance(head, Commit) and head.message == b"Edit with git\n"
    fsck(root)
    assert "Rewritten by git." in git(root, "show", "HEAD:chapter-01.md")

"""Explorations and merges, checked with the real git command-line tool (and the reverse)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitwrite.merging import MergeStatus
from gitwrite.project import Project
from tests.builders import make_project, write
from tests.compat.gitcli import fsck, git
from tests.corpus import chapters

pytestmark = pytest.mark.compat

OURS, THEIRS = "main story", "darker ending"


def unwrap(text: str) -> str:
    return re.sub(r"(?<=\S)\n(?=\S)", " ", text)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "novel", {n: unwrap(t) for n, t in chapters()[:3]})


def edit(project: Project, path: str, old: str, new: str) -> str:
    text = project.read(path)
    assert old in text
    write(project, {path: text.replace(old, new, 1)})
    return project.save(f"{path}: {old} -> {new}").id


def git_branches(project: Project) -> list[str]:
    return sorted(git(project.root, "branch", "--format=%(refname:short)").split())


def assert_agrees_with_git(project: Project) -> None:
    """fsck is clean; git's branches, current branch and log are the engine's."""
    fsck(project.root)
    assert git_branches(project) == sorted(e.branch for e in project.explorations.list())
    current = git(project.root, "symbolic-ref", "--short", "HEAD").strip()
    assert current == project.current_branch == project.explorations.current().branch
    for exploration in project.explorations.list():
        # Saves made in the same second have no order git and the engine must share, so
        # compare the graph: every save with its parents, and the newest first.
        engine = {s.id: s.parents for s in project.history(limit=1000, start=exploration.branch)}
        log = git(project.root, "log", "--format=%H %P", exploration.branch).splitlines()
        assert {line.split()[0]: tuple(line.split()[1:]) for line in log} == engine
        assert log[0].split()[0] == exploration.head


def test_create_switch_rename_delete_agree_with_git(project: Project) -> None:
    project.explorations.create(THEIRS, switch=True)
    assert_agrees_with_git(project)
    assert git(project.root, "status", "--porcelain") == ""
    edit(project, "chapter-02.md", "trimming a hat", "sharpening a knife")
    assert git(project.root, "status", "--porcelain") == ""
    assert git(project.root, "config", "branch.darker-ending.gitwriteName").strip() == THEIRS

    project.explorations.switch(OURS)
    assert_agrees_with_git(project)
    assert git(project.root, "status", "--porcelain") == ""
    assert "trimming a hat" in git(project.root, "show", "HEAD:chapter-02.md")

    project.explorations.rename(THEIRS, "lighter ending")
    assert_agrees_with_git(project)
    assert git(project.root, "config", "branch.lighter-ending.gitwriteName").strip() == (
        "lighter ending"
    )
    assert git(project.root, "config", "branch.darker-ending.gitwriteName", check=False) == ""

    project.explorations.delete("lighter ending", force=True)
    assert_agrees_with_git(project)
    assert git_branches(project) == ["main"]


def test_a_clean_merge_is_a_two_parent_commit_to_git(project: Project) -> None:
    project.explorations.create(THEIRS, switch=True)
    theirs = edit(project, "chapter-02.md", "trimming a hat", "sharpening a knife")
    project.explorations.switch(OURS)
    ours = edit(project, "chapter-01.md", "a single man", "a married man")

    outcome = project.explorations.merge(THEIRS)

    assert outcome.save is not None
    assert_agrees_with_git(project)
    assert git(project.root, "status", "--porcelain") == ""
    assert git(project.root, "log", "-1", "--format=%P").split() == [ours, theirs]
    assert git(project.root, "merge-base", "--is-ancestor", theirs, "HEAD", check=False) == ""
    assert "darker-ending" in git(project.root, "branch", "--merged", "HEAD")


def test_a_conflict_is_a_merge_in_progress_to_git(project: Project) -> None:
    project.explorations.create(THEIRS, switch=True)
    edit(project, "chapter-01.md", "a single man", "a lonely man")
    edit(project, "chapter-02.md", "trimming a hat", "sharpening a knife")
    theirs = project.head_id().decode()  # type: ignore[union-attr]
    project.explorations.switch(OURS)
    ours = edit(project, "chapter-01.md", "a single man", "a married man")

    outcome = project.explorations.merge(THEIRS)

    assert outcome.status is MergeStatus.CONFLICTS
    fsck(project.root)
    porcelain = git(project.root, "status", "--porcelain").splitlines()
    assert sorted(porcelain) == ["M  chapter-02.md", "UU chapter-01.md"]
    long_status = git(project.root, "status")
    assert "You have unmerged paths" in long_status
    assert git(project.root, "rev-parse", "MERGE_HEAD").strip() == theirs
    assert git(project.root, "rev-parse", "ORIG_HEAD").strip() == ours
    stages = git(project.root, "ls-files", "--unmerged").splitlines()
    assert [line.split()[2] for line in stages] == ["1", "2", "3"]
    assert git(project.root, "diff", "--name-only", "--diff-filter=U").split() == ["chapter-01.md"]

    save = project.explorations.complete_merge({"chapter-01.md": "Resolved.\n"})

    assert_agrees_with_git(project)
    assert git(project.root, "status", "--porcelain") == ""
    assert git(project.root, "rev-parse", "-q", "--verify", "MERGE_HEAD", check=False) == ""
    assert git(project.root, "log", "-1", "--format=%P").split() == [ours, theirs]
    assert git(project.root, "show", f"{save.id}:chapter-01.md") == "Resolved.\n"


def test_abort_leaves_git_a_clean_tree(project: Project) -> None:
    project.explorations.create(THEIRS, switch=True)
    edit(project, "chapter-01.md", "a single man", "a lonely man")
    write(project, {"epilogue.md": "Years later.\n"})
    project.save("Epilogue")
    project.explorations.switch(OURS)
    edit(project, "chapter-01.md", "a single man", "a married man")
    project.explorations.merge(THEIRS)
    assert "A  epilogue.md" in git(project.root, "status", "--porcelain").splitlines()

    project.explorations.abort_merge()

    assert git(project.root, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(project.root, "rev-parse", "-q", "--verify", "MERGE_HEAD", check=False) == ""
    assert_agrees_with_git(project)


def test_git_can_abort_or_commit_a_merge_gitwrite_began(project: Project) -> None:
    project.explorations.create(THEIRS, switch=True)
    theirs = edit(project, "chapter-01.md", "a single man", "a lonely man")
    project.explorations.switch(OURS)
    ours = edit(project, "chapter-01.md", "a single man", "a married man")

    project.explorations.merge(THEIRS)
    git(project.root, "merge", "--abort")
    assert git(project.root, "status", "--porcelain") == ""
    assert project.explorations.merge_state() is None
    assert project.status().clean

    project.explorations.merge(THEIRS)
    (project.root / "chapter-01.md").write_text("Resolved by git.\n")
    git(project.root, "add", "chapter-01.md")
    git(project.root, "commit", "--no-edit")
    assert git(project.root, "log", "-1", "--format=%P").split() == [ours, theirs]
    # Like after `git merge`, `git commit --no-edit` keeps the "# Conflicts:" lines.
    assert git(project.root, "log", "-1", "--format=%s").strip() == (
        "Merge exploration 'darker ending' into main story"
    )
    assert project.explorations.merge_state() is None
    assert project.status().clean
    fsck(project.root)


def test_a_branch_made_by_git_is_listed_and_mergeable(project: Project) -> None:
    git(project.root, "checkout", "-q", "-b", "git-idea")
    (project.root / "chapter-02.md").write_text(
        project.read("chapter-02.md").replace("trimming a hat", "reading a letter", 1)
    )
    git(project.root, "commit", "-q", "-am", "An idea from the command line")
    theirs = git(project.root, "rev-parse", "HEAD").strip()
    git(project.root, "checkout", "-q", "main")
    git(project.root, "pack-refs", "--all")  # the branch now lives in packed-refs

    listed = {e.branch: e for e in project.explorations.list()}
    assert listed["git-idea"].name == "git-idea" and listed["git-idea"].head == theirs
    assert not listed["git-idea"].merged

    outcome = project.explorations.merge("git-idea")

    assert outcome.save is not None and outcome.save.parents[1] == theirs
    assert "reading a letter" in project.read("chapter-02.md")
    assert_agrees_with_git(project)
    assert git(project.root, "status", "--porcelain") == ""
    project.explorations.delete("git-idea")
    assert git_branches(project) == ["main"]
    fsck(project.root)


def test_a_conflicted_merge_begun_by_git_can_be_completed(project: Project) -> None:
    git(project.root, "checkout", "-q", "-b", "git-idea")
    (project.root / "chapter-01.md").write_text(
        project.read("chapter-01.md").replace("a single man", "a lonely man", 1)
    )
    git(project.root, "commit", "-q", "-am", "Lonely")
    theirs = git(project.root, "rev-parse", "HEAD").strip()
    git(project.root, "checkout", "-q", "main")
    ours = edit(project, "chapter-01.md", "a single man", "a married man")
    git(project.root, "merge", "git-idea", check=False)

    state = project.explorations.merge_state()
    assert state is not None and state.by_git and state.their_head == theirs
    assert state.paths == ["chapter-01.md"]
    assert state.message == "Merge branch 'git-idea'"

    save = project.explorations.complete_merge({"chapter-01.md": "Resolved.\n"})

    assert save.parents == (ours, theirs)
    assert git(project.root, "status", "--porcelain") == ""
    assert_agrees_with_git(project)


def test_renaming_with_git_keeps_the_typed_name(project: Project) -> None:
    project.explorations.create(THEIRS)
    git(project.root, "branch", "-m", "darker-ending", "dark-end")
    assert project.explorations.get("dark-end").name == THEIRS
    assert project.explorations.get(THEIRS).branch == "dark-end"

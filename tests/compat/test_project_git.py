"""The engine's repositories, read by the real git command-line tool (and the reverse)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitwrite.model import ChangeKind
from gitwrite.project import Project
from gitwrite.prose import count_words
from tests.builders import build_history, make_project, write
from tests.compat.gitcli import fsck, git
from tests.corpus import chapters, paragraphs

pytestmark = pytest.mark.compat


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "novel", dict(chapters()[:4]))


def test_saves_pass_fsck_and_match_git_log(project: Project) -> None:
    text = project.read("chapter-02.md")
    for n, para in enumerate(paragraphs(text)[:5]):
        write(project, {"chapter-02.md": text.replace(para, para + f" Edit {n}.", 1)})
        project.save()
    fsck(project.root)
    engine = [s.id for s in project.history(limit=100)]
    assert git(project.root, "log", "--format=%H").split() == engine
    assert git(project.root, "status", "--porcelain") == ""
    subjects = git(project.root, "log", "--format=%s").splitlines()
    assert subjects == [s.summary for s in project.history(limit=100)]


def test_git_reads_every_file_at_every_save(project: Project) -> None:
    saves = build_history(project, [{"a.md": "One.\n"}, {"a.md": "Two.\n", "b/c.md": "Deep.\n"}])
    for save in saves:
        for path in project.files(at=save.id):
            assert git(project.root, "show", f"{save.id}:{path}") == project.read(path, save.id)


def test_git_diff_agrees_with_compare(project: Project) -> None:
    start = project.head_id()
    assert start is not None
    write(
        project,
        {
            "chapter-01.md": project.read("chapter-01.md").replace("truth", "fact", 1),
            "chapter-02.md": None,
            "extra.md": "A new file.\n",
        },
    )
    end = project.save()
    ours = {c.path: c.kind for c in project.compare(start.decode(), end.id)}
    letters = {"A": ChangeKind.ADDED, "M": ChangeKind.MODIFIED, "D": ChangeKind.DELETED}
    theirs = {}
    for line in git(project.root, "diff", "--name-status", start.decode(), end.id).splitlines():
        letter, path = line.split("\t")
        theirs[path] = letters[letter]
    assert ours == theirs
    words = git(
        project.root, "diff", "--word-diff=porcelain", start.decode(), end.id, "--", "chapter-01.md"
    )
    assert "-truth" in words and "+fact" in words


def test_status_agrees_with_git_status(project: Project) -> None:
    write(project, {"chapter-01.md": "changed\n", "new.md": "new\n", "chapter-03.md": None})
    ours = {c.path: c.kind for c in project.status().changes}
    porcelain = git(project.root, "status", "--porcelain", "--untracked-files=all").splitlines()
    theirs = {line[3:]: line[:2].strip() for line in porcelain}
    assert theirs == {"chapter-01.md": "M", "new.md": "??", "chapter-03.md": "D"}
    assert ours == {
        "chapter-01.md": ChangeKind.MODIFIED,
        "new.md": ChangeKind.ADDED,
        "chapter-03.md": ChangeKind.DELETED,
    }


def test_opens_a_repository_made_by_git(tmp_path: Path) -> None:
    root = tmp_path / "made-by-git"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "chapter-01.md").write_text(chapters()[0][1])
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first from git")
    project = Project.open(root)
    assert project.status().clean
    assert project.history()[0].summary == "first from git"
    assert project.history()[0].words_added == count_words(chapters()[0][1]) > 800
    (root / "chapter-01.md").write_text("Replaced.\n")
    project.save("from the engine")
    fsck(root)
    assert git(root, "log", "--format=%s").splitlines() == ["from the engine", "first from git"]
    assert git(root, "status", "--porcelain") == ""


def test_restore_and_revert_never_rewrite_history(project: Project) -> None:
    first = project.head_id()
    assert first is not None
    saves = build_history(project, [{"chapter-01.md": "gone\n"}, {"x.md": "x\n"}])
    project.restore(first.decode(), paths=["chapter-01.md"])
    project.revert(saves[1].id)
    fsck(project.root)
    log = git(project.root, "log", "--format=%H").split()
    assert first.decode() in log and saves[0].id in log and saves[1].id in log
    assert len(log) == 6
    assert git(project.root, "status", "--porcelain") == ""

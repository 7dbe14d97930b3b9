"""The annotations ref read, checked and merged by command-line git."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitwrite.annotation_store import REF
from gitwrite.project import Project
from tests.builders import make_project
from tests.compat.gitcli import fsck, git
from tests.corpus import chapters

pytestmark = pytest.mark.compat
CH1 = "chapter-01.md"
REF_NAME = REF.decode()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "novel", dict(chapters()[:3]))


def annotate(project: Project, phrase: str, **kw: object) -> str:
    text = project.read(CH1)
    start = text.index(phrase)
    kw.setdefault("kind", "comment")
    kw.setdefault("body", f"About {phrase}")
    return project.annotations.create(CH1, start, start + len(phrase), **kw).id  # type: ignore[arg-type]


def test_git_reads_every_annotation_as_json(project: Project) -> None:
    first = annotate(project, "Netherfield Park")
    suggestion = annotate(
        project, "universally acknowledged", kind="suggestion", body="", suggestion="widely held"
    )
    reply = project.annotations.reply(first, "Named after a real house?").id
    project.annotations.set_status(first, "resolved")
    fsck(project.root)
    for annotation_id in (first, suggestion, reply):
        path = f"annotations/{annotation_id[:2]}/{annotation_id}.json"
        shown = json.loads(git(project.root, "show", f"{REF_NAME}:{path}"))
        made = project.annotations.get(annotation_id)
        assert shown["id"] == made.id and shown["type"] == "annotation"
        assert shown["quote"] == made.quote
        assert shown["range"]["start"] == made.range.start
        assert shown["range"]["start_line"] == made.range.start_line
        assert shown["save"] == made.save
        assert shown["author"] == {"name": "Test Writer", "email": "writer@example.com"}
    path = f"annotations/{suggestion[:2]}/{suggestion}.json"
    shown = json.loads(git(project.root, "show", f"{REF_NAME}:{path}"))
    assert shown["suggestion"] == "widely held"
    listed = git(project.root, "ls-tree", "-r", "--name-only", REF_NAME).split()
    assert len(listed) == 4
    changes = [p for p in listed if p.startswith("status/")]
    assert len(changes) == 1 and changes[0].startswith(f"status/{first[:2]}/{first}/")
    # Every write is one commit: the ref keeps the history.
    assert len(git(project.root, "rev-list", REF_NAME).split()) == 4
    assert git(project.root, "log", "-1", "--format=%an <%ae>", REF_NAME).strip() == (
        "Test Writer <writer@example.com>"
    )


def test_annotations_never_touch_the_working_tree_or_index(project: Project) -> None:
    first = annotate(project, "Netherfield Park")
    project.annotations.reply(first, "Yes.")
    project.annotations.set_status(first, "resolved")
    assert git(project.root, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(project.root, "diff", "--cached", "--name-only") == ""
    assert git(project.root, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(project.root, "rev-list", "--count", "HEAD").strip() == "2"


def test_applying_a_suggestion_is_a_normal_save(project: Project) -> None:
    sid = annotate(project, "Netherfield Park", kind="suggestion", body="", suggestion="Longbourn")
    saved = project.annotations.apply_suggestion(sid)
    fsck(project.root)
    assert git(project.root, "rev-parse", "HEAD").strip() == saved.id
    assert "Longbourn is let at last" in git(project.root, "show", f"HEAD:{CH1}")
    assert git(project.root, "status", "--porcelain") == ""
    stats = git(project.root, "diff", "--numstat", "HEAD~1", "HEAD").split()
    assert stats[2] == CH1


def test_git_merges_offline_status_changes_without_conflict(project: Project) -> None:
    first = annotate(project, "Netherfield Park")
    base = git(project.root, "rev-parse", REF_NAME).strip()
    project.annotations.set_status(first, "rejected")
    project.annotations.reply(first, "Ours.")
    ours = git(project.root, "rev-parse", REF_NAME).strip()
    git(project.root, "update-ref", REF_NAME, base)  # another writer, offline, same start
    project.annotations.set_status(first, "resolved")
    project.annotations.reply(first, "Theirs.")
    theirs = git(project.root, "rev-parse", REF_NAME).strip()
    tree = git(project.root, "merge-tree", "--write-tree", ours, theirs).strip()
    merged = git(project.root, "commit-tree", tree, "-p", ours, "-p", theirs, "-m", "Merge").strip()
    git(project.root, "update-ref", REF_NAME, merged, theirs)
    fsck(project.root)
    thread = project.annotations.list()[0]
    assert [r.body for r in thread.replies] == ["Ours.", "Theirs."]
    assert thread.status == "resolved"  # the later of the two changes
    assert len([p for p in git(project.root, "ls-tree", "-r", "--name-only", merged).split()]) == 5

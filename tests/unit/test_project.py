"""The project core: create, open, status, save, history, read, restore, undo, compare."""

from __future__ import annotations

from pathlib import Path

import pytest
from dulwich.repo import Repo

from gitwrite.errors import (
    InvalidPath,
    MergeError,
    NotAProject,
    NothingToSave,
    ProjectExists,
    UnknownFile,
    UnknownRevision,
    UnsavedChanges,
)
from gitwrite.messages import default_message
from gitwrite.model import Author, ChangeKind
from gitwrite.project import Project
from gitwrite.prose import RunKind, count_words
from tests.builders import build_history, make_project, write
from tests.corpus import chapters, paragraphs


@pytest.fixture
def novel_files() -> dict[str, str]:
    return dict(chapters()[:3])


@pytest.fixture
def project(tmp_path: Path, novel_files: dict[str, str]) -> Project:
    return make_project(tmp_path / "novel", novel_files)


def test_create_makes_a_repository_with_a_starter_and_a_first_save(tmp_path: Path) -> None:
    project = Project.create(tmp_path / "book", author=Author("Jane", "jane@example.com"))
    assert (tmp_path / "book" / ".git").is_dir()
    assert (tmp_path / "book" / "chapter-01.md").read_text().startswith("# Chapter 1")
    assert ".DS_Store" in (tmp_path / "book" / ".gitignore").read_text()
    [first] = project.history()
    assert first.summary == "Start the project"
    assert (first.author, first.email) == ("Jane", "jane@example.com")
    assert project.files() == [".gitignore", "chapter-01.md"]
    assert project.current_branch == "main"
    assert project.status().clean


def test_create_refuses_an_existing_project(project: Project) -> None:
    with pytest.raises(ProjectExists):
        Project.create(project.root)


def test_open_refuses_a_folder_without_repository(tmp_path: Path) -> None:
    with pytest.raises(NotAProject):
        Project.open(tmp_path)


def test_status_reports_changed_new_and_deleted_files_with_words(project: Project) -> None:
    text = project.read("chapter-01.md")
    deleted_words = count_words(project.read("chapter-02.md"))
    write(
        project,
        {
            "chapter-01.md": text + "\nShe laughed at the thought of it.\n",
            "chapter-04.md": "# Chapter 4\n\nFour new words here.\n",
            "chapter-02.md": None,
        },
    )
    changes = {c.path: c for c in project.status().changes}
    assert changes["chapter-01.md"].kind is ChangeKind.MODIFIED
    assert changes["chapter-01.md"].words_added == 7
    assert changes["chapter-01.md"].words_removed == 0
    assert changes["chapter-04.md"].kind is ChangeKind.ADDED
    assert changes["chapter-04.md"].words_added == 6
    assert changes["chapter-02.md"].kind is ChangeKind.DELETED
    assert changes["chapter-02.md"].words_removed == deleted_words > 700
    assert sorted(changes) == ["chapter-01.md", "chapter-02.md", "chapter-04.md"]


def test_status_ignores_editor_junk(project: Project) -> None:
    (project.root / "chapter-01.md.swp").write_bytes(b"junk")
    (project.root / ".DS_Store").write_bytes(b"junk")
    assert project.status().clean


def test_save_generates_a_message_and_records_words(project: Project) -> None:
    text = project.read("chapter-02.md")
    write(project, {"chapter-02.md": text.replace("Mr. Bennet", "Mr. Bennet, smiling,", 1)})
    saved = project.save()
    assert saved.summary == "chapter-02.md: +1 words"
    assert (saved.words_added, saved.words_removed) == (1, 0)
    assert project.status().clean
    assert project.read("chapter-02.md", at=saved.id) == project.read("chapter-02.md")


def test_empty_save_is_refused(project: Project) -> None:
    before = project.head_id()
    with pytest.raises(NothingToSave, match="nothing to save"):
        project.save("again")
    assert project.head_id() == before


def test_save_chosen_files_leaves_others_unsaved(project: Project) -> None:
    write(project, {"chapter-01.md": "one\n", "chapter-02.md": "two\n"})
    saved = project.save("only one", paths=["chapter-01.md"])
    assert project.read("chapter-01.md", at=saved.id) == "one\n"
    assert project.read("chapter-02.md", at=saved.id) != "two\n"
    assert project.status().paths == ["chapter-02.md"]


def test_save_refuses_unsafe_paths(project: Project) -> None:
    for bad in ["../outside.md", "/etc/passwd", ".git/config", "a/../../b", "x/.GIT/y"]:
        with pytest.raises(InvalidPath):
            project.save(paths=[bad])
        with pytest.raises(InvalidPath):
            project.write_files({bad: b"x"})
    assert not (project.root.parent / "outside.md").exists()


def test_save_uses_the_author_from_the_project_settings(project: Project) -> None:
    project.set_author(Author("Elizabeth", "lizzy@example.com"))
    write(project, {"notes.md": "Remember Pemberley.\n"})
    saved = project.save()
    assert (saved.author, saved.email) == ("Elizabeth", "lizzy@example.com")
    assert Project.open(project.root).author.name == "Elizabeth"


def test_history_is_newest_first_and_paged(project: Project) -> None:
    saves = build_history(project, [{"draft.md": f"version {n}\n"} for n in range(12)])
    page1 = project.history(limit=5)
    page2 = project.history(limit=5, skip=5)
    assert [s.id for s in page1] == [s.id for s in reversed(saves[-5:])]
    assert [s.id for s in page2] == [s.id for s in reversed(saves[-10:-5])]
    assert len(project.history(limit=100)) == 12 + 2


def test_history_of_one_file(project: Project) -> None:
    build_history(project, [{"a.md": "one\n"}, {"b.md": "two\n"}, {"a.md": "three four\n"}])
    summaries = [s.summary for s in project.history(path="a.md")]
    assert summaries == ["Save 3", "Save 1"]
    assert [s.words_added for s in project.history(path="a.md")] == [2, 1]


def test_history_counts_words_of_saves_made_by_other_tools(project: Project) -> None:
    write(project, {"chapter-09.md": "Made by another tool entirely.\n"})
    repo = Repo(str(project.root))
    from dulwich import porcelain

    porcelain.add(repo, [str(project.root / "chapter-09.md")])
    porcelain.commit(repo, message=b"plain git commit", author=b"A <a@b>", committer=b"A <a@b>")
    newest = Project.open(project.root).history(limit=1)[0]
    assert newest.summary == "plain git commit"
    assert (newest.words_added, newest.words_removed) == (5, 0)


def test_read_any_file_at_any_save(project: Project) -> None:
    saves = build_history(project, [{"a.md": "first\n"}, {"a.md": "second\n"}])
    assert project.read("a.md", at=saves[0].id) == "first\n"
    assert project.read("a.md", at=saves[0].id[:10]) == "first\n"
    assert project.read("a.md", at="HEAD~1") == "first\n"
    assert project.read("a.md", at="main") == "second\n"
    with pytest.raises(UnknownFile):
        project.read("missing.md", at="HEAD")
    with pytest.raises(UnknownRevision):
        project.read("a.md", at="no-such-save")
    with pytest.raises(UnknownRevision):
        project.read("a.md", at="HEAD~99")


def test_restore_a_file_is_a_new_save(project: Project) -> None:
    original = project.read("chapter-01.md")
    first = project.head_id()
    assert first is not None
    build_history(project, [{"chapter-01.md": "rewritten\n"}, {"chapter-01.md": "again\n"}])
    count = len(project.history(limit=100))
    restored = project.restore(first.decode(), paths=["chapter-01.md"])
    assert project.read("chapter-01.md") == original
    assert len(project.history(limit=100)) == count + 1
    assert restored.parents[0] != first.decode()
    assert restored.summary.startswith("Restore chapter-01.md to the save of")


def test_restore_the_whole_project_removes_later_files(project: Project) -> None:
    first = project.history()[0].id
    build_history(project, [{"new.md": "later file\n", "chapter-01.md": "changed\n"}])
    project.restore(first)
    assert not (project.root / "new.md").exists()
    assert project.files() == project.files(at=first)
    assert project.status().clean


def test_restore_refuses_to_lose_unsaved_work(project: Project) -> None:
    first = project.history()[0].id
    build_history(project, [{"chapter-01.md": "saved\n"}])
    write(project, {"chapter-01.md": "unsaved work\n"})
    with pytest.raises(UnsavedChanges, match=r"chapter-01\.md"):
        project.restore(first, paths=["chapter-01.md"])
    assert project.read("chapter-01.md") == "unsaved work\n"


def test_revert_undoes_one_save_keeping_later_ones(project: Project) -> None:
    text = project.read("chapter-01.md")
    paras = paragraphs(text)
    edited_first = text.replace(paras[1], paras[1].upper(), 1)
    saves = build_history(project, [{"chapter-01.md": edited_first}])
    later = edited_first.replace(paras[3], "A completely new paragraph.", 1)
    build_history(project, [{"chapter-01.md": later}])
    undone = project.revert(saves[0].id)
    result = project.read("chapter-01.md")
    assert paras[1] in result and paras[1].upper() not in result
    assert "A completely new paragraph." in result
    assert undone.summary == 'Undo "Save 1"'


def test_revert_that_conflicts_changes_nothing(project: Project) -> None:
    saves = build_history(project, [{"a.md": "The cat sat.\n"}, {"a.md": "The dog sat.\n"}])
    build_history(project, [{"a.md": "The bird sat.\n"}])
    head = project.head_id()
    with pytest.raises(MergeError, match=r"a\.md"):
        project.revert(saves[1].id)
    assert project.head_id() == head
    assert project.read("a.md") == "The bird sat.\n"


def test_compare_two_saves_word_by_word(project: Project) -> None:
    saves = build_history(
        project,
        [{"a.md": "The character walked home.\n"}, {"a.md": "The protagonist walked home.\n"}],
    )
    [comparison] = project.compare(saves[0].id, saves[1].id)
    assert comparison.path == "a.md"
    marked = "".join(
        {RunKind.SAME: r.text, RunKind.ADDED: f"[+{r.text}]", RunKind.REMOVED: f"[-{r.text}]"}[
            r.kind
        ]
        for r in comparison.runs
    )
    assert marked == "The [-character][+protagonist] walked home.\n"
    assert (comparison.words_added, comparison.words_removed) == (1, 1)


def test_compare_a_save_with_the_working_text(project: Project) -> None:
    write(project, {"chapter-03.md": project.read("chapter-03.md") + "\nThe end.\n"})
    [comparison] = project.compare("HEAD")
    assert comparison.path == "chapter-03.md"
    assert comparison.words_added == 2
    assert project.compare("HEAD", "HEAD") == []


def test_binary_files_are_saved_and_compared_without_words(project: Project) -> None:
    image = bytes(range(256)) * 4
    project.write_files({"images/cover.png": image})
    saved = project.save()
    assert saved.summary == "images/cover.png (new): +0 words"
    assert project.read_bytes("images/cover.png", at=saved.id) == image
    [comparison] = project.compare("HEAD~1", "HEAD")
    assert comparison.binary


def test_default_message_for_several_files() -> None:
    from gitwrite.model import FileChange

    many = [FileChange(f"c{n}.md", ChangeKind.MODIFIED, 10, 2) for n in range(5)]
    assert default_message(many) == "5 files: +50 -10 words"
    assert default_message(many[:2]) == "c0.md, c1.md: +20 -4 words"


def test_names_typed_with_spaces_resolve_to_milestones_and_explorations(project: Project) -> None:
    first = project.head_id()
    assert first is not None
    project.milestones.create("sent to editor", "The first full draft")
    project.explorations.create("darker ending")
    assert project.commit("sent to editor").id == first
    assert project.commit("darker ending").id == first
    assert project.commit("sent to editor~0").id == first


def test_a_write_interrupted_by_a_crash_is_never_saved(project: Project) -> None:
    (project.root / ".chapter-01.md.gitwrite-tmp").write_text("half a chapter")
    assert project.status().clean
    write(project, {"chapter-01.md": "whole\n"})
    saved = project.save()
    assert ".chapter-01.md.gitwrite-tmp" not in project.files(at=saved.id)

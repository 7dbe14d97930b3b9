"""Merging explorations: clean merges, sentence-level merges, conflicts, abort, complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dulwich.index import ConflictedIndexEntry

from gitwrite.errors import (
    MergeError,
    MergeInProgress,
    NoMergeInProgress,
    UnresolvedConflicts,
    UnsavedChanges,
)
from gitwrite.mergestate import ConflictKind, has_markers
from gitwrite.merging import MergeStatus
from gitwrite.project import Project
from tests.builders import make_project, write
from tests.corpus import chapters, paragraphs

OURS, THEIRS = "main story", "darker ending"


def unwrap(text: str) -> str:
    """One line per paragraph, as a Markdown editor writes it."""
    return re.sub(r"(?<=\S)\n(?=\S)", " ", text)


@pytest.fixture
def novel() -> dict[str, str]:
    return {name: unwrap(text) for name, text in chapters()[:4]}


@pytest.fixture
def project(tmp_path: Path, novel: dict[str, str]) -> Project:
    project = make_project(tmp_path / "novel", novel)
    project.explorations.create(THEIRS)
    return project


def edit(project: Project, path: str, old: str, new: str, message: str = "Edit") -> str:
    text = project.read(path)
    assert old in text, f"{old!r} is not in {path}"
    write(project, {path: text.replace(old, new, 1)})
    return project.save(message).id


def on(project: Project, name: str, path: str, old: str, new: str) -> str:
    """Make one edit as a save on exploration ``name``, then go back to the main story."""
    project.explorations.switch(name)
    save = edit(project, path, old, new, f"Edit on {name}")
    project.explorations.switch(OURS)
    return save


def disk(project: Project) -> dict[str, bytes]:
    root = project.root
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def conflict_in_chapter_one(project: Project) -> tuple[str, str]:
    theirs = on(project, THEIRS, "chapter-01.md", "a single man", "a lonely man")
    ours = edit(project, "chapter-01.md", "a single man", "a married man")
    return ours, theirs


def test_clean_merge_across_chapters_makes_a_two_parent_save(project: Project) -> None:
    theirs = on(project, THEIRS, "chapter-02.md", "trimming a hat", "sharpening a knife")
    ours = edit(project, "chapter-01.md", "in want of a wife", "in want of a cook")

    outcome = project.explorations.merge(THEIRS)

    assert outcome.status is MergeStatus.MERGED and outcome.clean
    assert outcome.save is not None and not outcome.fast_forward
    assert outcome.save.parents == (ours, theirs)
    assert outcome.save.summary == "Merge exploration 'darker ending' into main story"
    assert outcome.changed == ("chapter-02.md",)
    assert "sharpening a knife" in project.read("chapter-02.md")
    assert "in want of a cook" in project.read("chapter-01.md")
    assert project.status().clean
    history = [s.id for s in project.history()]
    assert history[0] == outcome.save.id
    assert ours in history and theirs in history
    assert project.explorations.merge_state() is None


def test_merge_uses_the_given_message(project: Project) -> None:
    on(project, THEIRS, "chapter-02.md", "trimming a hat", "sharpening a knife")
    edit(project, "chapter-01.md", "in want of a wife", "in want of a cook")
    outcome = project.explorations.merge("darker-ending", "Bring the knife in")
    assert outcome.save is not None and outcome.save.summary == "Bring the knife in"


def test_merge_again_is_already_up_to_date(project: Project) -> None:
    on(project, THEIRS, "chapter-02.md", "trimming a hat", "sharpening a knife")
    project.explorations.merge(THEIRS)
    head = project.head_id()
    outcome = project.explorations.merge(THEIRS)
    assert outcome.status is MergeStatus.UP_TO_DATE and outcome.save is None
    assert project.head_id() == head


def test_an_exploration_with_nothing_new_is_up_to_date(project: Project) -> None:
    edit(project, "chapter-01.md", "in want of a wife", "in want of a cook")
    head = project.head_id()
    assert project.explorations.merge(THEIRS).status is MergeStatus.UP_TO_DATE
    assert project.head_id() == head


def test_a_possible_fast_forward_still_makes_a_merge_save(project: Project) -> None:
    start = project.head_id()
    assert start is not None
    theirs = on(project, THEIRS, "chapter-02.md", "trimming a hat", "sharpening a knife")
    outcome = project.explorations.merge(THEIRS)
    assert outcome.fast_forward and outcome.save is not None
    assert outcome.save.parents == (start.decode(), theirs)
    assert project.files() == project.files(at=theirs)
    assert project.commit().tree == project.commit(theirs).tree
    assert project.current_branch == "main"


def test_both_sides_edit_different_sentences_of_one_paragraph(project: Project) -> None:
    para = paragraphs(project.read("chapter-01.md"))[-1]
    assert para.count("\n") == 0 and para.count(". ") >= 4  # one line, several sentences
    on(project, THEIRS, "chapter-01.md", "Her mind was less difficult", "Her mind was easy")
    edit(project, "chapter-01.md", "its solace was visiting", "its joy was visiting")

    outcome = project.explorations.merge(THEIRS)

    assert outcome.clean and outcome.save is not None
    merged = paragraphs(project.read("chapter-01.md"))[-1]
    assert "Her mind was easy to develop." in merged
    assert "its joy was visiting and news." in merged
    assert merged.count("Mr. Bennet was so odd") == 1
    assert not has_markers(project.read("chapter-01.md"))


def test_adds_and_deletes_on_either_side_merge_cleanly(project: Project) -> None:
    project.explorations.switch(THEIRS)
    write(project, {"epilogue.md": "Years later.\n", "chapter-04.md": None})
    project.save("Epilogue, no chapter 4")
    project.explorations.switch(OURS)
    write(project, {"notes/cast.md": "Elizabeth, Jane.\n", "chapter-03.md": None})
    project.save("Cast, no chapter 3")

    outcome = project.explorations.merge(THEIRS)

    assert outcome.clean
    assert project.files() == [
        ".gitignore",
        "chapter-01.md",
        "chapter-02.md",
        "epilogue.md",
        "notes/cast.md",
    ]
    assert project.status().clean


def test_conflict_on_the_same_words_lists_base_ours_theirs_and_proposed(
    project: Project, novel: dict[str, str]
) -> None:
    ours, _ = conflict_in_chapter_one(project)
    theirs = on(project, THEIRS, "chapter-02.md", "trimming a hat", "sharpening a knife")

    outcome = project.explorations.merge(THEIRS)

    assert outcome.status is MergeStatus.CONFLICTS and not outcome.clean
    assert outcome.save is None
    [conflict] = outcome.conflicts
    assert (conflict.path, conflict.kind, conflict.binary) == (
        "chapter-01.md",
        ConflictKind.BOTH_CHANGED,
        False,
    )
    assert conflict.base == novel["chapter-01.md"]
    assert conflict.ours is not None and "a married man" in conflict.ours
    assert conflict.theirs is not None and "a lonely man" in conflict.theirs
    proposed = conflict.proposed
    assert proposed is not None
    assert "<<<<<<< main story" in proposed and ">>>>>>> darker ending" in proposed
    assert "a married man" in proposed and "a lonely man" in proposed
    assert has_markers(proposed)
    # The working folder holds the proposal and the cleanly merged chapter.
    assert project.read("chapter-01.md") == proposed
    assert "sharpening a knife" in project.read("chapter-02.md")
    assert sorted(outcome.changed) == ["chapter-01.md", "chapter-02.md"]
    # Nothing was saved; git's merge files are there.
    assert project.head_id() == ours.encode()
    assert (project.root / ".git" / "MERGE_HEAD").read_text() == theirs + "\n"
    assert (project.root / ".git" / "MERGE_MODE").read_text() == "no-ff"
    merge_msg = (project.root / ".git" / "MERGE_MSG").read_text()
    assert merge_msg.startswith("Merge exploration 'darker ending' into main story\n")
    assert "# Conflicts:\n#\tchapter-01.md\n" in merge_msg
    assert isinstance(project.repo.open_index()[b"chapter-01.md"], ConflictedIndexEntry)

    state = project.explorations.merge_state()
    assert state is not None
    assert (state.their_name, state.their_branch, state.their_head) == (
        THEIRS,
        "darker-ending",
        theirs,
    )
    assert state.our_head == ours and state.conflicts == outcome.conflicts
    assert project.explorations.merger.unresolved() == ["chapter-01.md"]


def test_the_merge_state_survives_reopening_the_project(project: Project) -> None:
    conflict_in_chapter_one(project)
    outcome = project.explorations.merge(THEIRS)
    before = project.explorations.merge_state()
    project.close()

    reopened = Project.open(project.root)
    state = reopened.explorations.merge_state()
    assert state is not None and state == before
    assert state.conflicts == outcome.conflicts and not state.by_git
    saved = reopened.explorations.complete_merge({"chapter-01.md": "Resolved.\n"})
    assert len(saved.parents) == 2


def test_abort_restores_exactly_the_last_save(project: Project) -> None:
    on(project, THEIRS, "chapter-02.md", "trimming a hat", "sharpening a knife")
    project.explorations.switch(THEIRS)
    write(project, {"epilogue.md": "Years later.\n"})
    project.save("Epilogue")
    project.explorations.switch(OURS)
    conflict_in_chapter_one(project)
    before = disk(project)
    head = project.head_id()
    untouched = (project.root / "chapter-04.md").stat().st_ino

    assert project.explorations.merge(THEIRS).status is MergeStatus.CONFLICTS
    assert disk(project) != before
    write(project, {"chapter-03.md": "Typed during the merge.\n", "scratch.md": "Mine.\n"})

    project.explorations.abort_merge()

    after = disk(project)
    assert after.pop("scratch.md") == b"Mine.\n"  # the writer's own new file is kept
    assert after == before
    assert (project.root / "chapter-04.md").stat().st_ino == untouched  # not rewritten
    assert project.head_id() == head
    assert project.unsaved_paths() == ["scratch.md"]
    index = project.repo.open_index()
    assert not index.has_conflicts()
    assert sorted(p.decode() for p in index) == project.files()
    assert project.explorations.merge_state() is None
    for name in ("MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "gitwrite/merge.json"):
        assert not (project.root / ".git" / name).exists()
    with pytest.raises(NoMergeInProgress):
        project.explorations.abort_merge()


def test_complete_is_refused_while_markers_remain(project: Project) -> None:
    ours, _ = conflict_in_chapter_one(project)
    project.explorations.switch(THEIRS)
    edit(project, "chapter-03.md", "Her report was highly favourable", "Her report was dire")
    project.explorations.switch(OURS)
    edit(project, "chapter-03.md", "Her report was highly favourable", "Her report was mixed")
    ours = project.head_id().decode()  # type: ignore[union-attr]
    outcome = project.explorations.merge(THEIRS)
    assert [c.path for c in outcome.conflicts] == ["chapter-01.md", "chapter-03.md"]

    with pytest.raises(UnresolvedConflicts) as info:
        project.explorations.complete_merge()
    assert info.value.paths == ["chapter-01.md", "chapter-03.md"]
    with pytest.raises(UnresolvedConflicts) as info:
        project.explorations.complete_merge({"chapter-01.md": "Resolved.\n"})
    assert info.value.paths == ["chapter-03.md"]
    assert isinstance(info.value, MergeError)
    assert project.head_id() == ours.encode()
    assert has_markers(project.read("chapter-01.md"))  # nothing written when refused
    assert project.explorations.merge_state() is not None


def test_complete_with_a_resolution_makes_a_two_parent_save(project: Project) -> None:
    ours, theirs = conflict_in_chapter_one(project)
    project.explorations.merge(THEIRS)
    state = project.explorations.merge_state()
    assert state is not None and state.conflicts[0].ours is not None
    resolved = state.conflicts[0].ours.replace("a married man", "a married, lonely man")

    save = project.explorations.complete_merge({"chapter-01.md": resolved})

    assert save.parents == (ours, theirs)
    assert save.summary == "Merge exploration 'darker ending' into main story"
    assert project.read("chapter-01.md") == resolved
    assert project.read("chapter-01.md", at=save.id) == resolved
    assert project.status().clean
    assert project.explorations.merge_state() is None
    assert not project.repo.open_index().has_conflicts()
    assert not (project.root / ".git" / "MERGE_HEAD").exists()
    history = project.history()
    assert history[0].id == save.id and len(history[0].parents) == 2
    assert {ours, theirs} <= {s.id for s in history}
    assert project.explorations.get(THEIRS).merged
    assert project.explorations.merge(THEIRS).status is MergeStatus.UP_TO_DATE


def test_complete_after_the_writer_fixed_the_file_in_the_editor(project: Project) -> None:
    conflict_in_chapter_one(project)
    project.explorations.merge(THEIRS)
    text = project.read("chapter-01.md")
    fixed = re.sub(
        r"<<<<<<< [^\n]*\n(.*?)\n(?:\|\|\|\|\|\|\| .*?\n)?=======\n.*?\n>>>>>>> [^\n]*\n",
        r"\1\n",
        text,
        flags=re.DOTALL,
    )
    assert not has_markers(fixed) and "a married man" in fixed
    write(project, {"chapter-01.md": fixed})
    save = project.explorations.complete_merge(message="Keep ours")
    assert save.summary == "Keep ours" and len(save.parents) == 2
    assert project.read("chapter-01.md", at=save.id) == fixed


def test_merge_is_refused_with_unsaved_changes(project: Project) -> None:
    on(project, THEIRS, "chapter-02.md", "trimming a hat", "sharpening a knife")
    write(project, {"chapter-04.md": "Unsaved.\n"})
    head = project.head_id()
    with pytest.raises(UnsavedChanges):
        project.explorations.merge(THEIRS)
    assert project.read("chapter-04.md") == "Unsaved.\n"
    assert "sharpening" not in project.read("chapter-02.md")
    assert project.head_id() == head


def test_no_second_merge_and_no_switch_while_a_merge_is_in_progress(project: Project) -> None:
    conflict_in_chapter_one(project)
    project.explorations.create("other")
    project.explorations.merge(THEIRS)
    with pytest.raises(MergeInProgress):
        project.explorations.merge("other")
    with pytest.raises(MergeInProgress) as info:
        project.explorations.switch("other")
    assert info.value.their_name == THEIRS
    assert project.current_branch == "main"
    assert project.explorations.merge_state() is not None


def test_complete_without_a_merge_is_refused(project: Project) -> None:
    with pytest.raises(NoMergeInProgress):
        project.explorations.complete_merge()


def test_merge_refuses_the_current_exploration_itself(project: Project) -> None:
    with pytest.raises(MergeError, match="itself"):
        project.explorations.merge(OURS)


def test_delete_against_change_is_a_conflict(project: Project) -> None:
    project.explorations.switch(THEIRS)
    write(project, {"chapter-04.md": None})
    project.save("Drop chapter 4")
    project.explorations.switch(OURS)
    edit(project, "chapter-04.md", "Chapter 4", "Chapter Four")

    outcome = project.explorations.merge(THEIRS)

    [conflict] = outcome.conflicts
    assert conflict.kind is ConflictKind.DELETED_THERE
    assert conflict.theirs is None and conflict.ours is not None
    assert conflict.proposed is not None and has_markers(conflict.proposed)
    assert ">>>>>>> darker ending (deleted)" in conflict.proposed
    with pytest.raises(UnresolvedConflicts):
        project.explorations.complete_merge()
    save = project.explorations.complete_merge({"chapter-04.md": None})
    assert "chapter-04.md" not in project.files(at=save.id)
    assert not (project.root / "chapter-04.md").exists()
    assert project.status().clean


def test_both_adding_a_file_with_different_texts_is_a_conflict(project: Project) -> None:
    project.explorations.switch(THEIRS)
    write(project, {"epilogue.md": "They all died.\n"})
    project.save("Dark epilogue")
    project.explorations.switch(OURS)
    write(project, {"epilogue.md": "They all lived.\n"})
    project.save("Happy epilogue")

    [conflict] = project.explorations.merge(THEIRS).conflicts
    assert conflict.kind is ConflictKind.BOTH_ADDED
    assert (conflict.base, conflict.ours, conflict.theirs) == (
        None,
        "They all lived.\n",
        "They all died.\n",
    )
    assert conflict.proposed == project.read("epilogue.md")


def test_a_binary_file_changed_on_both_sides_is_a_conflict(project: Project) -> None:
    (project.root / "cover.png").write_bytes(b"\x89PNG\x00base")
    project.save("Cover")
    project.explorations.create("new cover", switch=True)
    (project.root / "cover.png").write_bytes(b"\x89PNG\x00theirs")
    project.save("Their cover")
    project.explorations.switch(OURS)
    (project.root / "cover.png").write_bytes(b"\x89PNG\x00ours")
    project.save("Our cover")

    outcome = project.explorations.merge("new cover")

    [conflict] = outcome.conflicts
    assert conflict.binary and conflict.proposed is None and conflict.ours is None
    assert conflict.kind is ConflictKind.BOTH_CHANGED
    assert conflict.theirs_id is not None
    assert (project.root / "cover.png").read_bytes() == b"\x89PNG\x00ours"
    save = project.explorations.complete_merge({"cover.png": b"\x89PNG\x00theirs"})
    assert project.read_bytes("cover.png", at=save.id) == b"\x89PNG\x00theirs"


def test_merging_the_main_story_into_an_exploration(project: Project) -> None:
    edit(project, "chapter-01.md", "in want of a wife", "in want of a cook")
    project.explorations.switch(THEIRS)
    edit(project, "chapter-02.md", "trimming a hat", "sharpening a knife")
    outcome = project.explorations.merge(OURS)
    assert outcome.save is not None
    assert outcome.save.summary == "Merge main story into exploration 'darker ending'"
    assert project.current_branch == "darker-ending"


def test_a_failed_write_leaves_nothing_half_written(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    on(project, THEIRS, "chapter-02.md", "trimming a hat", "sharpening a knife")
    project.explorations.switch(THEIRS)
    write(project, {"epilogue.md": "Years later.\n"})
    project.save("Epilogue")
    project.explorations.switch(OURS)
    conflict_in_chapter_one(project)
    before, head = disk(project), project.head_id()
    real_write = project.write_files
    calls = []

    def write_one_then_fail(contents: dict[str, bytes | None]) -> None:
        """The first call writes one file, then the disk is full; later calls work."""
        calls.append(sorted(contents))
        if len(calls) > 1:
            real_write(contents)
            return
        real_write(dict(list(contents.items())[:1]))
        raise OSError("disk full")

    monkeypatch.setattr(project, "write_files", write_one_then_fail)
    with pytest.raises(OSError, match="disk full"):
        project.explorations.merge(THEIRS)
    monkeypatch.undo()

    assert calls[0] == ["chapter-01.md", "chapter-02.md", "epilogue.md"]
    assert disk(project) == before
    assert project.head_id() == head
    assert project.explorations.merge_state() is None
    assert not (project.root / ".git" / "MERGE_HEAD").exists()
    assert project.status().clean
    assert not project.repo.open_index().has_conflicts()


def test_a_failed_clean_merge_leaves_nothing_half_written(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    on(project, THEIRS, "chapter-02.md", "trimming a hat", "sharpening a knife")
    project.explorations.switch(THEIRS)
    write(project, {"epilogue.md": "Years later.\n"})
    project.save("Epilogue")
    project.explorations.switch(OURS)
    before, head = disk(project), project.head_id()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(project, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        project.explorations.merge(THEIRS)
    monkeypatch.undo()

    assert disk(project) == before
    assert project.head_id() == head
    assert project.status().clean


def test_a_merge_begun_by_git_is_shown_and_can_be_completed(
    project: Project, tmp_path: Path
) -> None:
    ours, theirs = conflict_in_chapter_one(project)
    # What `git merge` leaves: MERGE_HEAD, MERGE_MSG and conflict stages, no GitWrite record.
    project.explorations.merge(THEIRS)
    (project.root / ".git" / "gitwrite" / "merge.json").unlink()
    state = project.explorations.merge_state()
    assert state is not None and state.by_git
    assert state.their_head == theirs and state.their_branch == "darker-ending"
    assert state.paths == ["chapter-01.md"]
    assert state.conflicts[0].kind is ConflictKind.BOTH_CHANGED
    assert state.message == "Merge exploration 'darker ending' into main story"
    save = project.explorations.complete_merge({"chapter-01.md": "Resolved.\n"})
    assert save.parents == (ours, theirs)


def test_a_damaged_record_does_not_block_the_writer(project: Project) -> None:
    conflict_in_chapter_one(project)
    project.explorations.merge(THEIRS)
    (project.root / ".git" / "gitwrite" / "merge.json").write_text("{not json")
    state = project.explorations.merge_state()
    assert state is not None and state.paths == ["chapter-01.md"]
    project.explorations.abort_merge()
    assert project.status().clean


def test_conflict_markers_are_recognised_but_not_markdown_rules() -> None:
    assert has_markers("a\n<<<<<<< main story\nb\n=======\nc\n>>>>>>> x\n")
    assert has_markers("a\n>>>>>>>\n")
    assert not has_markers("Title\n=======\n\nText\n")
    assert not has_markers("> quoted <<<<<<< inline\n")


def test_a_plain_save_is_refused_while_a_merge_is_in_progress(project: Project) -> None:
    ours, theirs = conflict_in_chapter_one(project)
    project.explorations.merge(THEIRS)
    half = project.read("chapter-01.md").replace("<<<<<<< main story\n", "", 1)
    write(project, {"chapter-01.md": half})
    # Saving now would record conflict markers as an ordinary one-parent save, and
    # abort would then "restore" the half-merged text: only complete or abort may save.
    with pytest.raises(MergeInProgress) as info:
        project.save("Autosave")
    assert info.value.their_name == THEIRS
    assert project.head_id() == ours.encode()
    assert project.read("chapter-01.md") == half
    save = project.explorations.complete_merge({"chapter-01.md": "Resolved.\n"})
    assert save.parents == (ours, theirs)


def test_restore_and_undo_are_refused_while_a_merge_is_in_progress(project: Project) -> None:
    first = project.history(limit=100)[-1].id
    conflict_in_chapter_one(project)
    project.explorations.merge(THEIRS)
    on_disk = project.read("chapter-01.md")
    with pytest.raises(MergeInProgress):
        project.restore(first, paths=["chapter-01.md"])
    with pytest.raises(MergeInProgress):
        project.revert(project.history(limit=1)[0].id)
    assert project.read("chapter-01.md") == on_disk
    assert project.explorations.merge_state() is not None

"""Explorations: create, list, switch, rename and delete, with names writers type."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitwrite.errors import (
    ExplorationError,
    ExplorationExists,
    InvalidName,
    NotMerged,
    UnknownExploration,
    UnknownRevision,
    UnsavedChanges,
)
from gitwrite.explorations import branch_for
from gitwrite.project import Project
from tests.builders import make_project, write
from tests.corpus import chapters


@pytest.fixture
def novel() -> dict[str, str]:
    return dict(chapters()[:4])


@pytest.fixture
def project(tmp_path: Path, novel: dict[str, str]) -> Project:
    return make_project(tmp_path / "novel", novel)


def edit(project: Project, path: str, old: str, new: str, message: str = "Edit") -> str:
    """Replace words in a chapter and save; returns the save id."""
    text = project.read(path)
    assert old in text, f"{old!r} is not in {path}"
    write(project, {path: text.replace(old, new, 1)})
    return project.save(message).id


def config_text(project: Project) -> str:
    return (project.root / ".git" / "config").read_text()


def stored_name(project: Project, branch: str) -> str | None:
    config = project.repo.get_config()
    try:
        return config.get((b"branch", branch.encode()), b"gitwriteName").decode()
    except KeyError:
        return None


def test_a_new_project_lists_only_the_main_story(project: Project) -> None:
    [main] = project.explorations.list()
    assert (main.name, main.branch, main.current, main.main, main.merged) == (
        "main story",
        "main",
        True,
        True,
        True,
    )
    assert main.head == project.history(limit=1)[0].id
    assert main.last_saved == project.history(limit=1)[0].time


def test_create_keeps_the_typed_name_and_stores_a_safe_branch(project: Project) -> None:
    made = project.explorations.create("  darker   ending ")
    assert (made.name, made.branch, made.current) == ("darker ending", "darker-ending", False)
    assert made.head == project.head_id().decode()  # type: ignore[union-attr]
    assert (project.root / ".git" / "refs" / "heads" / "darker-ending").is_file()
    assert stored_name(project, "darker-ending") == "darker ending"
    assert [e.name for e in project.explorations.list()] == ["main story", "darker ending"]
    for spelling in ("darker ending", "darker-ending", "darker \t ending"):
        assert project.explorations.get(spelling).branch == "darker-ending"
    assert project.explorations.get("main story").branch == "main"


def test_a_name_without_spaces_is_not_written_to_the_config(project: Project) -> None:
    project.explorations.create("Lydia")
    assert "gitwriteName" not in config_text(project)
    assert project.explorations.get("Lydia").name == "Lydia"


def test_list_puts_the_main_story_first_then_names_in_order(project: Project) -> None:
    for name in ("zebra", "Apple pie", "mango"):
        project.explorations.create(name)
    assert [e.name for e in project.explorations.list()] == [
        "main story",
        "Apple pie",
        "mango",
        "zebra",
    ]


def test_create_starts_from_any_save_exploration_or_revision(project: Project) -> None:
    first = project.head_id()
    assert first is not None
    edit(project, "chapter-01.md", "truth universally", "fact widely")
    assert project.explorations.create("old start", at=first.decode()).head == first.decode()
    assert project.explorations.create("from old", at="old start").head == first.decode()
    assert project.explorations.create("previous", at="HEAD~1").head == first.decode()
    with pytest.raises(UnknownRevision):
        project.explorations.create("nowhere", at="no such thing")
    assert "nowhere" not in [e.name for e in project.explorations.list()]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "needed"),
        ("   ", "needed"),
        ("what?", "'?'"),
        ("a..b", "'..'"),
        ("tilde~1", "'~'"),
        ("HEAD", "reserved"),
        ("-dash", "reserved"),
        ("draft.lock", "lock"),
        (".hidden", "start with"),
        ("line\nbreak", "control"),
    ],
)
def test_create_refuses_names_git_cannot_store(project: Project, name: str, why: str) -> None:
    with pytest.raises(InvalidName) as info:
        project.explorations.create(name)
    assert why in info.value.reason
    assert len(project.explorations.list()) == 1


def test_branch_for_maps_spaces_and_checks_with_git_rules() -> None:
    assert branch_for("the  ball at Netherfield") == "the-ball-at-Netherfield"
    assert branch_for("ideas/darker") == "ideas/darker"
    with pytest.raises(InvalidName):
        branch_for("a:b")


@pytest.mark.parametrize("taken", ["darker ending", "darker-ending", "Darker Ending", "main story"])
def test_create_refuses_a_name_that_exists(project: Project, taken: str) -> None:
    project.explorations.create("darker ending")
    with pytest.raises(ExplorationExists):
        project.explorations.create(taken)
    assert len(project.explorations.list()) == 2


def test_create_refuses_a_name_that_would_be_a_folder_of_another(project: Project) -> None:
    project.explorations.create("ideas")
    with pytest.raises(ExplorationError, match="folder"):
        project.explorations.create("ideas/darker")


def test_create_refuses_the_name_of_a_milestone(project: Project) -> None:
    assert project.repo.refs.add_if_new(b"refs/tags/first-draft", project.head_id())  # type: ignore[arg-type]
    with pytest.raises(ExplorationExists):
        project.explorations.create("First Draft")


def test_switch_puts_the_explorations_text_in_the_working_folder(
    project: Project, novel: dict[str, str]
) -> None:
    project.explorations.create("darker ending", switch=True)
    assert project.current_branch == "darker-ending"
    edit(project, "chapter-02.md", "trimming a hat", "sharpening a knife")
    write(project, {"epilogue.md": "Nobody lived happily.\n"})
    project.save("Epilogue")

    switched = project.explorations.switch("main story")
    assert switched.current and switched.main
    assert project.read("chapter-02.md") == novel["chapter-02.md"]
    assert not (project.root / "epilogue.md").exists()
    assert project.status().clean

    project.explorations.switch("darker ending")
    assert "sharpening a knife" in project.read("chapter-02.md")
    assert project.read("epilogue.md") == "Nobody lived happily.\n"
    assert project.status().clean
    assert [e.current for e in project.explorations.list()] == [False, True]


def test_switch_is_refused_with_unsaved_changes_and_leaves_the_text_alone(
    project: Project,
) -> None:
    project.explorations.create("darker ending", switch=True)
    edit(project, "chapter-01.md", "a wife", "a fortune")
    project.explorations.switch("main")
    typed = project.read("chapter-03.md") + "\nAn unsaved thought.\n"
    write(project, {"chapter-03.md": typed})
    with pytest.raises(UnsavedChanges) as info:
        project.explorations.switch("darker ending")
    assert info.value.paths == ["chapter-03.md"]
    assert project.read("chapter-03.md") == typed
    assert "a fortune" not in project.read("chapter-01.md")
    assert project.current_branch == "main"


def test_a_new_untracked_file_also_blocks_a_switch(project: Project) -> None:
    project.explorations.create("darker ending")
    write(project, {"notes.md": "Ideas.\n"})
    with pytest.raises(UnsavedChanges):
        project.explorations.switch("darker ending")
    assert project.read("notes.md") == "Ideas.\n"


def test_create_and_switch_from_here_carries_unsaved_changes(project: Project) -> None:
    typed = project.read("chapter-01.md") + "\nA new idea.\n"
    write(project, {"chapter-01.md": typed})
    project.explorations.create("new idea", switch=True)
    assert project.current_branch == "new-idea"
    assert project.read("chapter-01.md") == typed
    project.save("The idea")
    assert "A new idea." not in project.read("chapter-01.md", at="main")


def test_create_and_switch_elsewhere_checks_unsaved_changes_before_creating(
    project: Project,
) -> None:
    first = project.head_id()
    assert first is not None
    edit(project, "chapter-01.md", "a wife", "a fortune")
    write(project, {"chapter-01.md": "unsaved\n"})
    with pytest.raises(UnsavedChanges):
        project.explorations.create("back then", at=first.decode(), switch=True)
    assert [e.name for e in project.explorations.list()] == ["main story"]


def test_switch_to_an_unknown_exploration(project: Project) -> None:
    with pytest.raises(UnknownExploration) as info:
        project.explorations.switch("nothing")
    assert isinstance(info.value, UnknownRevision)
    assert "no exploration called 'nothing'" in str(info.value)


def test_rename_moves_branch_name_and_config(project: Project) -> None:
    made = project.explorations.create("darker ending")
    renamed = project.explorations.rename("darker ending", "Lighter ending")
    assert (renamed.name, renamed.branch, renamed.head) == (
        "Lighter ending",
        "Lighter-ending",
        made.head,
    )
    with pytest.raises(UnknownExploration):
        project.explorations.get("darker ending")
    assert "darker-ending" not in config_text(project)
    assert stored_name(project, "Lighter-ending") == "Lighter ending"


def test_rename_the_current_exploration_keeps_working_on_it(project: Project) -> None:
    project.explorations.create("draft", switch=True)
    project.explorations.rename("draft", "second draft")
    assert project.current_branch == "second-draft"
    edit(project, "chapter-01.md", "a wife", "a fortune")
    assert project.explorations.get("second draft").head == project.head_id().decode()  # type: ignore[union-attr]


def test_rename_only_the_spelling(project: Project) -> None:
    project.explorations.create("darker-ending")
    renamed = project.explorations.rename("darker-ending", "darker ending")
    assert (renamed.name, renamed.branch) == ("darker ending", "darker-ending")


def test_rename_is_refused_for_the_main_story_and_to_a_taken_name(project: Project) -> None:
    project.explorations.create("a")
    project.explorations.create("b")
    with pytest.raises(ExplorationError, match="main story"):
        project.explorations.rename("main story", "trunk")
    with pytest.raises(ExplorationExists):
        project.explorations.rename("a", "B")
    assert [e.branch for e in project.explorations.list()] == ["main", "a", "b"]


def test_delete_is_refused_for_the_current_one_and_the_main_story(project: Project) -> None:
    project.explorations.create("darker ending", switch=True)
    with pytest.raises(ExplorationError, match="current"):
        project.explorations.delete("darker ending")
    with pytest.raises(ExplorationError, match="main story"):
        project.explorations.delete("main story")
    assert len(project.explorations.list()) == 2


def test_delete_is_refused_unless_merged_or_forced(project: Project) -> None:
    project.explorations.create("darker ending", switch=True)
    head = edit(project, "chapter-02.md", "trimming a hat", "sharpening a knife")
    project.explorations.switch("main story")
    assert not project.explorations.get("darker ending").merged
    with pytest.raises(NotMerged) as info:
        project.explorations.delete("darker ending")
    assert info.value.into == ["main story"]
    assert project.explorations.get("darker ending").head == head

    gone = project.explorations.delete("darker ending", force=True)
    assert gone.head == head
    assert [e.name for e in project.explorations.list()] == ["main story"]
    assert "darker" not in config_text(project)
    # Its saves are still readable by id (until git prunes them), and it can be re-made.
    again = project.explorations.create(gone.name, at=gone.head)
    assert again.head == head


def test_an_exploration_with_no_saves_of_its_own_is_merged(project: Project) -> None:
    project.explorations.create("untouched")
    edit(project, "chapter-01.md", "a wife", "a fortune")
    assert project.explorations.get("untouched").merged
    project.explorations.delete("untouched")
    assert len(project.explorations.list()) == 1


def test_delete_after_merging_into_the_main_story(project: Project) -> None:
    project.explorations.create("darker ending", switch=True)
    edit(project, "chapter-02.md", "trimming a hat", "sharpening a knife")
    project.explorations.switch("main story")
    project.explorations.merge("darker ending")
    assert project.explorations.get("darker ending").merged
    project.explorations.delete("darker ending")
    assert "sharpening a knife" in project.read("chapter-02.md")


def test_delete_merged_into_the_current_exploration_only(project: Project) -> None:
    project.explorations.create("a", switch=True)
    edit(project, "chapter-01.md", "a wife", "a fortune")
    project.explorations.create("b", switch=True)
    project.explorations.delete("a")  # its saves are in "b", the current one
    assert [e.name for e in project.explorations.list()] == ["main story", "b"]


def test_the_main_story_of_a_repository_made_with_master(tmp_path: Path) -> None:
    project = make_project(tmp_path / "old", {"a.md": "Text.\n"})
    refs = project.repo.refs
    head = project.head_id()
    assert head is not None
    refs.add_if_new(b"refs/heads/master", head)  # type: ignore[arg-type]
    refs.set_symbolic_ref(b"HEAD", b"refs/heads/master")  # type: ignore[arg-type]
    refs.remove_if_equals(b"refs/heads/main", head)  # type: ignore[arg-type]
    [main] = Project.open(project.root).explorations.list()
    assert (main.name, main.branch, main.main) == ("main story", "master", True)

"""Milestones: annotated tags named as writers type them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from dulwich.objects import ObjectID, Tag
from dulwich.refs import Ref

from gitwrite.errors import InvalidName, MilestoneExists, UnknownMilestone, UnknownRevision
from gitwrite.milestones import tag_name
from gitwrite.project import Project
from tests.builders import WRITER, build_history, make_project
from tests.corpus import chapters


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path / "novel", dict(chapters()[:3]))


def tags(project: Project) -> dict[Ref, ObjectID]:
    return project.repo.refs.as_dict(Ref(b"refs/tags"))


def test_create_tags_the_last_save_with_the_author(project: Project) -> None:
    head = project.head_id()
    assert head is not None
    before = datetime.now().astimezone() - timedelta(seconds=2)
    made = project.milestones.create("first-draft", "All chapters drafted")
    assert made.name == made.tag == "first-draft"
    assert made.message == "All chapters drafted"
    assert made.save_id == head.decode()
    assert made.tagger == WRITER
    assert made.annotated
    assert before <= made.time <= datetime.now().astimezone() + timedelta(seconds=2)
    tag = project.repo.object_store[project.repo.refs[Ref(b"refs/tags/first-draft")]]
    assert isinstance(tag, Tag)
    assert tag.object[1] == head
    assert tag.tagger == WRITER.identity()
    assert project.milestones.get("first-draft") == made
    assert project.milestones.list() == [made]


def test_spaces_become_dashes_and_the_typed_name_is_kept(project: Project) -> None:
    made = project.milestones.create("  sent to   editor ", "Off it goes")
    assert made.tag == "sent-to-editor"
    assert made.name == "sent to   editor"
    assert made.message == "Off it goes"
    assert b"sent-to-editor" in tags(project)
    assert project.milestones.get("sent to   editor") == made
    assert project.milestones.get("sent-to-editor") == made
    assert project.milestones.list()[0].name == "sent to   editor"
    # The revision resolver knows tags by their git name.
    assert project.commit("sent-to-editor").id.decode() == made.save_id


def test_a_typed_name_without_a_message(project: Project) -> None:
    made = project.milestones.create("first draft")
    assert (made.name, made.message) == ("first draft", "")
    again = project.milestones.get("first-draft")
    assert (again.name, again.message) == ("first draft", "")


def test_non_ascii_names_are_kept(project: Project) -> None:
    made = project.milestones.create("Première version", "Pour l'éditeur")
    assert made.tag == "Première-version"
    assert project.milestones.get("Première version").message == "Pour l'éditeur"


def test_create_on_an_older_save(project: Project) -> None:
    saves = build_history(project, [{"notes.md": "One.\n"}, {"notes.md": "Two.\n"}])
    by_id = project.milestones.create("one", at=saves[0].id)
    by_steps = project.milestones.create("before two", at="HEAD~1")
    by_milestone = project.milestones.create("same as one", at="one")
    assert by_id.save_id == by_steps.save_id == by_milestone.save_id == saves[0].id
    assert project.read("notes.md", at="one") == "One.\n"


def test_list_is_newest_first(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    start = time.time()
    for offset, name in [(0, "b older"), (100, "c newest"), (50, "a middle")]:
        monkeypatch.setattr(time, "time", lambda offset=offset: start + offset)
        project.milestones.create(name)
    monkeypatch.undo()
    assert [m.name for m in project.milestones.list()] == ["c newest", "a middle", "b older"]


def test_list_breaks_time_ties_by_name(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)
    for name in ["zeta", "alpha", "mu"]:
        project.milestones.create(name)
    assert [m.name for m in project.milestones.list()] == ["alpha", "mu", "zeta"]


@pytest.mark.parametrize(
    "taken",
    ["first draft", "first-draft", "First Draft", "FIRST-DRAFT", " first  draft "],
)
def test_a_taken_name_is_refused_and_nothing_changes(project: Project, taken: str) -> None:
    project.milestones.create("first draft", "the real one")
    before = tags(project)
    with pytest.raises(MilestoneExists) as caught:
        project.milestones.create(taken, "a second one")
    assert caught.value.taken_by == "milestone 'first-draft'"
    assert tags(project) == before
    assert project.milestones.get("first draft").message == "the real one"


def test_an_exploration_name_is_refused(project: Project) -> None:
    with pytest.raises(MilestoneExists) as caught:
        project.milestones.create("main")
    assert caught.value.taken_by == "exploration 'main'"
    assert tags(project) == {}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("draft: two", "must not contain :"),
        ("draft~1", "must not contain ~"),
        ("why?", "must not contain ?"),
        ("a*b", "must not contain *"),
        ("[draft]", "must not contain ["),
        ("back\\slash", "must not contain \\"),
        ("part 1/2", "must not contain /"),
        ("v1..v2", "must not contain '..' or '@{'"),
        ("at@{1}", "must not contain '..' or '@{'"),
        (".hidden", "must not start with '.' or '-'"),
        ("-dash", "must not start with '.' or '-'"),
        ("draft.", "must not end with '.' or '.lock'"),
        ("draft.lock", "must not end with '.' or '.lock'"),
        ("HEAD", "is reserved"),
        ("@", "is reserved"),
        ("line\nbreak", "must not contain control characters such as line breaks"),
        ("tab\there", "must not contain control characters such as line breaks"),
        ("x" * 201, "is too long"),
    ],
)
def test_invalid_names_are_refused_with_the_reason(
    project: Project, name: str, reason: str
) -> None:
    with pytest.raises(InvalidName) as caught:
        project.milestones.create(name)
    assert caught.value.reason == reason
    assert caught.value.name == name.strip()
    assert tags(project) == {}


def test_tag_name_maps_every_kind_of_space() -> None:
    assert tag_name("sent\u00a0to \u2003editor") == "sent-to-editor"


def test_an_unknown_save_is_refused(project: Project) -> None:
    with pytest.raises(UnknownRevision):
        project.milestones.create("nowhere", at="no-such-exploration")
    assert tags(project) == {}


@pytest.mark.parametrize("name", ["nothing", "no such name", "../../HEAD", "a..b", ""])
def test_unknown_milestones(project: Project, name: str) -> None:
    project.milestones.create("real")
    with pytest.raises(UnknownMilestone) as caught:
        project.milestones.get(name)
    assert caught.value.name == name
    with pytest.raises(UnknownMilestone):
        project.milestones.delete(name)
    assert [m.name for m in project.milestones.list()] == ["real"]


def test_delete_removes_only_the_tag(project: Project) -> None:
    kept = project.milestones.create("kept")
    gone = project.milestones.create("sent to editor", "Off it goes")
    assert project.milestones.delete("sent to editor") == gone
    assert project.milestones.list() == [kept]
    assert b"sent-to-editor" not in tags(project)
    assert gone.save_id in [s.id for s in project.history()]
    # The name is free again.
    assert project.milestones.create("sent to editor").tag == "sent-to-editor"


def test_a_trailer_that_does_not_match_the_tag_is_ignored(project: Project) -> None:
    made = project.milestones.create("first draft", "Done")
    # Command-line git renaming a tag: the same tag object under another ref.
    project.repo.refs[Ref(b"refs/tags/renamed")] = project.repo.refs[Ref(b"refs/tags/first-draft")]
    renamed = project.milestones.get("renamed")
    assert (renamed.name, renamed.tag, renamed.message) == ("renamed", "renamed", "Done")
    assert renamed.save_id == made.save_id


def test_tags_not_on_a_save_are_not_milestones(project: Project) -> None:
    blob = project.repo.object_store[project.head_entries()["chapter-01.md"][1]]
    project.repo.refs[Ref(b"refs/tags/a-blob")] = blob.id
    project.milestones.create("real")
    assert [m.name for m in project.milestones.list()] == ["real"]
    with pytest.raises(UnknownMilestone):
        project.milestones.get("a-blob")

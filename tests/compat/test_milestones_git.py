"""Milestones read by command-line git, and tags made by git read as milestones."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitwrite.project import Project
from tests.builders import build_history, make_project
from tests.compat.gitcli import fsck, git
from tests.corpus import chapters

pytestmark = pytest.mark.compat


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = make_project(tmp_path / "novel", dict(chapters()[:3]))
    build_history(project, [{"notes.md": "One.\n"}, {"notes.md": "Two.\n"}])
    return project


def test_milestones_pass_fsck_and_git_tag_lists_them(project: Project) -> None:
    project.milestones.create("first draft", "Every chapter drafted\n\nNeeds a lot of work.")
    project.milestones.create("plain")
    project.milestones.create("Première version", "Pour l'éditeur", at="HEAD~2")
    fsck(project.root)
    assert git(project.root, "tag", "-l").split() == ["Première-version", "first-draft", "plain"]
    shown = {
        line.split()[0]: " ".join(line.split()[1:])
        for line in git(project.root, "tag", "-n1").splitlines()
    }
    assert shown["first-draft"] == "Every chapter drafted"
    assert shown["Première-version"] == "Pour l'éditeur"
    assert git(project.root, "status", "--porcelain") == ""


def test_git_cat_file_agrees_with_the_milestone(project: Project) -> None:
    made = project.milestones.create("sent to editor", "Off it goes", at="HEAD~1")
    raw = git(project.root, "cat-file", "-p", "refs/tags/sent-to-editor")
    header, _, message = raw.partition("\n\n")
    fields = dict(line.split(" ", 1) for line in header.splitlines())
    assert fields["object"] == made.save_id
    assert fields["type"] == "commit"
    assert fields["tag"] == "sent-to-editor"
    assert fields["tagger"].startswith("Test Writer <writer@example.com> ")
    assert int(fields["tagger"].split()[-2]) == int(made.time.timestamp())
    assert message == "Off it goes\n\nGitWrite-Milestone: sent to editor\n"
    assert git(project.root, "rev-parse", "sent-to-editor^{commit}").strip() == made.save_id
    assert git(project.root, "rev-parse", "HEAD~1").strip() == made.save_id


def test_tags_made_by_git_are_milestones(project: Project) -> None:
    git(project.root, "tag", "light", "HEAD~1")
    git(project.root, "tag", "-a", "-m", "Tagged with git\n\nMore words.", "annotated", "HEAD")
    blob = git(project.root, "rev-parse", "HEAD:notes.md").strip()
    git(project.root, "tag", "a-blob", blob)
    found = {m.name: m for m in project.milestones.list()}
    assert set(found) == {"light", "annotated"}
    light, annotated = found["light"], found["annotated"]
    assert (light.annotated, light.tagger, light.message) == (False, None, "")
    assert light.save_id == git(project.root, "rev-parse", "HEAD~1").strip()
    when = git(project.root, "log", "-1", "--format=%ct", "HEAD~1").strip()
    assert int(light.time.timestamp()) == int(when)
    assert annotated.annotated
    assert annotated.tagger is not None and annotated.tagger.name == "Git User"
    assert annotated.message == "Tagged with git\n\nMore words."
    assert annotated.save_id == git(project.root, "rev-parse", "HEAD").strip()


def test_deleting_works_both_ways_and_with_packed_refs(project: Project) -> None:
    project.milestones.create("one")
    project.milestones.create("two words")
    project.milestones.create("three")
    git(project.root, "pack-refs", "--all")
    assert {m.name for m in project.milestones.list()} == {"one", "two words", "three"}
    project.milestones.delete("two words")
    git(project.root, "tag", "-d", "three")
    assert git(project.root, "tag", "-l").split() == ["one"]
    assert [m.name for m in project.milestones.list()] == ["one"]
    fsck(project.root)

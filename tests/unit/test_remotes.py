"""gitwrite.remotes: where the server's refs are mirrored, and what counts as known."""

from __future__ import annotations

from pathlib import Path

import pytest
from dulwich.objects import ZERO_SHA

from gitwrite.errors import InvalidName
from gitwrite.remotes import check_remote_name, haves, record, server_ref, tracked, tracking_ref
from tests.builders import build_history, make_project


@pytest.mark.parametrize(
    ("ref", "mirror"),
    [
        ("refs/heads/main", "refs/remotes/origin/main"),
        ("refs/heads/darker-ending", "refs/remotes/origin/darker-ending"),
        ("refs/tags/first-draft", "refs/gitwrite/remotes/origin/tags/first-draft"),
        ("refs/gitwrite/annotations", "refs/gitwrite/remotes/origin/gitwrite/annotations"),
        # a branch called "tags/x" and the tag "x" do not collide
        ("refs/heads/tags/x", "refs/remotes/origin/tags/x"),
    ],
)
def test_mirror_names_round_trip(ref: str, mirror: str) -> None:
    assert tracking_ref("origin", ref) == mirror
    assert server_ref("origin", mirror) == ref


def test_remote_names_must_be_one_plain_word() -> None:
    assert check_remote_name("server-2") == "server-2"
    for bad in ["", "a/b", "a..b", "has space"]:
        with pytest.raises(InvalidName):
            check_remote_name(bad)


def test_record_mirrors_and_prunes_and_haves_lists_commits(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", {"a.md": "A\n"})
    saves = build_history(project, [{"a.md": "B\n"}])
    first, second = project.history(limit=2)[1].id, saves[-1].id
    repo = project.repo
    record(repo, "origin", {"refs/heads/main": first, "refs/tags/x": second}, complete=True)
    assert {k: v.decode() for k, v in tracked(repo, "origin").items()} == {
        "refs/heads/main": first,
        "refs/tags/x": second,
    }
    record(repo, "origin", {"refs/heads/main": second}, complete=True)  # the tag is gone
    assert set(tracked(repo, "origin")) == {"refs/heads/main"}
    record(repo, "origin", {"refs/heads/main": ZERO_SHA.decode()}, complete=False)
    assert tracked(repo, "origin") == {}
    assert haves(repo, "origin") == [second]  # the local branch; duplicates dropped

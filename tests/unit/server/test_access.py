"""The roles matrix of DESIGN §7, cell by cell, and which action each ref needs."""

from __future__ import annotations

import pytest

from gitwrite_sync.domain.access import Action, Role, action_for_ref, allowed
from gitwrite_sync.errors import Forbidden, RefNotAllowed

Y, N = True, False
# The table of DESIGN §7, written out again by hand: one row per action.
DESIGN = {
    #                          owner editor writer beta
    Action.READ: (Y, Y, Y, Y),
    Action.ANNOTATE: (Y, Y, Y, Y),
    Action.PUSH_EXPLORATION: (Y, Y, Y, N),
    Action.PUSH_MAIN: (Y, Y, N, N),
    Action.MERGE: (Y, Y, N, N),
    Action.FORCE_PUSH: (Y, Y, N, N),  # "the role may force": owner, editor (not in §7's table)
    Action.EXPORT: (Y, Y, Y, N),
    Action.MANAGE: (Y, N, N, N),
    Action.DELETE: (Y, N, N, N),
}
ROLES = (Role.OWNER, Role.EDITOR, Role.WRITER, Role.BETA_READER)


def test_every_action_is_in_the_table() -> None:
    assert set(DESIGN) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", ROLES)
def test_matrix_matches_the_design(role: Role, action: Action) -> None:
    assert allowed(role, action) is DESIGN[action][ROLES.index(role)]
    assert allowed(role.value, action) is DESIGN[action][ROLES.index(role)]


@pytest.mark.parametrize("action", list(Action))
def test_unknown_roles_may_do_nothing(action: Action) -> None:
    assert not allowed("admin", action)
    assert not allowed("", action)


@pytest.mark.parametrize(
    ("ref", "action"),
    [
        ("refs/heads/main", Action.PUSH_MAIN),
        ("refs/heads/darker-ending", Action.PUSH_EXPLORATION),
        ("refs/heads/ideas/act-two", Action.PUSH_EXPLORATION),
        ("refs/heads/mainly", Action.PUSH_EXPLORATION),
        ("refs/tags/first-draft", Action.PUSH_MAIN),
        ("refs/gitwrite/annotations", Action.ANNOTATE),
    ],
)
def test_action_for_ref(ref: str, action: Action) -> None:
    assert action_for_ref(ref, "main") is action


def test_the_default_branch_is_the_repositorys_own() -> None:
    assert action_for_ref("refs/heads/story", "story") is Action.PUSH_MAIN
    assert action_for_ref("refs/heads/main", "story") is Action.PUSH_EXPLORATION


@pytest.mark.parametrize(
    "ref",
    [
        "HEAD",
        "refs/heads/",
        "refs/tags/",
        "refs/notes/commits",
        "refs/gitwrite/annotations-2",
        "refs/gitwrite/other",
        "refs/remotes/origin/main",
        "refs/heads/a..b",
        "refs/heads/../../etc/passwd",
        "refs/heads/x.lock",
        "refs/heads/with space",
        "refs/heads/ctl\x01",
        "refs/heads/trailing/",
        "main",
    ],
)
def test_other_refs_are_refused_for_everyone(ref: str) -> None:
    with pytest.raises(RefNotAllowed) as caught:
        action_for_ref(ref, "main")
    assert isinstance(caught.value, Forbidden)
    assert caught.value.code == "invalid_ref"
    assert caught.value.details == {"ref": ref}


def test_a_beta_reader_may_push_annotations_and_nothing_else() -> None:
    refs = ["refs/heads/main", "refs/heads/idea", "refs/tags/v1", "refs/gitwrite/annotations"]
    may = [r for r in refs if allowed(Role.BETA_READER, action_for_ref(r, "main"))]
    assert may == ["refs/gitwrite/annotations"]


def test_a_writer_may_push_explorations_and_annotations_but_not_the_main_story() -> None:
    refs = ["refs/heads/main", "refs/heads/idea", "refs/tags/v1", "refs/gitwrite/annotations"]
    may = [r for r in refs if allowed(Role.WRITER, action_for_ref(r, "main"))]
    assert may == ["refs/heads/idea", "refs/gitwrite/annotations"]

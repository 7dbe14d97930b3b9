"""Remembered ancestry: ancestors, merge bases and push boundaries, checked against a
plain walk of the history (every commit made in the same second, as autosaves are)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from dulwich.objects import Blob, Commit, ObjectID, Tree
from dulwich.repo import MemoryRepo, Repo
from hypothesis import given, settings
from hypothesis import strategies as st

from gitwrite.ancestry import ancestry

SECOND = 1_700_000_000
"""The commit time of every commit made here."""


class History:
    """A bare repository to which commits with made-up content are added."""

    def __init__(self, path: Path | None) -> None:
        """On disk at ``path``, or in memory (None)."""
        self.repo: Repo | MemoryRepo = (
            Repo.init_bare(str(path), mkdir=True) if path is not None else MemoryRepo()
        )
        self.count = 0

    def commit(self, *parents: ObjectID) -> ObjectID:
        """A new commit on ``parents``, made in the same second as every other."""
        self.count += 1
        blob = Blob.from_string(f"Save {self.count}.\n".encode())
        tree = Tree()
        tree.add(b"chapter.md", 0o100644, blob.id)
        commit = Commit()
        commit.tree = tree.id
        commit.parents = list(parents)
        commit.author = commit.committer = b"Writer <writer@example.com>"
        commit.author_time = commit.commit_time = SECOND
        commit.author_timezone = commit.commit_timezone = 0
        commit.message = f"Save {self.count}\n".encode()
        for obj in (blob, tree, commit):
            self.repo.object_store.add_object(obj)
        return commit.id

    def history(self, tip: ObjectID) -> set[ObjectID]:
        """``tip`` and every commit in its history, by a plain walk."""
        seen: set[ObjectID] = set()
        todo = [tip]
        while todo:
            sha = todo.pop()
            if sha in seen or sha not in self.repo.object_store:
                continue
            seen.add(sha)
            commit = self.repo.object_store[sha]
            assert isinstance(commit, Commit)
            todo.extend(commit.parents)
        return seen


class Braided:
    """Two lines of saves from one root, merged into each other in turn twenty times."""

    def __init__(self, path: Path) -> None:
        self.made = History(path)
        self.root = self.made.commit()
        self.commits = [self.root]
        one = two = self.root
        for turn in range(20):
            one = self._add(one)
            two = self._add(two)
            if turn % 2:
                one = self._add(one, two)
            else:
                two = self._add(two, one)
        self.one, self.two = one, two

    def _add(self, *parents: ObjectID) -> ObjectID:
        sha = self.made.commit(*parents)
        self.commits.append(sha)
        return sha


@pytest.fixture(scope="module")
def braided(tmp_path_factory: pytest.TempPathFactory) -> Braided:
    return Braided(tmp_path_factory.mktemp("braided") / "repo.git")


def test_every_commit_carries_the_same_second(braided: Braided) -> None:
    store = braided.made.repo.object_store
    times = set()
    for sha in braided.commits:
        commit = store[sha]
        assert isinstance(commit, Commit)
        times.add(commit.commit_time)
    assert times == {SECOND}
    assert len(braided.commits) == 1 + 20 * 3


def test_is_ancestor_agrees_with_a_plain_walk_for_every_pair(braided: Braided) -> None:
    graph = ancestry(braided.made.repo)
    histories = {sha: braided.made.history(sha) for sha in braided.commits}
    for one, two in itertools.product(braided.commits, repeat=2):
        assert graph.is_ancestor(one, two) == (one in histories[two]), (one, two)


def best_common(
    histories: dict[ObjectID, set[ObjectID]], one: ObjectID, two: ObjectID
) -> set[ObjectID]:
    """The merge bases by definition: the common history, less what is in the history of
    another commit of it (``histories``: each commit's history, itself included)."""
    common = histories[one] & histories[two]
    return {c for c in common if not any(o != c and c in histories[o] for o in common)}


def test_merge_bases_agree_with_a_plain_walk(braided: Braided) -> None:
    made = braided.made
    graph = ancestry(made.repo)
    one = made.repo.object_store[braided.one]
    assert isinstance(one, Commit)
    before_merge, two = one.parents  # each line's newest save before the last merge
    assert not graph.is_ancestor(before_merge, two)
    assert not graph.is_ancestor(two, before_merge)
    histories = {sha: made.history(sha) for sha in braided.commits}
    bases = graph.merge_bases(before_merge, two)
    assert len(bases) == 1 and set(bases) == best_common(histories, before_merge, two)
    for first, second in itertools.product(braided.commits[-12:], repeat=2):
        assert set(graph.merge_bases(first, second)) == best_common(histories, first, second)


def test_a_merge_whose_first_parent_is_old_has_its_second_in_its_history(
    tmp_path: Path,
) -> None:
    """Four saves in one second: dulwich (``can_fast_forward``, ``find_merge_base``) says
    ``newest`` is not in ``merged``'s history, though it is its parent; a sync then made
    a merge save nobody needed."""
    made = History(tmp_path / "repo.git")
    root = made.commit()
    older = made.commit(root)
    newest = made.commit(older)
    merged = made.commit(root, newest)
    graph = ancestry(made.repo)
    assert graph.is_ancestor(newest, merged)
    assert graph.merge_bases(newest, merged) == [newest]
    assert not graph.is_ancestor(merged, newest)


@settings(max_examples=150, deadline=None)
@given(shape=st.lists(st.lists(st.integers(min_value=0), max_size=3), min_size=1, max_size=14))
def test_random_histories_in_one_second_agree_with_a_plain_walk(shape: list[list[int]]) -> None:
    """Any history (each commit's parents drawn from the earlier ones), every pair."""
    made = History(None)
    commits: list[ObjectID] = []
    for picks in shape:
        parents = dict.fromkeys(commits[p % len(commits)] for p in picks) if commits else {}
        commits.append(made.commit(*parents))
    graph = ancestry(made.repo)
    histories = {sha: made.history(sha) for sha in commits}
    for one, two in itertools.product(commits, repeat=2):
        assert graph.is_ancestor(one, two) == (one in histories[two])
        assert set(graph.merge_bases(one, two)) == best_common(histories, one, two)


def test_criss_cross_merges_have_two_bases_newest_first(tmp_path: Path) -> None:
    made = History(tmp_path / "repo.git")
    root = made.commit()
    one = made.commit(root)
    two = made.commit(root)
    one_merged = made.commit(one, two)
    two_merged = made.commit(two, one)
    newer = made.commit(one_merged)
    graph = ancestry(made.repo)
    assert sorted(graph.merge_bases(one_merged, two_merged)) == sorted([one, two])
    assert sorted(graph.merge_bases(newer, two_merged)) == sorted([one, two])
    # With a base that is newer (by generation) than the other, it comes first.
    three = made.commit(two)
    late = made.commit(three, one)
    other = made.commit(one, three)
    assert graph.merge_bases(late, other) == [three, one]
    unrelated = made.commit()
    assert graph.merge_bases(unrelated, newer) == []


def test_a_commit_is_its_own_ancestor_and_base(braided: Braided) -> None:
    graph = ancestry(braided.made.repo)
    for sha in (braided.root, braided.commits[17], braided.one):
        assert graph.is_ancestor(sha, sha)
        assert graph.merge_bases(sha, sha) == [sha]
    assert graph.merge_bases(braided.root, braided.one) == [braided.root]
    assert graph.merge_bases(braided.one, braided.root) == [braided.root]


def test_an_unknown_id_has_no_history(braided: Braided) -> None:
    graph = ancestry(braided.made.repo)
    unknown = ObjectID(b"1" * 40)
    assert graph.parents(unknown) == ()
    assert graph.generation(unknown) == 1
    assert not graph.is_ancestor(unknown, braided.one)
    assert not graph.is_ancestor(braided.root, unknown)
    assert graph.merge_bases(unknown, braided.one) == []
    assert graph.boundary(braided.two, [unknown]) == []
    assert graph.generation(braided.root) == 1
    assert graph.generation(braided.one) == 1 + 20 * 2  # a save and a merge a turn


def test_the_ancestry_of_a_repository_is_remembered(braided: Braided, tmp_path: Path) -> None:
    graph = ancestry(braided.made.repo)
    assert ancestry(braided.made.repo) is graph
    assert ancestry(Repo.init_bare(str(tmp_path / "other.git"), mkdir=True)) is not graph


def test_the_boundary_is_what_new_saves_build_on(tmp_path: Path) -> None:
    made = History(tmp_path / "repo.git")
    root = made.commit()
    known_one = made.commit(root)
    known_two = made.commit(known_one)
    new_one = made.commit(known_one)
    new_two = made.commit(new_one)
    merged = made.commit(new_two, known_two)
    graph = ancestry(made.repo)
    assert graph.boundary(merged, [known_two]) == sorted([known_one, known_two])
    assert graph.boundary(new_two, [known_two]) == [known_one]
    assert graph.boundary(new_two, [root]) == [root]
    assert graph.boundary(merged, [new_one, known_one]) == sorted([new_one, known_one])
    # Nothing new: the commit is known, or in a known history.
    assert graph.boundary(known_two, [known_two]) == []
    assert graph.boundary(known_one, [merged]) == []
    # Nothing known: no history to build on.
    assert graph.boundary(merged, []) == []


def test_the_boundary_in_a_braided_history_matches_a_plain_walk(braided: Braided) -> None:
    made = braided.made
    graph = ancestry(made.repo)
    store = made.repo.object_store
    cases = [
        (braided.one, [braided.two]),
        (braided.two, [braided.commits[40]]),
        (braided.one, [braided.commits[20], braided.commits[22]]),
        (braided.commits[50], [braided.root]),
    ]
    for new, known in cases:
        known_history: set[ObjectID] = set().union(*(made.history(sha) for sha in known))
        only_new = made.history(new) - known_history
        expected: set[ObjectID] = set()
        for sha in only_new:
            commit = store[sha]
            assert isinstance(commit, Commit)
            expected.update(p for p in commit.parents if p in known_history)
        assert expected
        assert graph.boundary(new, known) == sorted(expected), (new, known)

"""Sync state per shared project: kept by the sync engine, and recomputed from the
remote-tracking refs when the cache is rebuilt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dulwich.objects import ObjectID
from dulwich.refs import Ref

from gitwrite import remotes
from gitwrite.project import Project
from gitwrite_desktop.core.cache import Cache
from gitwrite_desktop.core.syncstate import SyncStates, needs_push, read
from gitwrite_desktop.core.workspace import Share
from tests.builders import make_project, write


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    made = Cache.open(tmp_path / "data")
    yield made
    made.close()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with make_project(tmp_path / "novel", {"a.md": "One.\n"}) as made:
        yield made


def test_what_the_sync_engine_records_is_read_back(cache: Cache) -> None:
    states = SyncStates(cache.db)
    assert read(cache.db, "p", "a").last_seq == 0
    states.set_last_seq("p", "a", 17)
    states.set_needs_push("p", "a", True)
    states.record_error("p", "a", "the server is unreachable")
    states.set_server_heads("p", "a", {"refs/heads/main": "1" * 40}, complete=True)
    state = read(cache.db, "p", "a")
    assert (state.last_seq, state.needs_push, state.last_error) == (
        17,
        True,
        "the server is unreachable",
    )
    assert state.last_error_at is not None and state.last_synced_at is None
    assert state.server_heads == {"refs/heads/main": "1" * 40}
    states.record_success("p", "a")
    states.set_server_heads("p", "a", {"refs/tags/draft": "2" * 40}, complete=False)
    state = read(cache.db, "p", "a")
    assert state.last_error is None and state.last_synced_at is not None
    assert set(state.server_heads) == {"refs/heads/main", "refs/tags/draft"}
    assert read(cache.db, "p", "other").server_heads == {}


def _fetched(project: Project, refs: dict[str, ObjectID]) -> dict[str, ObjectID]:
    """As if a fetch had just mirrored the server's refs."""
    remotes.record(project.repo, "origin", {k: v.decode() for k, v in refs.items()}, complete=True)
    return remotes.tracked(project.repo, "origin")


def test_needs_push_is_whether_the_server_lacks_a_local_save(project: Project) -> None:
    head = project.head_id()
    assert head is not None
    assert needs_push(project, {})
    assert not needs_push(project, _fetched(project, {"refs/heads/main": head}))
    write(project, {"a.md": "One. Two.\n"})
    newer = project.save().id.encode()
    assert needs_push(project, remotes.tracked(project.repo, "origin"))
    # The server ahead of us (it has our save and more): nothing to push.
    project.repo.refs.set_if_equals(Ref(b"refs/heads/main"), ObjectID(newer), head)
    assert not needs_push(project, _fetched(project, {"refs/heads/main": ObjectID(newer)}))
    project.milestones.create("first draft")
    assert needs_push(project, remotes.tracked(project.repo, "origin"))


def test_a_rebuild_recomputes_heads_and_needs_push(project: Project, cache: Cache) -> None:
    head = project.head_id()
    assert head is not None
    _fetched(project, {"refs/heads/main": head, "refs/heads/gone-on-server": head})
    states = SyncStates(cache.db)
    states.set_last_seq("p", "a", 99)
    share = Share(project_id="p", account_id="a", repository="novel")
    state = states.rebuild(project, share)
    assert state.server_heads == {
        "refs/heads/main": head.decode(),
        "refs/heads/gone-on-server": head.decode(),
    }
    assert not state.needs_push and state.last_seq == 99
    project.explorations.create("local only")
    assert states.rebuild(project, share).needs_push

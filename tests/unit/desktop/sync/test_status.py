"""The statuses the writer sees, derived from what the engine knows, in one place."""

from __future__ import annotations

from datetime import UTC, datetime

from gitwrite.mergestate import ConflictKind, FileConflict
from gitwrite_desktop.core.sync.status import Link, State, StatusBoard, SyncReport
from gitwrite_desktop.core.sync.treemerge import SyncConflict

ANN, BOB = "acct-ann", "acct-bob"
NOVEL, ESSAY = ("p-novel", ANN), ("p-essay", ANN)
NOW = datetime(2026, 11, 27, tzinfo=UTC)


def conflict(path: str) -> SyncConflict:
    file = FileConflict(
        path, ConflictKind.BOTH_CHANGED, "a", "b", "c", None, False, None, None, None
    )
    return SyncConflict("refs/heads/main", "1" * 40, "2" * 40, "3" * 40, (file,))


def board() -> tuple[StatusBoard, list[SyncReport]]:
    heard: list[SyncReport] = []
    made = StatusBoard(listener=heard.append)
    made.account(ANN, "https://sync.example.org")
    made.share(NOVEL, "novel")
    made.share(ESSAY, "essay")
    return made, heard


def test_no_account_is_offline_and_a_new_one_is_connecting() -> None:
    assert StatusBoard().report().state is State.OFFLINE
    made, _ = board()
    report = made.report()
    assert report.state is State.OFFLINE
    assert report.account(ANN) is not None and report.account(ANN).reason == "connecting"  # type: ignore[union-attr]
    assert {s.state for s in report.shares} == {State.OFFLINE}


def test_online_syncing_online_as_a_round_runs() -> None:
    made, heard = board()
    made.link(ANN, Link.CONNECTED)
    assert made.publish().state is State.ONLINE
    made.activity(NOVEL, busy=False, pending=True)
    report = made.publish()
    assert report.state is State.SYNCING
    assert report.share("p-novel").state is State.SYNCING  # type: ignore[union-attr]
    assert report.share("p-essay").state is State.ONLINE  # type: ignore[union-attr]
    assert report.account(ANN).state is State.SYNCING  # type: ignore[union-attr]
    made.activity(NOVEL, busy=True, pending=False)
    made.publish()
    made.activity(NOVEL, busy=False, pending=False)
    made.synced(NOVEL, NOW, conflicts=())
    assert made.publish().state is State.ONLINE
    assert [r.state for r in heard] == [State.ONLINE, State.SYNCING, State.ONLINE]  # changes only


def test_losing_the_connection_is_offline_with_when_it_retries() -> None:
    made, _ = board()
    made.link(ANN, Link.CONNECTED)
    made.link(ANN, Link.WAITING, "the connection was lost; trying again in 2.0 s", 2.0)
    report = made.report()
    assert report.state is State.OFFLINE
    assert "trying again in 2.0 s" in report.reason
    assert report.account(ANN).retry_in == 2.0  # type: ignore[union-attr]
    assert made.idle() is False


def test_a_conflict_outranks_offline_and_names_the_files() -> None:
    made, _ = board()
    made.link(ANN, Link.CONNECTED)
    made.synced(NOVEL, NOW, conflicts=(conflict("chapter-03.md"),))
    made.link(ANN, Link.WAITING, "offline")
    report = made.report()
    assert report.state is State.CONFLICT
    novel = report.share("p-novel")
    assert novel is not None and novel.state is State.CONFLICT
    assert "chapter-03.md" in novel.reason and novel.conflicts[0].paths == ["chapter-03.md"]
    assert report.share("p-essay").state is State.OFFLINE  # type: ignore[union-attr]
    made.link(ANN, Link.CONNECTED)
    made.synced(NOVEL, NOW, conflicts=())  # resolved and pushed
    assert made.report().state is State.ONLINE


def test_an_error_outranks_everything_and_clears_when_a_round_succeeds() -> None:
    made, _ = board()
    made.link(ANN, Link.CONNECTED)
    made.synced(ESSAY, NOW, conflicts=(conflict("essay.md"),))
    made.error(NOVEL, "the server refused your saves to the main story")
    report = made.report()
    assert report.state is State.ERROR and "refused" in report.reason
    made.synced(NOVEL, NOW, conflicts=())
    assert made.report().state is State.CONFLICT


def test_signed_out_is_an_error_for_the_account_and_its_projects() -> None:
    made, _ = board()
    made.link(ANN, Link.SIGNED_OUT, "you are signed out of https://sync.example.org")
    report = made.report()
    assert report.state is State.ERROR
    assert {s.state for s in report.shares} == {State.ERROR}
    assert "signed out" in report.account(ANN).reason  # type: ignore[union-attr]


def test_waiting_for_the_writer_to_save_or_finish_a_merge_is_syncing() -> None:
    made, _ = board()
    made.link(ANN, Link.CONNECTED)
    made.synced(NOVEL, NOW, conflicts=(), waiting=("chapter-02.md",))
    assert "until you save chapter-02.md" in made.report().share("p-novel").reason  # type: ignore[union-attr]
    made.synced(NOVEL, NOW, conflicts=(), held_by_merge=True)
    novel = made.report().share("p-novel")
    assert novel is not None and novel.state is State.SYNCING and "your merge" in novel.reason
    assert made.idle()  # nothing runs: only the writer can move it on


def test_idle_needs_every_account_connected_and_nothing_running() -> None:
    made, _ = board()
    made.account(BOB, "https://other.example.org")
    made.link(ANN, Link.CONNECTED)
    assert not made.idle()
    made.link(BOB, Link.CONNECTED)
    assert made.idle()
    made.activity(ESSAY, busy=True, pending=False)
    assert not made.idle()
    made.forget_account(ANN)
    assert made.idle() and made.report().share("p-essay") is None

"""Operations through a running desktop core: each on its thread, each reporting what
changed so views refresh only what they show; autosave skips quietly during a merge."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gitwrite.errors import GitWriteError, MergeInProgress, UnsavedChanges
from gitwrite.merging import MergeStatus
from gitwrite.prose import count_words
from gitwrite_desktop.core import operations as ops
from gitwrite_desktop.core.desktop import Desktop
from gitwrite_desktop.core.errors import ProjectInUse, ProjectMissing
from gitwrite_desktop.core.recovery import Lease
from gitwrite_desktop.core.worker import Done
from tests.unit.desktop.conftest import open_new_project

CHAPTERS = {
    "one.md": "# One\n\nThe rain fell on Moscow.\n\nNatasha watched it.\n",
    "two.md": "# Two\n\nPierre said nothing.\n",
}


@pytest.fixture
def novel(desktop: Desktop, tmp_path: Path) -> str:
    return open_new_project(desktop, tmp_path / "novel", CHAPTERS)


def on_thread(desktop: Desktop, operation: ops.Operation[object] | ops.Query[object]) -> str:
    seen: list[str] = []
    finished = threading.Event()

    def record(done: Done[object]) -> None:
        seen.append(threading.current_thread().name)
        finished.set()

    desktop.submit(operation, record)
    assert finished.wait(30)
    return seen[0]


def test_operations_run_on_the_writer_thread_and_queries_on_the_reader(
    desktop: Desktop, novel: str
) -> None:
    assert on_thread(desktop, ops.GetStatus(novel)) == desktop.writer.thread.name
    assert on_thread(desktop, ops.History(novel)) == desktop.writer.thread.name
    assert on_thread(desktop, ops.Search(novel, "rain")) == desktop.reader.thread.name
    assert desktop.writer.thread is not desktop.reader.thread
    assert threading.current_thread() not in (desktop.writer.thread, desktop.reader.thread)


def test_writing_then_saving_reports_files_then_refs(desktop: Desktop, novel: str) -> None:
    written = desktop.call(ops.WriteFiles(novel, {"two.md": "# Two\n\nPierre laughed.\n"}))
    assert written.changes.files == {(novel, "two.md")} and not written.changes.refs
    assert novel in written.changes.index
    found = desktop.call(ops.Search(novel, "laugh")).value
    assert [(h.path, h.line) for h in found.hits] == [("two.md", 3)]

    saved = desktop.call(ops.Save(novel, "Pierre laughs"))
    assert saved.value.summary == "Pierre laughs"
    assert saved.changes.refs == {(novel, "refs/heads/main"), (novel, "HEAD")}
    assert saved.changes.history == {novel} and not saved.changes.files
    (today,) = desktop.call(ops.WordsPerDay(novel)).value
    assert today.saves == 3  # the first save, the chapters, this one
    history = desktop.call(ops.History(novel, page=0, page_size=2)).value
    assert [s.summary for s in history] == ["Pierre laughs", "Add the first chapters"]
    older = desktop.call(ops.History(novel, page=1, page_size=2)).value
    assert [s.summary for s in older] == ["Start the project"]


def test_autosave_saves_only_changes_and_never_fails_for_nothing(
    desktop: Desktop, novel: str
) -> None:
    nothing = desktop.call(ops.Autosave(novel))
    assert nothing.value.save is None and nothing.value.skipped is ops.Skipped.NOTHING_CHANGED
    assert not nothing.changes
    desktop.call(ops.WriteFiles(novel, {"one.md": CHAPTERS["one.md"] + "\nMore rain.\n"}))
    saved = desktop.call(ops.Autosave(novel))
    assert saved.value.save is not None and saved.value.save.words_added == 2
    assert (novel, "refs/heads/main") in saved.changes.refs


def test_autosave_skips_quietly_during_a_merge(desktop: Desktop, novel: str) -> None:
    desktop.call(ops.CreateExploration(novel, "wetter", switch=True))
    desktop.call(ops.WriteFiles(novel, {"one.md": CHAPTERS["one.md"].replace("rain", "storm")}))
    desktop.call(ops.Save(novel))
    desktop.call(ops.Switch(novel, "main story"))
    desktop.call(ops.WriteFiles(novel, {"one.md": CHAPTERS["one.md"].replace("rain", "snow")}))
    desktop.call(ops.Save(novel))

    merged = desktop.call(ops.Merge(novel, "wetter"))
    assert merged.value.status is MergeStatus.CONFLICTS
    assert merged.changes.merge == {novel} and (novel, "one.md") in merged.changes.files
    head = desktop.call(ops.History(novel, page_size=1)).value[0].id

    desktop.call(ops.WriteFiles(novel, {"two.md": "# Two\n\nPierre typed during the merge.\n"}))
    skipped = desktop.call(ops.Autosave(novel))
    assert skipped.value == ops.AutosaveResult(None, ops.Skipped.MERGE_IN_PROGRESS)
    assert desktop.call(ops.History(novel, page_size=1)).value[0].id == head
    with pytest.raises(MergeInProgress):  # a save the writer asks for is refused, saying why
        desktop.call(ops.Save(novel))

    state = desktop.call(ops.GetMergeState(novel)).value
    assert state is not None and state.paths == ["one.md"]
    done = desktop.call(ops.CompleteMerge(novel, {"one.md": "# One\n\nThe sleet fell.\n"}))
    assert len(done.value.parents) == 2 and done.changes.merge == {novel}
    assert desktop.call(ops.Autosave(novel)).value.skipped is ops.Skipped.NOTHING_CHANGED


def test_aborting_a_merge_reports_the_files_put_back(desktop: Desktop, novel: str) -> None:
    desktop.call(ops.CreateExploration(novel, "alt", switch=True))
    desktop.call(ops.WriteFiles(novel, {"two.md": "# Two\n\nPierre wept.\n"}))
    desktop.call(ops.Save(novel))
    desktop.call(ops.Switch(novel, "main"))
    desktop.call(ops.WriteFiles(novel, {"two.md": "# Two\n\nPierre sang.\n"}))
    desktop.call(ops.Save(novel))
    desktop.call(ops.Merge(novel, "alt"))
    aborted = desktop.call(ops.AbortMerge(novel))
    assert aborted.changes.merge == {novel} and aborted.changes.files == {(novel, "two.md")}
    assert desktop.call(ops.ReadFile(novel, "two.md")).value == "# Two\n\nPierre sang.\n"


def test_switching_reports_head_and_the_files_that_differ(desktop: Desktop, novel: str) -> None:
    made = desktop.call(ops.CreateExploration(novel, "darker ending"))
    assert made.changes.refs == {(novel, "refs/heads/darker-ending")}
    switched = desktop.call(ops.Switch(novel, "darker ending"))
    assert switched.changes.refs == {(novel, "HEAD")} and not switched.changes.files
    desktop.call(ops.WriteFiles(novel, {"two.md": "# Two\n\nPierre died.\n"}))
    desktop.call(ops.Save(novel))
    back = desktop.call(ops.Switch(novel, "main story"))
    assert back.changes.files == {(novel, "two.md")}
    assert [e.name for e in desktop.call(ops.ListExplorations(novel)).value] == [
        "main story",
        "darker ending",
    ]


def test_refusals_arrive_as_errors_for_the_writer(desktop: Desktop, novel: str) -> None:
    desktop.call(ops.CreateExploration(novel, "alt"))
    desktop.call(ops.WriteFiles(novel, {"one.md": "unsaved\n"}))
    failures: list[GitWriteError] = []
    cancels: list[int] = []
    handle = desktop.submit(
        ops.Switch(novel, "alt"),
        on_failure=failures.append,
        on_cancel=lambda: cancels.append(1),
    )
    assert handle.wait(30)
    assert [type(e) for e in failures] == [UnsavedChanges] and cancels == []
    assert "one.md" in str(failures[0])


def test_milestones_restore_and_undo(desktop: Desktop, novel: str) -> None:
    first = desktop.call(ops.History(novel, page_size=1)).value[0]
    milestone = desktop.call(ops.CreateMilestone(novel, "first draft", "for Anna"))
    assert milestone.changes.refs == {(novel, "refs/tags/first-draft")}
    assert [m.name for m in desktop.call(ops.ListMilestones(novel)).value] == ["first draft"]
    desktop.call(ops.WriteFiles(novel, {"two.md": "# Two\n\nGone.\n"}))
    cut = desktop.call(ops.Save(novel)).value
    undone = desktop.call(ops.UndoSave(novel, cut.id))
    assert undone.changes.files == {(novel, "two.md")}
    assert desktop.call(ops.ReadFile(novel, "two.md")).value == CHAPTERS["two.md"]
    desktop.call(ops.WriteFiles(novel, {"one.md": "# One\n\nShort.\n"}))
    desktop.call(ops.Save(novel))
    restored = desktop.call(ops.Restore(novel, "first draft", ("one.md",)))
    assert restored.changes.files == {(novel, "one.md")}
    compared = desktop.call(ops.Compare(novel, first.id, "first draft")).value
    assert compared == []


def test_annotations_report_their_ids_and_show_in_the_index(desktop: Desktop, novel: str) -> None:
    text = CHAPTERS["one.md"]
    start = text.index("rain")
    made = desktop.call(
        ops.Annotate(
            novel, "one.md", start, start + 4, kind="suggestion", body="", suggestion="snow"
        )
    )
    note = made.value
    assert made.changes.annotations == {(novel, note.id)}
    assert made.changes.refs == {(novel, "refs/gitwrite/annotations")}
    reply = desktop.call(ops.Reply(novel, note.id, "Colder?"))
    assert reply.changes.annotations == {(novel, reply.value.id)}
    (listed,) = desktop.call(ops.AnnotationThreads(novel, path="one.md")).value
    assert (listed.id, listed.replies, listed.start) == (note.id, 1, start)
    anchors = desktop.call(ops.AnchorAnnotations(novel, "one.md")).value
    assert [(a.found, a.range.start if a.range else None) for a in anchors] == [(True, start)]

    applied = desktop.call(ops.ApplySuggestion(novel, note.id))
    assert (novel, "one.md") in applied.changes.files
    assert (novel, note.id) in applied.changes.annotations
    assert {(novel, "refs/heads/main"), (novel, "refs/gitwrite/annotations")} <= (
        applied.changes.refs
    )
    assert "snow fell" in desktop.call(ops.ReadFile(novel, "one.md")).value
    (accepted,) = desktop.call(ops.AnnotationThreads(novel, status="accepted")).value
    assert accepted.id == note.id
    thread = desktop.call(ops.AnnotationThread(novel, reply.value.id)).value
    assert [a.id for a in thread] == [note.id, reply.value.id]
    status = desktop.call(ops.SetStatus(novel, note.id, "resolved"))
    # The thread's status is its replies' too: both rows changed.
    assert status.changes.annotations == {(novel, note.id), (novel, reply.value.id)}


def test_sync_state_is_written_by_operations_and_read_by_queries(
    desktop: Desktop, novel: str
) -> None:
    account = desktop.call(ops.AddAccount("https://sync.example.org", "ann@example.org")).value
    desktop.call(ops.ShareProject(novel, account.id, "novel"))
    recorded = desktop.call(
        ops.RecordSync(novel, account.id, last_seq=12, server_heads={"refs/heads/main": "a" * 40})
    )
    assert recorded.changes.sync == {novel}
    desktop.call(ops.RecordSync(novel, account.id, error="offline"))
    state = desktop.call(ops.GetSyncState(novel, account.id)).value
    assert (state.last_seq, state.server_heads, state.last_error) == (
        12,
        {"refs/heads/main": "a" * 40},
        "offline",
    )
    desktop.call(ops.RecordSync(novel, account.id, succeeded=True, needs_push=False))
    assert desktop.call(ops.GetSyncState(novel, account.id)).value.last_error is None


def test_file_words_for_the_file_tree(desktop: Desktop, novel: str) -> None:
    words = desktop.call(ops.FileWords(novel)).value
    assert words == {p: count_words(t) for p, t in CHAPTERS.items()}  # .gitignore is hidden
    assert words["one.md"] == 9


def test_a_vanished_project_is_reported_and_can_be_relocated_or_forgotten(
    desktop: Desktop, novel: str, tmp_path: Path
) -> None:
    desktop.call(ops.CloseProject(novel))
    (tmp_path / "novel").rename(tmp_path / "elsewhere")
    (where,) = desktop.call(ops.ListProjects()).value
    assert not where.available and where.entry.id == novel
    with pytest.raises(ProjectMissing):
        desktop.call(ops.OpenProject(novel))
    with pytest.raises(ProjectMissing):
        desktop.call(ops.GetStatus(novel))
    moved = desktop.call(ops.RelocateProject(novel, tmp_path / "elsewhere"))
    assert moved.changes.workspace and moved.value.path == str(tmp_path / "elsewhere")
    assert desktop.call(ops.Search(novel, "Moscow")).value.total == 1
    forgotten = desktop.call(ops.ForgetProject(novel))
    assert forgotten.changes.workspace
    assert desktop.call(ops.ListProjects()).value == []
    assert desktop.call(ops.Search(novel, "Moscow")).value.total == 0
    assert (tmp_path / "elsewhere" / "one.md").is_file()


def test_a_rebuild_reports_progress_and_refills_everything(
    desktop: Desktop, novel: str, tmp_path: Path
) -> None:
    other = open_new_project(desktop, tmp_path / "other", {"x.md": "Moscow again.\n"})
    desktop.call(ops.CloseProject(other))
    progress: list[tuple[int, int]] = []
    rebuilt = desktop.call(ops.Rebuild(lambda done, total: progress.append((done, total))))
    assert progress == [(1, 2), (2, 2)]
    assert rebuilt.changes.workspace and rebuilt.changes.index == {novel, other}
    assert desktop.call(ops.Search(novel, "Moscow")).value.total == 1
    assert desktop.call(ops.Search(other, "Moscow")).value.total == 1
    assert desktop.call(ops.WordsPerDay()).value[0].saves == 4
    # A project opened only to be indexed is closed again (its lease released).
    with Lease(tmp_path / "other"):
        pass
    with pytest.raises(ProjectInUse):
        Lease(tmp_path / "novel").acquire()


def test_every_operation_and_query_is_exported() -> None:
    import inspect

    from gitwrite_desktop.core.operations import (
        _annotations,
        _cache,
        _explorations,
        _saving,
        _workspace,
    )

    defined = {
        name
        for module in (_annotations, _cache, _explorations, _saving, _workspace)
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    }
    assert defined <= set(ops.__all__)
    assert all(hasattr(ops, name) for name in ops.__all__)
    assert sorted(ops.__all__) == ops.__all__

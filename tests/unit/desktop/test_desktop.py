"""Starting the desktop core: a new, corrupt or upgraded cache is rebuilt from the
repositories, and a lost workspace file is refilled from the cache's mirror."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitwrite.errors import GitWriteError
from gitwrite_desktop.core import operations as ops
from gitwrite_desktop.core.cache import FILE_NAME
from gitwrite_desktop.core.desktop import Desktop
from gitwrite_desktop.core.errors import ProjectInUse, WorkspaceInUse
from gitwrite_desktop.core.workspace import FILE_NAME as WORKSPACE_FILE
from tests.unit.desktop.conftest import GRACE, open_new_project
from tests.unit.desktop.fixtures.make_cache_fixtures import HERE as FIXTURES


def fill(core: Desktop, tmp_path: Path) -> str:
    project = open_new_project(core, tmp_path / "novel", {"a.md": "Natasha sang.\n"})
    core.call(ops.Annotate(project, "a.md", 0, 7, kind="comment", body="Who?"))
    account = core.call(ops.AddAccount("https://sync.example.org", "ann@example.org")).value
    core.call(ops.ShareProject(project, account.id, "novel"))
    return project


def snapshot(core: Desktop, project: str) -> tuple[object, ...]:
    return (
        core.call(ops.Search(project, "Nata")).value.total,
        [d.saves for d in core.call(ops.WordsPerDay(project)).value],
        [a.body for a in core.call(ops.AnnotationThreads(project)).value],
        [(e.entry.name, e.available) for e in core.call(ops.ListProjects()).value],
    )


def test_a_corrupt_cache_is_moved_aside_and_rebuilt_at_start(
    data_dir: Path, tmp_path: Path
) -> None:
    core = Desktop(data_dir, grace=GRACE)
    started: list[bool] = []
    assert core.start(lambda done: started.append(done.value)).wait(60)
    project = fill(core, tmp_path)
    before = snapshot(core, project)
    assert before == (1, [2], ["Who?"], [("novel", True)])
    core.stop()

    (data_dir / FILE_NAME).write_bytes(b"\x00garbage" * 4096)
    again = Desktop(data_dir, grace=GRACE)
    assert again.start(lambda done: started.append(done.value)).wait(60)
    assert started == [True, True]  # both starts rebuilt: a new file, then a replaced one
    assert snapshot(again, project) == before
    assert any(p.name.startswith(f"{FILE_NAME}.corrupt-") for p in data_dir.iterdir())
    again.stop()

    third = Desktop(data_dir, grace=GRACE)
    assert third.start(lambda done: started.append(done.value)).wait(60)
    assert started[-1] is False  # a healthy cache is kept as it is
    third.stop()


def test_an_upgraded_cache_is_rebuilt_at_start(data_dir: Path) -> None:
    data_dir.mkdir()
    shutil.copy(FIXTURES / "cache-v1.sqlite3", data_dir / FILE_NAME)
    core = Desktop(data_dir, grace=GRACE)
    started: list[bool] = []
    assert core.start(lambda done: started.append(done.value)).wait(60)
    assert started == [True]
    # The fixture's project is not in this (empty) workspace: the mirror dropped it.
    assert core.call(ops.ListProjects()).value == []
    core.stop()


def test_a_lost_workspace_file_is_refilled_from_the_cache(data_dir: Path, tmp_path: Path) -> None:
    core = Desktop(data_dir, grace=GRACE)
    assert core.start().wait(60)
    project = fill(core, tmp_path)
    before = snapshot(core, project)
    core.stop()
    (data_dir / WORKSPACE_FILE).write_text("{ truncated", encoding="utf-8")
    again = Desktop(data_dir, grace=GRACE)
    assert again.start().wait(60)
    assert snapshot(again, project) == before
    (entry,) = again.call(ops.ListProjects()).value
    assert entry.entry.id == project
    again.stop()


def test_one_running_core_per_workspace(data_dir: Path) -> None:
    first = Desktop(data_dir, grace=GRACE)
    assert first.start().wait(60)
    second = Desktop(data_dir, grace=GRACE)
    failures: list[GitWriteError] = []
    assert second.start(on_failure=failures.append).wait(60)
    assert [type(e) for e in failures] == [WorkspaceInUse]
    with pytest.raises(WorkspaceInUse):
        second.call(ops.ListProjects())
    second.stop()
    first.stop()
    third = Desktop(data_dir, grace=GRACE)
    assert third.start().wait(60)
    third.call(ops.ListProjects())
    third.stop()


def test_a_project_open_in_another_workspace_is_refused(tmp_path: Path) -> None:
    first = Desktop(tmp_path / "one", grace=GRACE)
    second = Desktop(tmp_path / "two", grace=GRACE)
    for core in (first, second):
        assert core.start().wait(60)
    project = open_new_project(first, tmp_path / "novel")
    other = second.call(ops.AddProject(tmp_path / "novel")).value.id
    with pytest.raises(ProjectInUse):
        second.call(ops.OpenProject(other))
    first.call(ops.CloseProject(project))
    second.call(ops.OpenProject(other))
    first.stop()
    second.stop()

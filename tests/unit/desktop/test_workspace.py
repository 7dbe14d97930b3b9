"""The workspace record: projects (add, create, open, forget, moved or vanished) and
accounts with their shares, in ``workspace.json``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitwrite.errors import NotAProject, ProjectExists
from gitwrite_desktop.core.errors import (
    InvalidAccount,
    ProjectMissing,
    UnknownAccount,
    UnknownProject,
    WorkspaceError,
)
from gitwrite_desktop.core.workspace import FILE_NAME, FORMAT, ProjectState, Workspace
from tests.builders import make_project


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "data")


def test_create_and_add_projects_keep_absolute_paths_and_survive_a_reload(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = workspace.create_project(tmp_path / "novel", "My Novel")
    assert Path(made.path).is_absolute() and (Path(made.path) / ".git").is_dir()
    make_project(tmp_path / "other").close()
    monkeypatch.chdir(tmp_path)
    added = workspace.add_project("other")  # relative to the cwd now, absolute when kept
    assert added.path == str((tmp_path / "other").resolve())
    assert added.name == "other"

    again = Workspace(workspace.folder)
    assert {p.id for p in again.projects()} == {made.id, added.id}
    assert again.project(made.id).name == "My Novel"


def test_adding_a_folder_twice_gives_the_same_entry(workspace: Workspace, tmp_path: Path) -> None:
    make_project(tmp_path / "novel").close()
    first = workspace.add_project(tmp_path / "novel")
    assert workspace.add_project(tmp_path / "novel" / ".." / "novel") == first
    assert len(workspace.projects()) == 1


def test_only_projects_can_be_added_or_created_once(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotAProject):
        workspace.add_project(tmp_path / "plain")
    workspace.create_project(tmp_path / "novel")
    with pytest.raises(ProjectExists):
        workspace.create_project(tmp_path / "novel")
    assert len(workspace.projects()) == 1


def test_last_opened_comes_first(workspace: Workspace, tmp_path: Path) -> None:
    a = workspace.create_project(tmp_path / "a")
    b = workspace.create_project(tmp_path / "b")
    assert workspace.last_opened() is None
    workspace.opened(b.id)
    workspace.opened(a.id)
    assert workspace.last_opened() is not None
    assert workspace.last_opened().id == a.id  # type: ignore[union-attr]
    assert [p.id for p in workspace.projects()] == [a.id, b.id]


def test_a_moved_or_vanished_project_is_reported_not_crashed_on(
    workspace: Workspace, tmp_path: Path
) -> None:
    entry = workspace.create_project(tmp_path / "novel")
    shutil.move(tmp_path / "novel", tmp_path / "moved")
    (where,) = workspace.locations()
    assert where.state is ProjectState.MISSING and not where.available
    with pytest.raises(ProjectMissing) as caught:
        workspace.require_available(entry.id)
    assert caught.value.path == entry.path

    relocated = workspace.relocate(entry.id, tmp_path / "moved")
    assert relocated.id == entry.id and workspace.locate(entry.id).available

    shutil.rmtree(tmp_path / "moved" / ".git")
    assert workspace.locate(entry.id).state is ProjectState.NOT_A_PROJECT


def test_forgetting_a_project_leaves_its_folder_and_drops_its_shares(
    workspace: Workspace, tmp_path: Path
) -> None:
    entry = workspace.create_project(tmp_path / "novel")
    account = workspace.add_account("https://sync.example.org", "ann@example.org", "Ann")
    workspace.share(entry.id, account.id, "novel")
    workspace.forget_project(entry.id)
    assert workspace.projects() == [] and workspace.shares() == []
    assert (tmp_path / "novel" / ".git").is_dir()
    with pytest.raises(UnknownProject):
        workspace.project(entry.id)


def test_accounts_are_one_per_server_and_email(workspace: Workspace) -> None:
    first = workspace.add_account("HTTPS://Sync.Example.org/", "Ann@example.org", "Ann")
    assert first.server_url == "https://sync.example.org"
    again = workspace.add_account("https://sync.example.org", "ann@example.org", "Ann K.")
    assert again.id == first.id and again.display_name == "Ann K."
    other = workspace.add_account("https://sync.example.org", "bob@example.org")
    assert other.display_name == "bob@example.org"
    assert len(workspace.accounts()) == 2
    for url in ("ftp://x", "sync.example.org", ""):
        with pytest.raises(InvalidAccount):
            workspace.add_account(url, "ann@example.org")
    with pytest.raises(InvalidAccount):
        workspace.add_account("https://x.org", "not an email")


def test_shares_name_the_repository_and_remote(workspace: Workspace, tmp_path: Path) -> None:
    entry = workspace.create_project(tmp_path / "novel")
    home = workspace.add_account("https://home.example.org", "ann@example.org")
    work = workspace.add_account("https://work.example.org", "ann@example.org")
    share = workspace.share(entry.id, home.id, "  my-novel ")
    assert (share.repository, share.remote) == ("my-novel", "origin")
    with pytest.raises(WorkspaceError):
        workspace.share(entry.id, work.id, "novel")  # "origin" already names the home server
    workspace.share(entry.id, work.id, "novel", remote="work")
    assert len(workspace.shares(entry.id)) == 2
    workspace.remove_account(home.id)
    assert [s.account_id for s in workspace.shares()] == [work.id]
    with pytest.raises(UnknownAccount):
        workspace.share(entry.id, home.id, "novel")


def test_the_file_is_json_written_atomically(workspace: Workspace, tmp_path: Path) -> None:
    workspace.create_project(tmp_path / "novel")
    raw = json.loads((workspace.folder / FILE_NAME).read_text(encoding="utf-8"))
    assert raw["format"] == FORMAT and raw["projects"][0]["name"] == "novel"
    assert [p.name for p in workspace.folder.iterdir()] == [FILE_NAME]  # no temporary left


def test_a_corrupt_file_is_moved_aside_and_an_empty_workspace_starts(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / FILE_NAME).write_text('{"format": 1, "projects": [{"id": 3', encoding="utf-8")
    workspace = Workspace(folder)
    assert workspace.projects() == []
    assert workspace.recovered_from is not None and workspace.recovered_from.exists()
    assert workspace.recovered_from.name.startswith(f"{FILE_NAME}.corrupt-")


def test_a_file_from_a_newer_gitwrite_is_never_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    newer = json.dumps({"format": FORMAT + 1, "projects": [], "shelves": []})
    (folder / FILE_NAME).write_text(newer, encoding="utf-8")
    with pytest.raises(WorkspaceError, match="newer GitWrite"):
        Workspace(folder)
    assert (folder / FILE_NAME).read_text(encoding="utf-8") == newer

"""Fixtures for the desktop core: app data folders, a running `Desktop`, real projects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitwrite_desktop.core.desktop import Desktop
from gitwrite_desktop.core.operations import AddProject, OpenProject
from tests.builders import Spec, make_project

GRACE = 0.05
"""Seconds a leftover lock file must be old before recovery removes it (short in tests)."""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "app-data"


@pytest.fixture
def desktop(data_dir: Path) -> Iterator[Desktop]:
    """A started desktop core over an empty workspace; stopped after the test."""
    core = Desktop(data_dir, grace=GRACE)
    assert core.start().wait(60)
    yield core
    core.stop()


def open_new_project(core: Desktop, root: Path, files: Spec | None = None) -> str:
    """Make a real project at ``root``, add it to the workspace, open it; its id."""
    make_project(root, files).close()
    project_id = core.call(AddProject(root)).value.id
    core.call(OpenProject(project_id))
    return project_id

"""Test-wide set-up: a scrubbed environment so no developer's git config or HOME leaks in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Database fixtures (PostgreSQL server, fresh migrated databases per test): see that module.
pytest_plugins = ["tests.integration.databases"]

_AUTHOR = {
    "GIT_AUTHOR_NAME": "Test Writer",
    "GIT_AUTHOR_EMAIL": "writer@example.com",
    "GIT_COMMITTER_NAME": "Test Writer",
    "GIT_COMMITTER_EMAIL": "writer@example.com",
}


@pytest.fixture(autouse=True)
def scrubbed_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOME is an empty folder; every GIT_* variable is removed, then a fixed identity set."""
    saved = dict(os.environ)
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith("GIT_") or key in {"XDG_CONFIG_HOME", "EMAIL"}:
            del os.environ[key]
    os.environ["HOME"] = str(home)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    os.environ["GIT_CONFIG_GLOBAL"] = os.devnull
    os.environ.update(_AUTHOR)
    try:
        yield home
    finally:
        os.environ.clear()
        os.environ.update(saved)

"""Running the real git command-line tool against a project, with a scrubbed environment."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

GIT = shutil.which("git")


def git(root: Path, *args: str, check: bool = True) -> str:
    """Run ``git args`` in ``root`` and return its standard output."""
    assert GIT is not None, "the git command-line tool is required for compat tests"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="Git User",
        GIT_AUTHOR_EMAIL="git@example.com",
        GIT_COMMITTER_NAME="Git User",
        GIT_COMMITTER_EMAIL="git@example.com",
        LC_ALL="C",
    )
    result = subprocess.run(
        [GIT, "-C", str(root), *args], env=env, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def fsck(root: Path) -> None:
    """Assert ``git fsck --strict`` finds nothing wrong (dangling objects are allowed)."""
    out = git(root, "fsck", "--strict", "--no-dangling")
    assert out.strip() == "", out

"""Owning a project while it is open, and recovering from a GitWrite that was killed.

Every write of the engine leaves the repository valid at every instant (objects, then
the ref by compare-and-swap, then the index), so a process killed in the middle of a
save loses at most that save. What it can leave behind are git's lock files: a killed
save was measured to leave ``refs/heads/main.lock`` (every later save then fails),
``index.lock``, or a half-written ``objects/xx/<id>.lock`` (which ``git fsck`` reports
as a bad object file), and the engine's own ``*.gitwrite-tmp`` files.

While a GitWrite process has a project open it holds a *lease*: an exclusive advisory
lock (``flock``) on ``.git/gitwrite-desktop.lease``, which the kernel releases whatever
way the process ends, SIGKILL included. Opening a project takes the lease first (refused
with `ProjectInUse` when another GitWrite holds it), then removes leftover lock and
temporary files. A lock file could also belong to a command-line git running right
now, which holds its locks for milliseconds: only files that have existed for
``grace`` seconds (waiting for that long at most) are removed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import IO

from gitwrite_desktop.core.errors import DiskError, ProjectInUse, WorkspaceInUse

log = logging.getLogger(__name__)

LEASE_NAME = "gitwrite-desktop.lease"
WORKSPACE_LEASE_NAME = "workspace.lease"
GRACE_SECONDS = 2.0
_TMP_SUFFIX = ".gitwrite-tmp"


class Lease:
    """The exclusive right of this process to write a project (see the module doc), or
    with `for_workspace`, to run with an app data folder (one GitWrite per workspace)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / ".git" / LEASE_NAME
        self._file: IO[bytes] | None = None

    @classmethod
    def for_workspace(cls, folder: Path) -> Lease:
        lease = cls(folder)
        lease.path = folder / WORKSPACE_LEASE_NAME
        return lease

    def acquire(self) -> Lease:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+b")  # noqa: SIM115 (held until release)
        except OSError as exc:
            raise DiskError(str(self.path), exc.strerror or str(exc)) from exc
        try:
            _lock(handle)
        except OSError:
            handle.close()
            if self.path.name == WORKSPACE_LEASE_NAME:
                raise WorkspaceInUse(str(self.root)) from None
            raise ProjectInUse(str(self.root)) from None
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                _unlock(self._file)
            self._file.close()
            self._file = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def __enter__(self) -> Lease:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def leftovers(root: Path) -> list[Path]:
    """Lock and temporary files a killed writer may have left in a project."""
    found: list[Path] = []
    controldir = root / ".git"
    for folder, _dirs, filenames in os.walk(controldir):
        for name in filenames:
            if name.endswith((".lock", _TMP_SUFFIX)):
                found.append(Path(folder, name))
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not (folder == str(root) and d == ".git")]
        for name in filenames:
            # Project.write_files writes ".<name>.gitwrite-tmp" beside the file, then renames.
            if name.startswith(".") and name.endswith(_TMP_SUFFIX):
                found.append(Path(folder, name))
    return sorted(found)


def recover(lease: Lease, *, grace: float = GRACE_SECONDS) -> list[Path]:
    """Remove what a killed GitWrite left in the project; returns the files removed.

    Needs the lease (so no other GitWrite is writing). Waits at most ``grace`` seconds
    for young lock files to be old enough to be surely abandoned.
    """
    if not lease.held:
        raise RuntimeError("recover() needs the project's lease")
    found = leftovers(lease.root)
    if not found:
        return []
    newest = max((_mtime(p) for p in found), default=0.0)
    wait = newest + grace - time.time()
    if wait > 0:
        time.sleep(min(wait, grace))
    removed = []
    for path in leftovers(lease.root):
        if time.time() - _mtime(path) < grace:
            continue  # appeared meanwhile: someone is at work; the next open sees it
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DiskError(str(path), exc.strerror or str(exc)) from exc
        removed.append(path)
        log.warning("removed %s, left by a GitWrite that stopped while writing", path)
    return removed


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0

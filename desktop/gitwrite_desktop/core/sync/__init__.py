"""The desktop's sync engine: accounts, sharing, cloning and keeping shared projects in
step with their servers (see `gitwrite_desktop.core.sync.engine` and docs/desktop-sync.md).

No Qt here: the UI observes the writer for what changed and ``on_status`` for the status.
"""

from __future__ import annotations

from gitwrite_desktop.core.sync.clone import ClonePhase, Progress
from gitwrite_desktop.core.sync.engine import EngineOptions, SyncEngine
from gitwrite_desktop.core.sync.errors import (
    FolderNotEmpty,
    NothingToResolve,
    RepositoryTaken,
    ServerRefused,
    ServerUnreachable,
    SignedOut,
    SignInRefused,
    SyncProblem,
)
from gitwrite_desktop.core.sync.operations import GetSyncConflicts, ResolveSyncConflict
from gitwrite_desktop.core.sync.status import AccountStatus, ShareStatus, State, SyncReport
from gitwrite_desktop.core.sync.treemerge import SyncConflict

__all__ = [
    "AccountStatus",
    "ClonePhase",
    "EngineOptions",
    "FolderNotEmpty",
    "GetSyncConflicts",
    "NothingToResolve",
    "Progress",
    "RepositoryTaken",
    "ResolveSyncConflict",
    "ServerRefused",
    "ServerUnreachable",
    "ShareStatus",
    "SignInRefused",
    "SignedOut",
    "State",
    "SyncConflict",
    "SyncEngine",
    "SyncProblem",
    "SyncReport",
]

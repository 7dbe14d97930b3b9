"""What the writer can do, as small objects run off the GUI thread (Anki's operations).

An `Operation` runs on the one writer thread (anything touching git, the disk or the
cache's write connection); a `Query` reads the cache on a reader thread. Submit either
through `gitwrite_desktop.core.desktop.Desktop.submit`; success brings a `Done` with
the value and the `Changes`, failure a `GitWriteError` for the writer, cancellation
nothing but ``on_cancel``.
"""

from __future__ import annotations

from gitwrite_desktop.core.operations._annotations import (
    AnchorAnnotations,
    Annotate,
    ApplySuggestion,
    Reply,
    SetStatus,
)
from gitwrite_desktop.core.operations._base import Operation, Query
from gitwrite_desktop.core.operations._cache import (
    AnnotationThread,
    AnnotationThreads,
    FileWords,
    GetSyncState,
    Rebuild,
    RecordSync,
    RefreshProject,
    Search,
    WordsPerDay,
)
from gitwrite_desktop.core.operations._explorations import (
    AbortMerge,
    CompleteMerge,
    CreateExploration,
    CreateMilestone,
    GetMergeState,
    ListExplorations,
    ListMilestones,
    Merge,
    Switch,
)
from gitwrite_desktop.core.operations._saving import (
    Autosave,
    AutosaveResult,
    Compare,
    GetStatus,
    History,
    ReadFile,
    Restore,
    Save,
    Skipped,
    UndoSave,
    WriteFiles,
)
from gitwrite_desktop.core.operations._workspace import (
    AddAccount,
    AddProject,
    CloseProject,
    CreateProject,
    ForgetProject,
    ListProjects,
    OpenProject,
    RelocateProject,
    RemoveAccount,
    RenameProject,
    ShareProject,
    UnshareProject,
)

__all__ = [
    "AbortMerge",
    "AddAccount",
    "AddProject",
    "AnchorAnnotations",
    "Annotate",
    "AnnotationThread",
    "AnnotationThreads",
    "ApplySuggestion",
    "Autosave",
    "AutosaveResult",
    "CloseProject",
    "Compare",
    "CompleteMerge",
    "CreateExploration",
    "CreateMilestone",
    "CreateProject",
    "FileWords",
    "ForgetProject",
    "GetMergeState",
    "GetStatus",
    "GetSyncState",
    "History",
    "ListExplorations",
    "ListMilestones",
    "ListProjects",
    "Merge",
    "OpenProject",
    "Operation",
    "Query",
    "ReadFile",
    "Rebuild",
    "RecordSync",
    "RefreshProject",
    "RelocateProject",
    "RemoveAccount",
    "RenameProject",
    "Reply",
    "Restore",
    "Save",
    "Search",
    "SetStatus",
    "ShareProject",
    "Skipped",
    "Switch",
    "UndoSave",
    "UnshareProject",
    "WordsPerDay",
    "WriteFiles",
]
